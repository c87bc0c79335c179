"""`python -m destinations`: preview output, secret masking, and errors without tracebacks."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
GENERATED = ROOT / "generated"
SECRET = "sk_SUPERsecret_9f3"
CONNECTION = "ck_hidden_771"  # also a password setting; it appears in Clay's URL
SETTINGS = {"connection_key": CONNECTION, "secret_key": SECRET}

TRACK = {
    "type": "track",
    "event": "Signed Up",
    "messageId": "m-1",
    "userId": "u-1",
    "properties": {"plan": "pro"},
    "context": {"ip": "203.0.113.7", "page": {"url": "https://example.com/"}},
}
PAGE = {"type": "page", "name": "Home", "messageId": "m-2", "context": {"ip": "203.0.113.8"}}


@pytest.fixture(scope="module")
def package() -> Iterator[Any]:
    sys.path.insert(0, str(GENERATED))
    try:
        yield importlib.import_module("destinations")
    finally:
        sys.path.remove(str(GENERATED))


def settings_file(tmp_path: Path, settings: dict[str, Any]) -> Path:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(settings), "utf-8")
    return path


def run_cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "destinations", *args],
        cwd=GENERATED,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def preview(
    tmp_path: Path, lines: list[str], *extra: str, settings: dict[str, Any] | None = None
) -> subprocess.CompletedProcess[str]:
    path = settings_file(tmp_path, SETTINGS if settings is None else settings)
    return run_cli(
        "preview",
        "clay",
        "--settings",
        str(path),
        *extra,
        stdin="".join(line + "\n" for line in lines),
    )


def outputs(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def assert_no_secret(result: subprocess.CompletedProcess[str]) -> None:
    for secret in (SECRET, CONNECTION):
        assert secret not in result.stdout
        assert secret not in result.stderr
    assert "Traceback" not in result.stderr


def test_preview_masks_password_settings_everywhere(tmp_path: Path) -> None:
    result = preview(tmp_path, [json.dumps(TRACK), json.dumps(PAGE)])
    assert result.returncode == 0, result.stderr
    assert_no_secret(result)
    first, second = outputs(result)
    (track,) = first["requests"]
    assert track["action"] == "track"
    assert track["method"] == "POST"
    assert track["url"] == "https://segment-session.clay.com/segment/***/events"
    assert track["headers"]["Authorization"] == "Bearer ***"
    assert list(track["json"]) == [
        "event",
        "page",
        "ip",
        "userId",
        "messageId",
        "properties",
        "type",
    ]
    assert second["requests"][0]["action"] == "pageVisit"
    assert second["requests"][0]["json"]["type"] == "page"


def test_reveal_secrets_shows_them(tmp_path: Path) -> None:
    result = preview(tmp_path, [json.dumps(TRACK)], "--reveal-secrets")
    assert result.returncode == 0, result.stderr
    (request,) = outputs(result)[0]["requests"]
    assert request["url"] == f"https://segment-session.clay.com/segment/{CONNECTION}/events"
    assert request["headers"]["Authorization"] == f"Bearer {SECRET}"


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(
            json.dumps({**TRACK, "properties": {"copied": SECRET}}), id="secret-in-event-body"
        ),
        pytest.param(json.dumps({**TRACK, "userId": f"x{SECRET}x"}), id="secret-inside-a-value"),
        pytest.param(json.dumps({"type": "track", "event": SECRET}), id="payload-error"),
        pytest.param(json.dumps({**TRACK, "timestamp": SECRET}), id="format-error-on-secret"),
        pytest.param('{"type": "track", "event": "' + SECRET, id="invalid-json"),
        pytest.param(f"not json {SECRET}", id="garbage-line"),
        pytest.param(json.dumps([SECRET]), id="event-not-an-object"),
        pytest.param(json.dumps({"type": "identify", "userId": SECRET}), id="no-action"),
    ],
)
def test_secret_never_printed(tmp_path: Path, line: str) -> None:
    result = preview(tmp_path, [line])
    assert result.returncode == 0
    assert_no_secret(result)
    (out,) = outputs(result)
    assert set(out) & {"requests", "error"}


def test_secret_never_printed_for_action_option(tmp_path: Path) -> None:
    result = preview(
        tmp_path,
        [json.dumps(PAGE), json.dumps({**PAGE, "messageId": None})],
        "--action",
        "pageVisit",
    )
    assert_no_secret(result)
    ok, error = outputs(result)
    assert ok["requests"][0]["action"] == "pageVisit"
    assert error["error"] == {
        "type": "PayloadValidationError",
        "message": "The root value is missing the required field 'messageId'.",
        "field": "/messageId",
    }
    assert "1 event(s) gave an error" in result.stderr


def test_error_and_invalid_json_lines(tmp_path: Path) -> None:
    result = preview(
        tmp_path, ["{oops", "", json.dumps({"type": "track", "event": "E", "messageId": "m"})]
    )
    assert result.returncode == 0
    invalid, missing_ip = outputs(result)
    assert invalid["error"]["type"] == "InvalidJSON"
    assert invalid["error"]["message"].startswith("line 1:")
    assert missing_ip["error"]["field"] == "/ip"
    assert "2 event(s) gave an error" in result.stderr


def test_no_matching_preset_gives_a_note(tmp_path: Path) -> None:
    result = preview(
        tmp_path, [json.dumps({"type": "identify", "userId": "u"}), json.dumps({"type": "screen"})]
    )
    identify, screen = outputs(result)
    assert identify["requests"] == [] and "no preset" in identify["note"]
    assert screen["requests"] == [] and "does not accept screen" in screen["note"]


def test_unknown_slug_exits_2_listing_known(tmp_path: Path) -> None:
    path = settings_file(tmp_path, SETTINGS)
    result = run_cli("preview", "nope", "--settings", str(path), stdin=json.dumps(TRACK) + "\n")
    assert result.returncode == 2
    assert "nope" in result.stderr and "clay" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_unknown_action_exits_2(tmp_path: Path) -> None:
    path = settings_file(tmp_path, SETTINGS)
    result = run_cli("preview", "clay", "--action", "nope", "--settings", str(path))
    assert result.returncode == 2
    assert "track" in result.stderr and "pageVisit" in result.stderr
    assert_no_secret(result)


@pytest.mark.parametrize(
    "settings", [{"connection_key": CONNECTION}, {"connection_key": CONNECTION, "secret_key": ""}]
)
def test_missing_required_setting_exits_2(tmp_path: Path, settings: dict[str, Any]) -> None:
    result = preview(tmp_path, [json.dumps(TRACK)], settings=settings)
    assert result.returncode == 2
    assert "secret_key" in result.stderr
    assert "Traceback" not in result.stderr
    assert_no_secret(result)
    assert result.stdout == ""


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(json.dumps({**SETTINGS, "secret_key": 12345}), id="wrong-type"),
        pytest.param(json.dumps({**SETTINGS, "secret_kee": SECRET}), id="unknown-key"),
        pytest.param('{"secret_key": "' + SECRET, id="invalid-json"),
        pytest.param(json.dumps([SECRET]), id="not-an-object"),
    ],
)
def test_bad_settings_file_exits_2_without_secret(tmp_path: Path, content: str) -> None:
    path = tmp_path / "settings.json"
    path.write_text(content, "utf-8")
    result = run_cli("preview", "clay", "--settings", str(path), stdin=json.dumps(TRACK) + "\n")
    assert result.returncode == 2
    assert result.stderr.startswith("error: ")
    assert_no_secret(result)


def test_missing_settings_file_exits_2(tmp_path: Path) -> None:
    result = run_cli("preview", "clay", "--settings", str(tmp_path / "absent.json"))
    assert result.returncode == 2
    assert "cannot read settings file" in result.stderr
    assert "Traceback" not in result.stderr


def test_list_command() -> None:
    result = run_cli("list")
    assert result.returncode == 0
    assert result.stdout.startswith("clay\tClay\t")


# --- the Python API ----------------------------------------------------------------------------


def test_request_repr_masks_secrets(package: Any) -> None:
    (request,) = package.get("clay").actions["track"].requests(TRACK, SETTINGS)
    assert request.headers["Authorization"] == f"Bearer {SECRET}"  # the real request keeps them
    for text in (repr(request), str(request), repr([request]), repr(request.masked())):
        assert SECRET not in text and CONNECTION not in text
        assert "***" in text
    assert SECRET not in json.dumps(request.to_dict())
    assert SECRET in json.dumps(request.to_dict(reveal_secrets=True))


@pytest.mark.parametrize(
    "settings",
    [
        {"connection_key": CONNECTION, "secret_key": 12345},
        {"connection_key": CONNECTION, "secret_key": [SECRET]},
        {"connection_key": CONNECTION},
        {"connection_key": CONNECTION, "secret_key": SECRET, "extra": SECRET},
    ],
)
def test_settings_error_repr_never_shows_secret(package: Any, settings: dict[str, Any]) -> None:
    with pytest.raises(package.SettingsError) as caught:
        package.get("clay").actions["track"].requests(TRACK, settings)
    exc = caught.value
    for text in (repr(exc), str(exc), exc.message):
        assert SECRET not in text and "12345" not in text
    assert exc.field in ("secret_key", "extra")


def test_unknown_destination_lists_known_slugs(package: Any) -> None:
    with pytest.raises(package.UnknownDestinationError) as caught:
        package.get("nope")
    assert "nope" in caught.value.message
    for slug in package.catalog():
        assert slug in caught.value.message
    assert isinstance(caught.value, LookupError)


def test_catalog(package: Any) -> None:
    catalog = package.catalog()
    assert "clay" in catalog
    assert catalog == sorted(set(catalog), key=catalog.index)  # no duplicates
    for slug in catalog:
        dest = package.get(slug)
        assert dest.slug == slug
        assert dest.actions
