"""Loops (specs/loops.yaml): the rules beyond Segment's recorded cases.

The Idempotency-Key header, identifiers caught before sending, the mailing-list rule on any
input (as observed from Segment's Loops, tests/segment_reference/FINDINGS.md), the deletion and
auth-test requests, the declared rate limit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
KEY = "loops_s3cret"
SETTINGS = {"apiKey": KEY}


@pytest.fixture(scope="module")
def loops(package: Any) -> Any:
    return package.get("loops")


def test_idempotency_key_comes_from_the_message_id(loops: Any) -> None:
    event = {"type": "track", "event": "E", "userId": "u", "messageId": "m-1"}
    (request,) = loops.actions["sendEvent"].requests(event, SETTINGS)
    assert request.headers["Idempotency-Key"] == "m-1"
    assert "idempotencyKey" not in request.json  # a header, not a body key
    del event["messageId"]
    (request,) = loops.actions["sendEvent"].requests(event, SETTINGS)
    assert "Idempotency-Key" not in request.headers


def test_an_idempotency_key_over_100_characters_is_rejected(package: Any, loops: Any) -> None:
    event = {"type": "track", "event": "E", "userId": "u", "messageId": "m" * 101}
    with pytest.raises(package.PayloadValidationError) as caught:
        loops.actions["sendEvent"].requests(event, SETTINGS)
    assert caught.value.field == "/idempotencyKey"


@pytest.mark.parametrize(
    ("action", "event", "field"),
    [
        ("createOrUpdateContact", {"type": "identify", "traits": {"email": "a@b.co"}}, "/userId"),
        ("sendEvent", {"type": "track", "event": "E", "anonymousId": "a"}, "/userId"),
        ("sendEvent", {"type": "track", "userId": "u", "event": ""}, "/eventName"),
    ],
)
def test_missing_identifiers_are_caught_before_sending(
    package: Any, loops: Any, action: str, event: dict[str, Any], field: str
) -> None:
    with pytest.raises(package.PayloadValidationError) as caught:
        loops.actions[action].requests(event, SETTINGS)
    assert caught.value.field == field
    assert field.strip("/") in caught.value.message


def _segment_mailing_lists(value: Any) -> dict[str, bool]:
    """Segment's Loops rule as observed (FINDINGS.md): the entries `for...in` walks (a list's by
    index; text and other values count as none here) whose value is true, false, "true" or
    "false", as booleans."""
    if isinstance(value, list):
        value = {str(i): item for i, item in enumerate(value)}
    if not isinstance(value, dict):
        return {}
    return {
        key: item is True or item == "true"
        for key, item in value.items()
        if isinstance(item, bool) or item in ("true", "false")
    }


_LIST_VALUES = st.one_of(
    st.sampled_from([True, False, "true", "false", "TRUE", "yes", 1, 0, None, "", 2.5]),
    st.dictionaries(st.sampled_from(["a"]), st.booleans(), max_size=1),
)


@settings(max_examples=80, deadline=None)
@given(
    st.one_of(
        st.dictionaries(st.sampled_from(["l1", "l2", "l3", "l4"]), _LIST_VALUES, max_size=4),
        st.lists(_LIST_VALUES, max_size=3),
        st.sampled_from(["list1", "true", 5, None, True]),
    )
)
def test_mailing_lists_follow_segment_rule(loops: Any, lists: Any) -> None:
    event = {"type": "identify", "userId": "u", "traits": {"plan": "x", "mailingLists": lists}}
    (request,) = loops.actions["createOrUpdateContact"].requests(event, SETTINGS)
    body = request.json
    assert body["mailingLists"] == _segment_mailing_lists(lists)
    assert list(body) == ["plan", "source", "userId", "mailingLists"]  # lists last, once


def test_deletion_and_auth_test_requests(loops: Any) -> None:
    request = loops.deletion_request(SETTINGS, user_id="u-1", anonymous_id="a-1")
    assert (request.method, request.url) == ("POST", "https://app.loops.so/api/v1/contacts/delete")
    assert request.json == {"userId": ["u-1"]}
    assert request.headers == {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    assert KEY not in repr(request)
    auth = loops.authentication_request(SETTINGS)
    assert (auth.method, auth.url, auth.json) == (
        "GET",
        "https://app.loops.so/api/v1/api-key",
        None,
    )
    assert auth.headers["Content-Type"] == "application/json"  # as Segment's Loops sends


def test_rate_limit_is_declared(loops: Any) -> None:
    assert loops.limits["rate_requests"] == 10
    assert loops.limits["rate_per_seconds"] == 1
    assert not loops.presets  # as Segment's Loops: mappings are made by hand
