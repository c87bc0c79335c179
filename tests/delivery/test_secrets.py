"""No secret appears in logs, errors, metrics, command output or the queue file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from .conftest import SECRETS, report, with_catalog, workspace_data
from .fake_destination import FakeDestination, FaultPlan
from .harness import (
    LAUNCHER,
    TEST_PACKAGE,
    Service,
    app_event,
    basic_auth,
    free_port,
    track,
    wait_until,
    write_workspace,
)

WRONG_SECRET = "sk_live_wr0ng_but_s3cret"


def _leaks(text: str | bytes, secrets: list[str]) -> list[str]:
    data = text.encode() if isinstance(text, str) else text
    return [s for s in secrets if s.encode() in data]


def test_secrets_never_leak(tmp_path: Path, delivery_package: Path, fake: FakeDestination) -> None:
    port = free_port()
    # Loops and CleverTap too: their keys travel in headers, CleverTap's in batch requests.
    data = with_catalog(workspace_data(fake.url, port), fake.url)
    # A second Clay instance whose secret the API refuses: the 401 answer echoes the
    # Authorization header it got, so the dead letter would hold the secret if not masked.
    data["destinations"]["clay-wrong"] = {
        "destination": "clay",
        "base_url": fake.url,
        "settings": {"connection_key": "${CLAY_CONNECTION_KEY}", "secret_key": "${WRONG_SECRET}"},
    }
    workspace = write_workspace(tmp_path / "workspace.yaml", data)
    env = {**SECRETS, "WRONG_SECRET": WRONG_SECRET}
    secrets = [*SECRETS.values(), WRONG_SECRET]
    service = Service(workspace, port, env, delivery_package, TEST_PACKAGE)
    fake.faults = FaultPlan(rate=0.3, kinds=("500", "drop"))  # failures get logged too
    service.start()
    outputs: dict[str, str | bytes] = {}
    try:
        events = [track(f"s{i}", relay=True) for i in range(20)]
        answer = httpx.post(
            f"{service.url}/v1/batch",
            json={"batch": events},
            headers=basic_auth(SECRETS["WRITE_KEY"]),
        )
        assert answer.status_code == 200
        app = [app_event("identify" if i % 2 else "track", f"app{i}") for i in range(6)]
        answer = httpx.post(
            f"{service.url}/v1/batch",
            json={"batch": app},
            headers=basic_auth(SECRETS["APP_WRITE_KEY"]),
        )
        assert answer.status_code == 200
        refused = httpx.post(
            f"{service.url}/v1/track", json=track("x"), headers=basic_auth(WRONG_SECRET)
        )
        assert refused.status_code == 401
        outputs["refused answer"] = refused.text
        assert wait_until(lambda: service.metrics().get("dead_letters_total", 0) >= 20, 30)
        fake.faults = FaultPlan()
        assert wait_until(lambda: service.metrics().get("queue_depth", 1) == 0, 30)
        outputs["metrics"] = httpx.get(f"{service.url}/metrics").text
        listing = service.cli("dead-letters", "--workspace", str(workspace), "list")
        outputs["dead-letters list"] = listing.stdout + listing.stderr
        first = listing.stdout.split("\t", 1)[0]
        shown = service.cli("dead-letters", "--workspace", str(workspace), "show", first)
        outputs["dead-letters show"] = shown.stdout + shown.stderr
        assert "invalid secret" in shown.stdout and "***" in shown.stdout  # masked, not dropped
    finally:
        service.terminate()
    outputs["service log"] = service.logs()
    for name in ("queue.sqlite3", "queue.sqlite3-wal"):
        path = tmp_path / "data" / name
        if path.exists():
            outputs[name] = path.read_bytes()
    outputs["workspace file"] = workspace.read_text()
    assert "401" in str(outputs["dead-letters list"])
    app_ids = {f"app{i}" for i in range(6)}
    assert app_ids <= fake.delivered_ids("loops") and app_ids <= fake.delivered_ids("clevertap")
    leaks = {name: found for name, text in outputs.items() if (found := _leaks(text, secrets))}
    assert leaks == {}
    report("secrets grep", places_checked=len(outputs), leaks=len(leaks))


def test_workspace_errors_never_show_secrets(tmp_path: Path, delivery_package: Path) -> None:
    data = workspace_data("http://127.0.0.1:9", 1)
    # A password written into the file, and a secret given to an unknown setting.
    data["destinations"]["clay"]["settings"]["secret_key"] = SECRETS["CLAY_SECRET_KEY"]
    data["destinations"]["relay"]["settings"]["apikey"] = "${RELAY_API_KEY}"
    workspace = write_workspace(tmp_path / "workspace.yaml", data)
    command = [sys.executable, str(LAUNCHER), TEST_PACKAGE, "serve", "--workspace", str(workspace)]
    env = {"PYTHONPATH": str(delivery_package), **SECRETS}
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "secret_key" in result.stderr and "unknown setting 'apikey'" in result.stderr
    assert _leaks(result.stdout + result.stderr, list(SECRETS.values())) == []
