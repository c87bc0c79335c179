"""What an action reads of an event (generation time), and the decoder that keeps only that.

`tests/contract/test_contract.py` (property `json`) checks, on every action of every spec, that
`run_json` gives what `run` gives on json.loads of odd texts. Here: the shapes the generator
finds, and that the decoder is json.loads cut down to a shape, and really leaves the rest out.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actionspec import ir
from actionspec.languages.event_shape import action_event_shape, route_event_shape, shape_of
from actionspec.runtime.event_json import event_decoder

# --- shapes -------------------------------------------------------------------------------------


def test_a_shape_keeps_what_is_read_whole_and_goes_inside_the_rest() -> None:
    shape = shape_of([("context", "ip"), ("context", "page", "url"), ("properties",)])
    assert shape == {"context": {"ip": None, "page": {"url": None}}, "properties": None}


def test_a_value_read_whole_and_inside_is_kept_whole_in_either_order() -> None:
    assert shape_of([("traits", "email"), ("traits",)]) == {"traits": None}
    assert shape_of([("traits",), ("traits", "email")]) == {"traits": None}


def test_a_list_index_keeps_the_list_whole() -> None:
    assert shape_of([("properties", "products", 0, "sku")]) == {"properties": {"products": None}}


def test_the_whole_event_or_an_index_into_it_gives_no_shape() -> None:
    assert shape_of([("userId",), ()]) is None
    assert shape_of([(0, "x")]) is None
    assert shape_of([]) == {}


def destination(
    mapping: dict[str, Any],
    request: dict[str, Any] | None = None,
    hooks: dict[str, Any] | None = None,
) -> ir.Destination:
    action: dict[str, Any] = {
        "title": "A",
        "description": "d",
        "fields": {
            key: {"label": key, "type": "string", "default": value}
            for key, value in mapping.items()
        },
        "request": request or {"method": "POST", "url": "https://e.com/x"},
    }
    if hooks:
        action["hooks"] = hooks
    spec: dict[str, Any] = {
        "slug": "x",
        "name": "X",
        "description": "d",
        "settings": {},
        "actions": {"a": action},
    }
    return ir.build(spec, "specs/x.yaml")


def shape(dest: ir.Destination) -> Any:
    return action_event_shape(dest.actions[0])


def test_the_shape_holds_the_mapping_reads_and_the_requests_event_reads() -> None:
    dest = destination(
        {
            "email": {"@path": "$.traits.email"},
            "who": {"@template": "{{userId}} at {{context.ip}}"},
            "product": {"@arrayPath": ["$.properties.products", {"id": {"@path": "$.sku"}}]},
        },
        request={
            "method": "POST",
            "url": "https://e.com/{{event.context.locale}}",
            "headers": {"Idempotency-Key": "{{event.messageId}}", "X-P": "{{payload.email}}"},
            "body": {"at": {"@path": "$.event.timestamp"}, "email": {"@path": "$.payload.email"}},
        },
    )
    assert shape(dest) == {
        "traits": {"email": None},
        "userId": None,
        "context": {"ip": None, "locale": None},
        "properties": {"products": None},
        "messageId": None,
        "timestamp": None,
    }


@pytest.mark.parametrize(
    "mapping",
    [
        {"x": {"@liquid": "{{ traits.email }}"}},  # Liquid reads what its template says
        {"x": {"@template": "{{{properties.field}}}"}},  # the slot's value is a template
        {"x": {"@path": "$"}},  # the whole event
    ],
)
def test_reads_known_only_at_run_time_keep_the_whole_event(mapping: dict[str, Any]) -> None:
    assert shape(destination(mapping)) is None


def test_a_body_reading_the_whole_context_keeps_the_whole_event() -> None:
    request = {"method": "POST", "url": "https://e.com", "body": {"all": {"@path": "$"}}}
    assert shape(destination({"x": {"@path": "$.userId"}}, request)) is None


def test_hooked_actions_see_the_whole_event() -> None:
    hooks = {"before_mapping": {"description": "changes the event"}}
    assert shape(destination({"x": {"@path": "$.userId"}}, hooks=hooks)) is None


def test_routing_reads_what_each_preset_reads_and_its_trigger() -> None:
    dest = destination({"email": {"@path": "$.traits.email"}})
    spec = {**dest.raw}
    spec["presets"] = [
        {"name": "p", "trigger": 'type = "track" and properties.plan = "pro"', "action": "a"}
    ]
    routed = ir.build(spec, "specs/x.yaml")
    assert route_event_shape(routed) == {
        "traits": {"email": None},
        "type": None,
        "properties": {"plan": None},
    }
    assert route_event_shape(dest) == {}  # no presets: routing reads nothing


# --- the decoder --------------------------------------------------------------------------------


def cut(value: Any, shape: dict[str, Any] | None) -> Any:
    """`value` as far as `shape` reaches (the reference the decoder is held to)."""
    if shape is None or not isinstance(value, dict):
        return value
    return {k: cut(v, shape[k]) for k, v in value.items() if k in shape}


SHAPE = {"userId": None, "context": {"ip": None, "page": {"url": None}}, "properties": None}
EVENT = {
    "type": "track",
    "userId": "u-1",
    "context": {"ip": "203.0.113.9", "userAgent": "Mozilla", "page": {"url": "u", "title": "t"}},
    "properties": {"plan": "pro", "items": [1, {"a": None}]},
    "integrations": {"All": True},
}


def test_the_decoder_leaves_out_what_the_shape_does_not_reach() -> None:
    decoded = event_decoder(SHAPE)(json.dumps(EVENT).encode())
    assert decoded == {
        "userId": "u-1",
        "context": {"ip": "203.0.113.9", "page": {"url": "u"}},
        "properties": {"plan": "pro", "items": [1, {"a": None}]},
    }
    assert list(decoded["context"]) == ["ip", "page"]  # the document's order
    assert event_decoder(None)(json.dumps(EVENT)) == EVENT


ODD_DOCUMENTS = [
    b'{"userId": 1, "userId": "last"}',
    b'{"context": {"ip": "a"}, "context": {"page": {"url": "b"}}}',
    b'{"context": "not an object", "userId": "u"}',
    b'{"context": null}',
    b'{"context": {"page": [1, 2]}}',
    b'{"userId": 123456789012345678901234567890}',
    b'{"userId": 1e400}',
    b'{"unread": NaN, "userId": "u"}',
    b'{"userId": "\\ud800"}',
    b'{"unread": "\\udc00"}',
    b'{"unread": "\xff", "userId": "u"}',
    b'{"unread": "\xed\xa0\x80", "userId": "u"}',
    b'{"userId": "\xc3\xa9"}',
    b'\xef\xbb\xbf{"userId": "u"}',
    '{"userId": "u"}'.encode("utf-16"),
    b"[1, 2]",
    b'"text"',
    b'{"userId": "u"',
    b'{"userId": "u"} extra',
    b"",
    b'{"properties": ' + b"[" * 5000 + b"]" * 5000 + b"}",
]


def outcome(decode: Any, data: bytes | str) -> tuple[str, str]:
    try:
        return ("value", repr(cut(decode(data), SHAPE)))  # repr: key order, NaN, 1 vs 1.0
    except (ValueError, RecursionError) as exc:
        return ("error", f"{type(exc).__name__}: {exc}")


@pytest.mark.parametrize("data", ODD_DOCUMENTS, ids=range(len(ODD_DOCUMENTS)))
def test_odd_documents_decode_as_json_loads_decodes_them(data: bytes) -> None:
    decode = event_decoder(SHAPE)
    assert outcome(decode, data) == outcome(json.loads, data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    assert outcome(decode, text) == outcome(json.loads, text)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["userId", "context", "ip", "page", "url", "x"]), inner)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    event=st.dictionaries(
        st.sampled_from(["userId", "context", "properties", "type", "x"]), json_values
    ),
    ascii_only=st.booleans(),
)
def test_random_documents_decode_as_json_loads_decodes_them(
    event: dict[str, Any], ascii_only: bool
) -> None:
    data = json.dumps(event, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    assert outcome(event_decoder(SHAPE), data) == outcome(json.loads, data)
