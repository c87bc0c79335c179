"""The workspace file: what it means, and located errors for everything wrong in it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import destinations
from destinations._runtime.workspace import WorkspaceError, load_workspace

ENV = {"WK": "wk_123", "CK": "ck_abc", "SK": "sk_secret_value", "HOOK": "whsec_c2VjcmV0"}

VALID = """\
version: 1
data_dir: state
listen: {port: 9100}
sources:
  web: {write_key: "${WK}"}
  loops: {type: loops_webhook, signing_secret: "${HOOK}"}
destinations:
  clay:
    destination: clay
    settings: {connection_key: "${CK}", secret_key: "${SK}"}
  clay-contacts:
    destination: clay
    sources: [loops]
    concurrency: 2
    settings: {connection_key: "${CK}", secret_key: "${SK}"}
    mappings:
      - name: Contacts
        trigger: type = "identify"
        action: track
        mapping:
          event: {"@literal": "Contact Created"}
          ip: {"@literal": "0.0.0.0"}
          properties: {"@path": "$.traits"}
delivery: {max_retry_seconds: 60}
"""


def load(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> Any:
    path = tmp_path / "workspace.yaml"
    path.write_text(text, encoding="utf-8")
    return load_workspace(path, destinations, ENV if env is None else env)


def errors(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(WorkspaceError) as caught:
        load(tmp_path, text, env)
    return caught.value.errors


def test_valid_workspace(tmp_path: Path) -> None:
    ws = load(tmp_path, VALID)
    assert ws.data_dir == tmp_path / "state" and ws.port == 9100 and ws.retry.max_age_seconds == 60
    clay, contacts = ws.destinations["clay"], ws.destinations["clay-contacts"]
    assert [r.name for r in clay.rules] == [p.name for p in destinations.get("clay").presets]
    assert contacts.concurrency == 2 and contacts.sources == frozenset({"loops"})
    identify = {"type": "identify", "userId": "u1", "messageId": "m1", "traits": {"email": "a@b.c"}}
    assert ws.routes("loops", identify) == [("clay-contacts", "Contacts")]
    assert ws.routes("web", identify) == []  # clay has no identify preset; contacts is loops-only
    [request] = contacts.requests(contacts.rules[0], identify)
    assert request.json["event"] == "Contact Created" and request.json["properties"] == {
        "email": "a@b.c"
    }
    assert request.json["messageId"] == "m1"  # fields not overridden keep the default mapping
    assert ws.source_for_write_key("wk_123") is ws.sources["web"]
    assert "sk_secret_value" not in repr(ws) and "sk_secret_value" in ws.secrets()


def test_integrations_object_turns_destinations_off(tmp_path: Path) -> None:
    ws = load(tmp_path, VALID)
    event = {"type": "track", "event": "x", "userId": "u"}
    assert ws.routes("web", event) == [("clay", "Track Calls")]
    assert ws.routes("web", {**event, "integrations": {"Clay": False}}) == []
    assert ws.routes("web", {**event, "integrations": {"All": False, "clay": True}}) == [
        ("clay", "Track Calls")
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("listen: {port: 9100}", "listen: {port: 9100, hots: x}"),
            ":3:22: error: unknown key 'hots' in listen; did you mean 'host'?",
        ),
        (
            ('secret_key: "${SK}"}\n  clay-contacts', 'secret_key: "${NOPE}"}\n  clay-contacts'),
            ":10:53: error: environment variable NOPE is not set",
        ),
        (
            ('secret_key: "${SK}"}\n  clay-contacts', 'secret_key: "sk_literal"}\n  clay-contacts'),
            ":10:53: error: setting 'secret_key' is a secret",
        ),
        (
            ("destination: clay\n    sources", "destination: clayy\n    sources"),
            ":12:18: error: unknown destination 'clayy'",
        ),
        (
            ("action: track", "action: trak"),
            ":19:17: error: Clay has no action 'trak'; did you mean 'track'?",
        ),
        (
            ('trigger: type = "identify"', "trigger: type = identify"),
            ":18:18: error: trigger: expected a string",
        ),
        (
            ("event: {", "evnt: {"),
            ":21:11: error: action 'track' has no field 'evnt'; did you mean 'event'?",
        ),
        (('{"@literal": "0.0.0.0"}', '{"@nope": 1}'), ":22:15: error: unknown directive '@nope'"),
        (("sources: [loops]", "sources: [lops]"), ":13:15: error: no source named 'lops'"),
        (
            ("concurrency: 2", "concurrency: two"),
            ":14:18: error: 'concurrency' must be a whole number",
        ),
        (
            ('signing_secret: "${HOOK}"', 'signing_secret: "${WK}"'),
            ":6:48: error: a Loops signing secret starts with 'whsec_'",
        ),
        (("version: 1", "version: 2"), ":1:10: error: 'version' must be 1"),
        (
            ("data_dir: state", "data_dir: state\ndata_dir: x"),
            ":3:1: error: duplicate key 'data_dir'",
        ),
    ],
)
def test_located_errors(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    old, new = change
    assert old in VALID
    found = errors(tmp_path, VALID.replace(old, new, 1))
    assert any(expected in e for e in found), found
    assert all(e.startswith(str(tmp_path / "workspace.yaml") + ":") for e in found)


def test_every_problem_at_once_and_no_secret_in_them(tmp_path: Path) -> None:
    text = (
        VALID.replace("hots", "")
        .replace("concurrency: 2", "concurrency: 0")
        .replace(
            'connection_key: "${CK}", secret_key: "${SK}"}\n  clay-contacts',
            'connection_key: 12, secret_key: "${SK}"}\n  clay-contacts',
        )
    )
    found = errors(tmp_path, text + "extra: 1\n")
    assert len(found) >= 2
    assert not any("sk_secret_value" in e or "ck_abc" in e for e in found)


def test_too_many_mappings(tmp_path: Path) -> None:
    rule = '      - {trigger: type = "track", action: track}\n'
    text = VALID.replace("    mappings:\n", "    mappings:\n" + rule * 50, 1)
    assert any("at most 50 mappings" in e for e in errors(tmp_path, text))


def test_rate_must_be_positive(tmp_path: Path) -> None:
    text = VALID.replace("concurrency: 2", "rate: {requests: 0, per_seconds: 1}")
    assert any(":14:22: error: 'requests' must be at least 1" in e for e in errors(tmp_path, text))


def test_invalid_yaml(tmp_path: Path) -> None:
    [error] = errors(tmp_path, "version: 1\nsources: [\n")
    assert ":3:1: error: invalid YAML" in error


def test_idempotency_key_and_batch_size_are_checked(tmp_path: Path) -> None:
    text = VALID.replace("concurrency: 2", "idempotency_key: maybe\n    batch_size: 0")
    found = errors(tmp_path, text)
    assert any(":14:22: error: 'idempotency_key' must be true or false" in e for e in found)
    assert any(":15:17: error: 'batch_size' must be at least 1" in e for e in found), found
    ws = load(tmp_path, VALID.replace("concurrency: 2", "idempotency_key: false"))
    assert ws.destinations["clay-contacts"].idempotency_key is False
    assert ws.destinations["clay"].idempotency_key is None  # the spec decides
