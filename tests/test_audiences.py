"""Engage audience syncs (runtime/audiences.py): the identify calls, the state file, the CLI.

End to end through `python -m destinations audience-sync` for CleverTap and Loops; Clay, which
has no identify handling, refuses.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
PASSCODE = "ct_passcode_s3cret"
LOOPS_KEY = "loops_api_s3cret"
CLEVERTAP = {
    "clevertapAccountId": "ACC-1",
    "clevertapPasscode": PASSCODE,
    "clevertapEndpoint": "https://eu1.api.clevertap.com",
}
AUDIENCE = "Order Completed Last 30days"
KEY = "order_completed_last_30days"


@pytest.fixture(scope="module")
def audiences(package: Any) -> Any:
    return importlib.import_module("destinations._runtime.audiences")


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _sync(
    package: Any, tmp_path: Path, slug: str, members: str, settings: dict[str, Any], *extra: str
) -> tuple[int, list[dict[str, Any]], str]:
    """Run the CLI; (exit code, output lines, stderr)."""
    cli = importlib.import_module("destinations._runtime.cli")
    suffix = ".csv" if members.startswith(("userId", "anonymousId", "user_id")) else ".jsonl"
    members_file = _write(tmp_path / f"members{suffix}", members)
    settings_file = _write(tmp_path / "settings.json", json.dumps(settings))
    out = _Capture()
    err = _Capture()
    saved = sys.stderr
    sys.stderr = err  # type: ignore[assignment]
    try:
        code = cli.main(
            [
                "audience-sync",
                slug,
                "--audience",
                AUDIENCE,
                "--members",
                str(members_file),
                "--settings",
                str(settings_file),
                "--state",
                str(tmp_path / "state.json"),
                *extra,
            ],
            stdout=out,
        )
    finally:
        sys.stderr = saved
    lines = [json.loads(line) for line in out.text.splitlines()]
    return code, lines, err.text


class _Capture:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        pass


# --- audience keys and membership changes --------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"),
    [
        (AUDIENCE, KEY),
        ("order_completed_last_30days", KEY),
        ("High-Value Customers", "high_value_customers"),
        ("trialUsersEU", "trial_users_eu"),
        ("  VIP  ", "vip"),
    ],
)
def test_audience_key_is_the_snake_cased_name(audiences: Any, name: str, key: str) -> None:
    assert audiences.audience_key(name) == key


def test_audience_name_without_letters_is_refused(audiences: Any) -> None:
    with pytest.raises(audiences.AudienceSyncError, match="no letters or digits"):
        audiences.audience_key(" -- ")


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(codec="ascii"), min_size=1, max_size=30))
def test_audience_key_is_snake_case_and_stable(audiences: Any, name: str) -> None:
    try:
        key = audiences.audience_key(name)
    except audiences.AudienceSyncError:
        assert not re.search(r"[A-Za-z0-9]", name)
        return
    assert re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)*", key)
    assert audiences.audience_key(key) == key


_IDS = st.sets(st.sampled_from([f"u{i}" for i in range(8)]), max_size=8)


@settings(max_examples=80, deadline=None)
@given(_IDS, _IDS)
def test_changes_turn_the_last_membership_into_the_current_one(
    audiences: Any, before_ids: set[str], now_ids: set[str]
) -> None:
    member = audiences.Member
    before = {m.key: m for m in (member(i, None) for i in before_ids)}
    now = {m.key: m for m in (member(i, None) for i in now_ids)}
    changes = audiences.membership_changes(now, before)
    applied = set(before)
    for changed, value in changes:
        assert (changed.key in applied) != value  # only real changes are sent
        (applied.add if value else applied.discard)(changed.key)
    assert applied == set(now)
    first = audiences.membership_changes(now, None)
    assert sorted(m.key for m, v in first if v) == sorted(now)
    assert all(v for _, v in first)


def test_identify_call_carries_the_trait_and_ids(audiences: Any) -> None:
    member = audiences.Member("u1", "a1", {"email": "u1@example.com"})
    entry = audiences.identify_call(KEY, member, True, "2024-01-01T00:00:00.000Z", "m-1")
    assert entry["type"] == "identify"
    assert (entry["userId"], entry["anonymousId"]) == ("u1", "a1")
    assert entry["traits"] == {"email": "u1@example.com", KEY: True}
    leave = audiences.identify_call(KEY, member, False, "2024-01-01T00:00:00.000Z", "m-2")
    assert leave["traits"] == {KEY: False}


# --- members and state files ----------------------------------------------------------------------


def test_members_from_csv_and_jsonl(audiences: Any, tmp_path: Path) -> None:
    csv_file = _write(tmp_path / "m.csv", "userId,anonymous_id,email\nu1,a1,x@example.com\n,a2,\n")
    members = audiences.read_members(csv_file)
    assert [m.key for m in members.values()] == ["user:u1", "anonymous:a2"]
    assert members["user:u1"].traits == {"email": "x@example.com"}
    jsonl = _write(tmp_path / "m.jsonl", '{"userId": 7, "plan": "pro"}\n\n{"anonymousId": "a9"}\n')
    members = audiences.read_members(jsonl)
    assert members["user:7"].traits == {"plan": "pro"}
    assert "anonymous:a9" in members


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("m.csv", "email\nx@example.com\n", "needs a userId or anonymousId column"),
        ("m.csv", "userId,email\n,x@example.com\n", "m.csv:2: a member needs a userId"),
        ("m.jsonl", '{"userId": "u1"}\nnot json\n', "m.jsonl:2: not JSON"),
        ("m.jsonl", '["u1"]\n', "must be a JSON object"),
        ("m.jsonl", '{"userId": {"id": 1}}\n', "userId must be text"),
        ("m.txt", "userId\nu1\n", "are .csv or .jsonl"),
    ],
)
def test_bad_members_files_are_named(
    audiences: Any, tmp_path: Path, name: str, text: str, message: str
) -> None:
    with pytest.raises(audiences.AudienceSyncError, match=re.escape(message)):
        audiences.read_members(_write(tmp_path / name, text))


def test_state_is_written_atomically(audiences: Any, tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    state = {"version": 1, "syncs": {"x/y": {"synced_at": "t", "members": [{"userId": "u1"}]}}}
    audiences.save_state(path, state)
    assert audiences.load_state(path) == state
    with pytest.raises(TypeError):  # a failed write leaves the old file and no temporary file
        audiences.save_state(path, {"version": 1, "syncs": {"bad": object()}})
    assert audiences.load_state(path) == state
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_a_foreign_state_file_is_refused(audiences: Any, tmp_path: Path) -> None:
    with pytest.raises(audiences.AudienceSyncError, match="not an audience-sync state"):
        audiences.load_state(_write(tmp_path / "s.json", '{"members": []}'))


# --- end to end -----------------------------------------------------------------------------------


def test_clevertap_first_sync_then_only_changes(package: Any, tmp_path: Path) -> None:
    members = "userId,anonymousId\nu1,a1\nu2,a2\n"
    code, lines, _ = _sync(package, tmp_path, "clevertap", members, CLEVERTAP)
    assert code == 0
    assert [(line["userId"], line["value"]) for line in lines] == [("u1", True), ("u2", True)]
    for line in lines:
        (request,) = line["requests"]
        assert request["action"] == "identifyUser"
        assert request["url"] == "https://eu1.api.clevertap.com/1/upload"
        assert request["headers"]["X-CleverTap-Passcode"] == "***"
        (record,) = request["json"]["d"]
        assert record["identity"] == line["userId"]
        assert record["profileData"] == {KEY: True}
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["syncs"][f"clevertap/{KEY}"]["members"] == [
        {"userId": "u1", "anonymousId": "a1"},
        {"userId": "u2", "anonymousId": "a2"},
    ]

    code, lines, _ = _sync(
        package, tmp_path, "clevertap", "userId,anonymousId\nu2,a2\nu3,a3\n", CLEVERTAP
    )
    assert [(line["userId"], line["value"]) for line in lines] == [("u3", True), ("u1", False)]
    left = lines[1]["requests"][0]["json"]["d"][0]
    assert (left["identity"], left["objectId"], left["profileData"]) == ("u1", "a1", {KEY: False})

    code, lines, _ = _sync(
        package, tmp_path, "clevertap", "userId,anonymousId\nu2,a2\nu3,a3\n", CLEVERTAP
    )
    assert (code, lines) == (0, [])


def test_secrets_are_masked_unless_revealed(package: Any, tmp_path: Path) -> None:
    _, lines, _ = _sync(
        package, tmp_path, "clevertap", '{"userId": "u1", "anonymousId": "a1"}\n', CLEVERTAP
    )
    assert PASSCODE not in json.dumps(lines)
    (tmp_path / "state.json").unlink()
    _, lines, _ = _sync(
        package,
        tmp_path,
        "clevertap",
        '{"userId": "u1", "anonymousId": "a1"}\n',
        CLEVERTAP,
        "--reveal-secrets",
    )
    assert lines[0]["requests"][0]["headers"]["X-CleverTap-Passcode"] == PASSCODE


def test_clevertap_identity_policy_applies_to_audience_calls(package: Any, tmp_path: Path) -> None:
    code, lines, err = _sync(package, tmp_path, "clevertap", "userId\nu1\n", CLEVERTAP)
    assert code == 0
    assert lines[0]["error"]["field"] == "/objectId"
    assert "1 call(s) gave an error" in err
    # Not remembered: the next sync sends it again, and it goes through with `either`.
    either = {**CLEVERTAP, "identityPolicy": "either"}
    _, lines, _ = _sync(package, tmp_path, "clevertap", "userId\nu1\n", either)
    assert [(line["userId"], line["value"]) for line in lines] == [("u1", True)]
    assert lines[0]["requests"][0]["json"]["d"][0]["profileData"] == {KEY: True}


def test_clevertap_actions_presets_use_user_upload(package: Any, tmp_path: Path) -> None:
    settings_ = {**CLEVERTAP, "presetSet": "actions"}
    _, lines, _ = _sync(package, tmp_path, "clevertap", "userId\nu1\n", settings_)
    (request,) = lines[0]["requests"]
    assert request["action"] == "userUpload"
    assert request["json"]["d"][0]["identity"] == "u1"


def test_loops_sync_updates_contacts_and_retries_failures(package: Any, tmp_path: Path) -> None:
    members = '{"userId": "u1", "email": "u1@example.com"}\n{"anonymousId": "a2"}\n'
    code, lines, _ = _sync(package, tmp_path, "loops", members, {"apiKey": LOOPS_KEY})
    assert code == 0
    ok, failed = lines
    (request,) = ok["requests"]
    assert (request["method"], request["url"]) == (
        "PUT",
        "https://app.loops.so/api/v1/contacts/update",
    )
    assert request["headers"]["Authorization"] == "Bearer ***"
    assert request["json"] == {
        "email": "u1@example.com",
        KEY: True,
        "source": "Segment",
        "userId": "u1",
        "mailingLists": {},
    }
    assert failed["error"]["field"] == "/userId"  # Loops needs a user ID: named, not sent
    assert LOOPS_KEY not in json.dumps(lines)
    _, lines, _ = _sync(package, tmp_path, "loops", members, {"apiKey": LOOPS_KEY})
    assert [line.get("anonymousId") for line in lines] == ["a2"]  # only the failed one again
    _, lines, _ = _sync(package, tmp_path, "loops", "", {"apiKey": LOOPS_KEY})
    assert [(line["userId"], line["value"]) for line in lines] == [("u1", False)]
    assert lines[0]["requests"][0]["json"][KEY] is False


def test_clay_refuses_audience_syncs(package: Any, tmp_path: Path) -> None:
    settings_ = {"connection_key": "ck", "secret_key": "sk_s3cret"}
    code, lines, err = _sync(package, tmp_path, "clay", "userId\nu1\n", settings_)
    assert (code, lines) == (2, [])
    assert "Clay has no identify handling" in err
    assert "Track Calls" in err and "sk_s3cret" not in err
    assert not (tmp_path / "state.json").exists()


def test_bad_settings_stop_the_sync_without_showing_secrets(package: Any, tmp_path: Path) -> None:
    bad = {**CLEVERTAP, "clevertapEndpoint": PASSCODE}
    code, lines, err = _sync(package, tmp_path, "clevertap", "userId\nu1\n", bad)
    assert (code, lines) == (2, [])
    assert "clevertapEndpoint" in err


def test_sync_api_is_deterministic_for_a_given_time(package: Any, audiences: Any) -> None:
    members = {m.key: m for m in [audiences.Member("u1", "a1")]}
    moment = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    state = {"version": 1, "syncs": {}}
    first = audiences.sync(package.get("clevertap"), AUDIENCE, members, CLEVERTAP, state, moment)
    again = audiences.sync(package.get("clevertap"), AUDIENCE, members, CLEVERTAP, state, moment)
    assert first.lines == again.lines
    assert first.state["syncs"][f"clevertap/{KEY}"]["synced_at"] == "2024-05-06T07:08:09.000Z"
