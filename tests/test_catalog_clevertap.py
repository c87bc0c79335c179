"""CleverTap (specs/clevertap.yaml): the rules of the seed pages beyond the worked examples.

Identity policy, the two preset sets, the nested-property policy (nothing silently lost),
batching of upload records and the reading of CleverTap's `partial` answers per event.
"""

from __future__ import annotations

import importlib
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = {
    "clevertapAccountId": "ACC-1",
    "clevertapPasscode": "ct_s3cret",
    "clevertapEndpoint": "https://in1.api.clevertap.com",
}


@pytest.fixture(scope="module")
def clevertap(package: Any) -> Any:
    return package.get("clevertap")


@pytest.fixture(scope="module")
def batches(package: Any) -> Any:
    return importlib.import_module("destinations._runtime.record_batches")


def _event(kind: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "userId": "u-1", "anonymousId": "a-1", "messageId": "m", **fields}


# --- routing and identity ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "cloud_mode", "actions"),
    [
        (_event("identify", traits={"x": 1}), ["identifyUser"], ["userUpload"]),
        (_event("track", event="Delete User"), ["trackEvent"], ["userDelete"]),
        (_event("track", event="Order Completed"), ["orderCompleted"], []),
        (_event("track", event="Signed Up"), ["trackEvent"], []),
        (_event("page", name="Home"), ["pageViewed"], []),
        (_event("screen", name="Home"), ["screenViewed"], []),
        (_event("alias", previousId="a-0"), ["aliasUser"], []),
        (_event("group", groupId="g"), [], []),
    ],
)
def test_each_preset_set_routes_alone(
    clevertap: Any, event: dict[str, Any], cloud_mode: list[str], actions: list[str]
) -> None:
    routed = [r.action for r in clevertap.route(event, SETTINGS)]
    assert routed == cloud_mode  # the default preset set
    routed = [r.action for r in clevertap.route(event, {**SETTINGS, "presetSet": "actions"})]
    assert routed == actions


@pytest.mark.parametrize(
    "action", ["identifyUser", "trackEvent", "orderCompleted", "pageViewed", "screenViewed"]
)
@pytest.mark.parametrize(
    ("ids", "both", "either"),
    [
        ({"userId": "u", "anonymousId": "a"}, None, None),
        ({"userId": "u"}, "/objectId", None),
        ({"anonymousId": "a"}, "/identity", None),
        ({}, "/identity", "/identity"),
    ],
)
def test_identity_policy(
    package: Any,
    clevertap: Any,
    action: str,
    ids: dict[str, str],
    both: str | None,
    either: str | None,
) -> None:
    event = {"type": "track", "event": "E", "name": "N", **ids}
    for policy, expected in (("both", both), ("either", either)):
        settings_ = {**SETTINGS, "identityPolicy": policy}
        if expected is None:
            (request,) = clevertap.actions[action].requests(event, settings_)
            record = request.json["d"][0]
            assert record.get("identity") == ids.get("userId")
            assert record.get("objectId") == ids.get("anonymousId")
        else:
            with pytest.raises(package.PayloadValidationError) as caught:
                clevertap.actions[action].requests(event, settings_)
            assert caught.value.field == expected


def test_push_token_record_follows_the_profile(clevertap: Any) -> None:
    event = _event("identify", context={"device": {"token": "t1"}, "os": {"name": "iOS"}})
    (request,) = clevertap.route(event, SETTINGS)
    profile, token = request.json["d"]
    assert profile["type"] == "profile"
    assert token == {
        "type": "token",
        "identity": "u-1",
        "objectId": "a-1",
        "tokenData": {"id": "t1", "type": "apns"},
    }
    (request,) = clevertap.route(_event("identify"), SETTINGS)
    assert [r["type"] for r in request.json["d"]] == ["profile"]


def test_account_token_is_documented_but_never_sent(clevertap: Any) -> None:
    event = _event("track", event="E")
    (request,) = clevertap.route(event, {**SETTINGS, "clevertapAccountToken": "TOKEN-123"})
    assert "TOKEN-123" not in json.dumps([request.url, request.headers, request.json])


def test_region_selects_the_endpoint(clevertap: Any) -> None:
    settings_ = {k: v for k, v in SETTINGS.items() if k != "clevertapEndpoint"}
    (request,) = clevertap.route(_event("page"), settings_)
    assert request.url == "https://sk1.api.clevertap.com/1/upload"
    for choice in ("https://us1.api.clevertap.com", "https://mec1.api.clevertap.com"):
        (request,) = clevertap.route(_event("page"), {**settings_, "clevertapEndpoint": choice})
        assert request.url == f"{choice}/1/upload"


# --- nested properties: flat, snake_cased, nothing lost -----------------------------------------

_SCALARS = st.one_of(
    st.integers(-1000, 1000), st.booleans(), st.text(max_size=5), st.floats(-10, 10, width=32)
)
# Top-level keys have no "_" and nested ones are single letters: flattened keys cannot collide.
_TOP_KEYS = st.sampled_from(["plan", "Seats", "billingCycle", "addOns", "Tier"])
_NESTED = st.dictionaries(st.sampled_from(["x", "y", "z"]), _SCALARS, min_size=1, max_size=3)
_VALUES = st.one_of(_SCALARS, st.lists(_SCALARS, max_size=3), _NESTED)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(_TOP_KEYS, _VALUES, max_size=5))
def test_event_properties_are_flat_snake_case_and_complete(
    clevertap: Any, properties: dict[str, Any]
) -> None:
    event = _event("track", event="E", properties=properties)
    (request,) = clevertap.actions["trackEvent"].requests(event, SETTINGS)
    data = request.json["d"][0].get("evtData", {})
    leaves = 0
    for value in properties.values():
        leaves += len(value) if isinstance(value, dict) else 1
    assert len(data) == leaves  # every leaf has its own key: none lost, none merged
    for key, value in data.items():
        assert key == key.lower() and " " not in key
        assert not isinstance(value, dict | list)
    for key, value in properties.items():
        if isinstance(value, list):  # lists travel as their JSON text
            sent = data[
                {"addOns": "add_ons", "billingCycle": "billing_cycle"}.get(key, key.lower())
            ]
            assert json.loads(sent) == value


# --- batching and partial answers -------------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(1, 4), max_size=30), st.integers(1, 6))
def test_record_groups_keep_order_and_size(batches: Any, counts: list[int], size: int) -> None:
    groups = batches.group_by_records(counts, size)
    assert [i for group in groups for i in group] == list(range(len(counts)))
    for group in groups:
        total = sum(counts[i] for i in group)
        assert total <= size or len(group) == 1  # only an event too big alone goes over
    for group, following in itertools.pairwise(groups):
        # A group closes only when the next event would not fit.
        assert sum(counts[i] for i in group) + counts[following[0]] > size


def test_upload_bodies_merge_into_one_request(clevertap: Any, batches: Any) -> None:
    events = [
        _event("identify", context={"device": {"token": "t", "type": "android"}}),
        _event("track", event="A"),
        _event("page", name="P"),
    ]
    requests = [r for e in events for r in clevertap.route(e, SETTINGS)]
    assert {r.url for r in requests} == {"https://in1.api.clevertap.com/1/upload"}
    merged = batches.merge_bodies([r.json for r in requests])
    assert [r["type"] for r in merged["d"]] == ["profile", "token", "event", "event"]
    assert {a.batch.merge for a in clevertap.actions.values() if a.batch} == {"d"}
    assert clevertap.actions["userDelete"].batch is None  # its body is not a record list
    assert clevertap.limits["batch_size"] == 1000 and clevertap.limits["concurrency"] == 15


def _bodies(clevertap: Any) -> list[Any]:
    events = [
        _event("identify", context={"device": {"token": "t", "type": "android"}}),
        _event("track", event="A"),
        _event("track", event="B"),
    ]
    return [r.json for e in events for r in clevertap.route(e, SETTINGS)]


def test_partial_answer_fails_only_the_events_whose_records_failed(
    clevertap: Any, batches: Any
) -> None:
    bodies = _bodies(clevertap)
    token_record = bodies[0]["d"][1]
    answer = {
        "status": "partial",
        "processed": 2,
        "unprocessed": [
            {"status": "fail", "code": 512, "error": "Invalid token", "record": token_record},
            {
                "status": "fail",
                "code": 509,
                "error": "Event name missing",
                "record": bodies[2]["d"][0],
            },
        ],
    }
    results = batches.clevertap_upload_results(bodies, 200, answer)
    assert [(r.kind, r.code) for r in results] == [
        ("dead", 512),
        ("delivered", None),
        ("dead", 509),
    ]
    assert results[2].reason == "Event name missing"


def test_unattributed_failures_are_not_reported_delivered(clevertap: Any, batches: Any) -> None:
    bodies = _bodies(clevertap)
    answer = {"status": "partial", "unprocessed": [{"code": 523, "error": "Missing identity"}]}
    results = batches.clevertap_upload_results(bodies, 200, answer)
    assert {r.kind for r in results} == {"dead"}
    assert "without saying which" in results[0].reason


@pytest.mark.parametrize(
    ("status", "answer", "kind"),
    [
        (200, {"status": "success", "processed": 3, "unprocessed": []}, "delivered"),
        (200, {}, "delivered"),
        (200, {"status": "fail", "error": "Invalid payload"}, "dead"),
        (401, {"status": "fail", "error": "Invalid Credentials", "code": 401}, "dead"),
        (429, {"status": "fail", "error": "Too many concurrent requests"}, "retry"),
        (503, None, "retry"),
    ],
)
def test_whole_batch_answers(
    clevertap: Any, batches: Any, status: int, answer: Any, kind: str
) -> None:
    results = batches.clevertap_upload_results(_bodies(clevertap), status, answer)
    assert [r.kind for r in results] == [kind] * 3
    if kind != "delivered" and answer:
        assert results[0].reason == answer["error"]
    assert batches.RESULT_READERS[clevertap.actions["trackEvent"].batch.results] is (
        batches.clevertap_upload_results
    )
