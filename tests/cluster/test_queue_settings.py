"""The workspace's `queue:` setting: one setting picks SQLite or JetStream; every mistake is
reported at its place; credentials in a NATS URL are secrets. (No cluster needed.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import destinations
from destinations._runtime.queue_jetstream import InstanceLimits, worker_view
from destinations._runtime.workspace import WorkspaceError, load_workspace

ENV = {"WK": "wk_123", "CK": "ck_abc", "SK": "sk_secret_value", "NATS_PASSWORD": "n4ts-pa55"}

BASE = """\
version: 1
sources:
  web: {write_key: "${WK}"}
destinations:
  clay:
    destination: clay
    concurrency: 6
    settings: {connection_key: "${CK}", secret_key: "${SK}"}
ingest: {dedupe_window_seconds: 3600}
"""


def load(tmp_path: Path, queue: str, env: dict[str, str] = ENV) -> Any:
    path = tmp_path / "workspace.yaml"
    path.write_text(BASE + queue, encoding="utf-8")
    return load_workspace(path, destinations, env)


def errors(tmp_path: Path, queue: str) -> list[str]:
    with pytest.raises(WorkspaceError) as caught:
        load(tmp_path, queue)
    return caught.value.errors


def test_sqlite_is_the_default_and_can_be_named(tmp_path: Path) -> None:
    assert load(tmp_path, "").queue is None
    assert load(tmp_path, "queue: sqlite\n").queue is None


def test_a_list_of_urls_selects_jetstream_with_defaults(tmp_path: Path) -> None:
    queue = load(tmp_path, "queue: [nats://a:4222, nats://b:4222]\n").queue
    assert queue.servers == ("nats://a:4222", "nats://b:4222")
    assert queue.replicas == 2  # one per server listed, at most 3
    assert queue.duplicate_window_seconds == 3600  # the workspace's messageId window
    assert (queue.stream, queue.storage, queue.retention) == ("ACTIONSPEC", "file", "workqueue")
    three = load(tmp_path, "queue: [nats://a, nats://b, nats://c, nats://d]\n").queue
    assert three.replicas == 3


def test_every_option(tmp_path: Path) -> None:
    ws = load(
        tmp_path,
        """\
queue:
  servers: ["nats://delivery:${NATS_PASSWORD}@10.0.0.1:4222"]
  stream: PROD_EVENTS
  replicas: 3
  storage: memory
  retention: limits
  max_age_seconds: 86400
  max_deliveries: 12
  duplicate_window_seconds: 600
  worker_concurrency: 2
  connect_timeout_seconds: 5
""",
    )
    queue = ws.queue
    assert (queue.stream, queue.replicas, queue.storage, queue.retention) == (
        "PROD_EVENTS",
        3,
        "memory",
        "limits",
    )
    assert (queue.max_age_seconds, queue.max_deliveries, queue.duplicate_window_seconds) == (
        86400,
        12,
        600,
    )
    assert queue.servers == ("nats://delivery:n4ts-pa55@10.0.0.1:4222",)
    assert queue.shown_servers() == ["nats://***@10.0.0.1:4222"]
    # The password is a workspace secret (masked in logs) and never in a repr.
    assert "n4ts-pa55" in ws.secrets()
    assert "n4ts-pa55" not in repr(queue) and "n4ts-pa55" not in repr(ws)
    # One worker process keeps at most `worker_concurrency` requests in flight per instance;
    # the instance's own concurrency is what all workers together keep to.
    assert worker_view(ws).destinations["clay"].concurrency == 2
    assert InstanceLimits.of(ws.destinations["clay"]).pending_cap == 6


@pytest.mark.parametrize(
    ("queue", "expected"),
    [
        ("queue: 42\n", ":10:8: error: 'queue' must be sqlite, a list of nats:// URLs"),
        ("queue: [http://a:4222]\n", ":10:9: error: a NATS server URL starts with nats://"),
        (
            'queue: ["nats://user:hunter2@a:4222"]\n',
            ":10:9: error: credentials in a NATS URL are secrets",
        ),
        ("queue: {servers: []}\n", ":10:18: error: 'servers' must be a list of nats:// URLs"),
        (
            "queue: {servers: [nats://a], replicas: 7}\n",
            ":10:40: error: 'replicas' must be from 1 to 5",
        ),
        (
            "queue: {servers: [nats://a], storage: disk}\n",
            ":10:39: error: 'storage' must be one of file, memory",
        ),
        (
            "queue: {servers: [nats://a], stream: a.b}\n",
            ":10:38: error: 'stream' may hold 1 to 32 letters",
        ),
        (
            "queue: {servers: [nats://a], replica: 3}\n",
            ":10:30: error: unknown key 'replica' in queue; did you mean 'replicas'?",
        ),
        (
            "queue: {servers: [nats://a], max_age_seconds: 60, duplicate_window_seconds: 120}\n",
            ":10:77: error: the duplicate window cannot be longer than max_age_seconds",
        ),
        ("queue: {replicas: 3}\n", ":10:8: error: queue needs 'servers'"),
    ],
)
def test_mistakes_are_reported_where_they_are(tmp_path: Path, queue: str, expected: str) -> None:
    found = errors(tmp_path, queue)
    assert any(expected in e for e in found), found
    assert all("hunter2" not in e for e in found)


def test_roles_need_the_jetstream_queue(tmp_path: Path) -> None:
    path = tmp_path / "workspace.yaml"
    path.write_text(BASE, encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "destinations",
            "serve",
            "--workspace",
            str(path),
            "--role",
            "worker",
        ],
        env={**ENV, "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--role worker needs the JetStream queue" in result.stderr
