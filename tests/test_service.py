"""The preview service (`python -m destinations serve`): answers, errors, secrets, serving.

Requests go through the real ASGI interface (a small driver below), except the last test,
which starts the service with uvicorn on 127.0.0.1 and talks HTTP to it.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

import destinations
from destinations._runtime import cli
from destinations._runtime.preview_service import MAX_BODY_BYTES, MAX_NESTING, create_app

ROOT = Path(__file__).resolve().parents[1]
SERVICE = create_app(destinations)
JSON = "application/json"


def call(
    method: str,
    path: str,
    body: Any = None,
    *,
    raw: bytes | None = None,
    content_type: str = JSON,
    app: Any = SERVICE,
) -> tuple[int, dict[str, str], Any]:
    """One HTTP request through the ASGI app: (status, headers, decoded JSON body)."""
    data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "headers": [(b"content-type", content_type.encode())] if content_type else [],
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": data, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start, body_message = sent
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], headers, json.loads(body_message["body"])


SETTINGS = {"connection_key": "ck_live_123", "secret_key": "sk_live_456"}
TRACK = {
    "type": "track",
    "event": "Signed Up",
    "messageId": "m-1",
    "userId": "u-1",
    "context": {"ip": "203.0.113.7"},
    "properties": {"plan": "pro"},
}


def test_openapi_document_is_served_and_valid() -> None:
    status, headers, doc = call("GET", "/openapi.json")
    assert status == 200 and headers["content-type"] == JSON
    validate(doc)
    shipped = json.loads((ROOT / "generated/destinations/openapi.json").read_text("utf-8"))
    assert doc == shipped


def test_catalog_lists_every_destination_action_and_preset() -> None:
    status, _, catalog = call("GET", "/catalog")
    assert status == 200
    assert [d["slug"] for d in catalog["destinations"]] == destinations.catalog()
    doc = SERVICE.document
    for entry in catalog["destinations"]:
        dest = destinations.get(entry["slug"])
        assert [a["key"] for a in entry["actions"]] == list(dest.actions)
        assert [p["action"] for p in entry["presets"]] == [p.action for p in dest.presets]
        for action in entry["actions"]:
            assert action["preview"] in doc["paths"], action["preview"]
            assert {f["key"] for f in action["fields"]} == set(
                dest.actions[action["key"]].schema["properties"]
            )
        for setting in entry["settings"]:
            assert not (setting["secret"] and "default" in setting)


def test_preview_answers_what_the_runtime_builds_with_secrets_masked() -> None:
    clay = destinations.get("clay")
    status, _, result = call(
        "POST", "/destinations/clay/actions/track/preview", {"event": TRACK, "settings": SETTINGS}
    )
    assert status == 200
    expected = [r.to_dict() for r in clay.actions["track"].requests(TRACK, SETTINGS)]
    assert result["requests"] == expected
    assert result["payload"] == clay.actions["track"].payload(TRACK)
    text = json.dumps(result)
    assert "sk_live_456" not in text and "ck_live_123" not in text
    assert result["requests"][0]["url"].endswith("/segment/***/events")
    assert result["requests"][0]["headers"]["Authorization"] == "Bearer ***"


def test_an_event_value_equal_to_a_secret_is_masked() -> None:
    event = {**TRACK, "properties": {"copied": "sk_live_456"}, "userId": "sk_live_456"}
    status, _, result = call(
        "POST", "/destinations/clay/actions/track/preview", {"event": event, "settings": SETTINGS}
    )
    assert status == 200
    assert "sk_live_456" not in json.dumps(result)
    assert result["payload"]["properties"] == {"copied": "***"}


@pytest.mark.parametrize(
    ("path", "event", "settings", "secret"),
    [
        # the apiKey is the name of a field the payload requires
        (
            "/destinations/loops/actions/sendEvent/preview",
            {"type": "track", "event": "Paid", "userId": "object", "messageId": "m-1"},
            {"apiKey": "userId"},
            "userId",
        ),
        # the secret is the const `type` of Clay's track body
        (
            "/destinations/clay/actions/track/preview",
            TRACK,
            {**SETTINGS, "secret_key": "track"},
            "track",
        ),
        ("/destinations/clay/route", TRACK, {**SETTINGS, "secret_key": "track"}, "track"),
    ],
)
def test_a_secret_equal_to_a_published_string_keeps_the_described_shape(
    path: str, event: dict[str, Any], settings: dict[str, Any], secret: str
) -> None:
    """Names and fixed values are public in the description: masking them would break the
    shape it promises. They are kept in the payload and bodies; the URL and headers, which the
    description does not fix, still hide the secret."""
    status, _, result = call("POST", path, {"event": event, "settings": settings})
    assert status == 200, result
    operation = SERVICE.document["paths"][path]["post"]
    schema = operation["responses"]["200"]["content"][JSON]["schema"]
    assert SERVICE.checker.problems(result, schema) == []
    for request in result["requests"]:
        shown = request["url"] + json.dumps(request["headers"])
        assert secret not in shown and "***" in shown


def test_field_errors_are_422_naming_the_field() -> None:
    event = {k: v for k, v in TRACK.items() if k != "context"}
    status, _, result = call(
        "POST", "/destinations/clay/actions/track/preview", {"event": event, "settings": SETTINGS}
    )
    assert status == 422
    assert result["error"]["type"] == "PayloadValidationError"
    assert result["error"]["field"] == "/ip"
    assert result["error"]["errors"][0]["field"] == "/ip"


def test_route_runs_the_matching_presets_or_says_why_none() -> None:
    status, _, result = call(
        "POST", "/destinations/clay/route", {"event": TRACK, "settings": SETTINGS}
    )
    assert status == 200
    assert [r["action"] for r in result["requests"]] == ["track"]
    identify = {"type": "identify", "userId": "u-1"}
    status, _, result = call(
        "POST", "/destinations/clay/route", {"event": identify, "settings": SETTINGS}
    )
    assert status == 200 and result["requests"] == []
    assert "no preset of Clay matches this identify event" in result["note"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event": TRACK}, "/settings"),
        ({"event": TRACK, "settings": {**SETTINGS, "region": "eu"}}, "/settings/region"),
        ({"event": TRACK, "settings": {**SETTINGS, "secret_key": ""}}, "/settings/secret_key"),
        ({"event": TRACK, "settings": {**SETTINGS, "secret_key": 5}}, "/settings/secret_key"),
        ({"event": {**TRACK, "type": "purchase"}, "settings": SETTINGS}, "/event/type"),
        ({"event": [TRACK], "settings": SETTINGS}, "/event"),
        ({"event": TRACK, "settings": SETTINGS, "extra": 1}, "/extra"),
    ],
)
def test_bodies_that_break_the_description_are_400(body: dict[str, Any], field: str) -> None:
    status, _, result = call("POST", "/destinations/clay/actions/track/preview", body)
    assert status == 400
    assert result["error"]["field"] == field
    assert "5" not in result["error"]["message"] or field != "/settings/secret_key"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{", "not valid JSON"),
        (b'{"event": NaN, "settings": {}}', "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[" * (MAX_NESTING + 1) + b"]" * (MAX_NESTING + 1), "deeper than"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
    ],
)
def test_malformed_bodies_are_400(raw: bytes, reason: str) -> None:
    status, _, result = call("POST", "/destinations/clay/route", raw=raw)
    assert status == 400
    assert reason in result["error"]["message"]


def test_transport_errors() -> None:
    assert call("GET", "/nope")[0] == 404
    assert call("GET", "/destinations/clay/actions/nope/preview")[0] == 404
    status, headers, _ = call("GET", "/destinations/clay/route")
    assert status == 405 and headers["allow"] == "POST"
    assert call("POST", "/destinations/clay/route", {}, content_type="text/plain")[0] == 415
    assert call("POST", "/destinations/clay/route", {}, content_type="")[0] == 415
    big = b'{"event": {"x": "' + b"a" * MAX_BODY_BYTES + b'"}}'
    assert call("POST", "/destinations/clay/route", raw=big)[0] == 413


def test_an_answer_json_cannot_carry_is_a_500_without_details(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(SERVICE, "catalog", lambda: {"secret": "sk_live_456", "x": float("nan")})
    status, _, result = call("GET", "/catalog")
    assert status == 500
    assert result == {
        "error": {
            "type": "InternalError",
            "message": "internal error of the preview service",
            "field": None,
        }
    }


def test_lifespan_startup_and_shutdown() -> None:
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"])

    asyncio.run(SERVICE({"type": "lifespan"}, receive, send))
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_worked_examples_give_the_same_answers_as_the_package() -> None:
    """Each spec's examples through the service: same requests or same error field."""
    import yaml

    for spec_path in sorted((ROOT / "specs").glob("*.yaml")):
        spec = yaml.safe_load(spec_path.read_text("utf-8"))
        dest = destinations.get(spec["slug"])
        for example in spec.get("examples", []):
            body = {"event": example["event"], "settings": example["settings"]}
            action = example.get("action")
            path = SERVICE.paths[("preview", dest.slug, action) if action else ("route", dest.slug)]
            status, _, result = call("POST", path, body)
            if "error" in example:
                assert status in (400, 422), (example["name"], result)
                if "field" in example["error"] and status == 422:
                    assert result["error"]["field"] == example["error"]["field"]
            else:
                assert status == 200, (example["name"], result)
                assert len(result["requests"]) == len(example["requests"])


def test_serve_without_uvicorn_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # makes `import uvicorn` fail
    assert cli.main(["serve"]) == 2
    assert "pip install 'destinations[serve]'" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_runs_uvicorn_on_localhost() -> None:
    pytest.importorskip("uvicorn")
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "destinations", "serve", "--port", str(port)],
        cwd=ROOT / "generated",
        env={**os.environ, "PYTHONPATH": str(ROOT / "generated")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/catalog", timeout=2) as reply:
                    catalog = json.loads(reply.read())
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
        assert [d["slug"] for d in catalog["destinations"]] == destinations.catalog()
    finally:
        process.terminate()
        process.wait(timeout=10)
