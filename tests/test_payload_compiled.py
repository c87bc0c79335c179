"""The compiled payload pipeline means what the step-by-step pipeline (`process`) means.

Random field schemas (every type, null, formats, enums, bounds, nested objects, lists), random
mappings over them and hostile events: the fused function the generator emits returns exactly
what `process(evaluate(mapping, event))` returns (values and key order); where `process` raises,
it returns None or raises the same PayloadValidationError itself (only required fields missing). A second property checks the shortcuts the compiled code takes for dates.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actionspec.languages.payload import Constants, compile_payload_function
from actionspec.runtime import mapping as runtime_mapping
from actionspec.runtime import payload as runtime_payload
from actionspec.runtime.mapping import evaluate

# --- schemas like targets/jsonschema.py writes them -------------------------------------------

FORMATS = ["date-time", "email", "uri", "uuid", "ipv4", "hostname", "date", "time"]


@st.composite
def scalar_schema(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["string", "number", "integer", "boolean", "datetime", "any"]))
    schema: dict[str, Any] = {"title": draw(st.sampled_from(["Name", "", "Plan"]))}
    if kind == "datetime":
        schema.update(type=["string", "number"], format="date-like")
    elif kind != "any":
        schema["type"] = kind
    if kind == "string":
        if draw(st.booleans()):
            schema["format"] = draw(st.sampled_from(FORMATS))
        elif draw(st.booleans()):
            schema["enum"] = draw(st.lists(st.sampled_from(["a", "b", "", "pro"]), min_size=1))
        if draw(st.booleans()):
            schema["minLength"] = draw(st.integers(0, 3))
        if draw(st.booleans()):
            schema["maxLength"] = draw(st.integers(0, 8))
    elif kind in ("number", "integer"):
        if draw(st.booleans()):
            schema["minimum"] = draw(st.integers(-5, 5))
        if draw(st.booleans()):
            schema["maximum"] = draw(st.integers(0, 100))
        if draw(st.booleans()):
            schema["enum"] = draw(st.lists(st.sampled_from([0, 1, 2.5, True]), min_size=1))
    if kind != "any" and draw(st.booleans()):  # allowNull
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        schema["type"] = [*types, "null"]
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
    return schema


@st.composite
def field_schema(draw: st.DrawFn, depth: int = 0) -> dict[str, Any]:
    shape = draw(st.sampled_from(["scalar", "scalar", "scalar", "list", "object", "free"]))
    if shape == "list":
        items = draw(scalar_schema())
        nullable = draw(st.booleans())
        return {
            "title": "Items",
            "type": ["array", "null"] if nullable else "array",
            "items": items,
        }
    if shape == "free":  # an object of any keys (Properties, Traits)
        return {"title": "Properties", "type": "object", "additionalProperties": True}
    if shape == "object" and depth == 0:
        names = draw(st.lists(st.sampled_from(["a", "b", "c", "url"]), unique=True, max_size=3))
        properties = {n: draw(field_schema(depth + 1)) for n in names}
        schema: dict[str, Any] = {"title": "Page", "type": "object", "properties": properties}
        required = [n for n in names if draw(st.booleans())]
        if required:
            schema["required"] = required
        schema["additionalProperties"] = draw(st.booleans())
        return schema
    return draw(scalar_schema())


@st.composite
def payload_schema_and_mapping(draw: st.DrawFn) -> tuple[dict[str, Any], Any]:
    names = draw(st.lists(st.sampled_from(["f1", "f2", "f3", "f4", "class"]), unique=True))
    properties = {n: draw(field_schema()) for n in names}
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    required = [n for n in names if draw(st.booleans())]
    if required:
        schema["required"] = required
    mapping: dict[str, Any] = {}
    for name in names:
        sub = properties[name]
        if "properties" in sub and draw(st.booleans()):  # a nested object of paths
            mapping[name] = {
                k: {"@path": f"$.nested.{k}"} for k in sub["properties"] if draw(st.booleans())
            }
        else:
            mapping[name] = draw(
                st.sampled_from(
                    [
                        {"@path": f"$.values.{name}"},
                        {"@path": f"$.values.{name}"},
                        {"@template": "{{values." + name + "}}!"},
                        {
                            "@if": {
                                "exists": {"@path": "$.flag"},
                                "then": {"@path": f"$.values.{name}"},
                            }
                        },
                    ]
                )
            )
    if draw(st.booleans()):
        mapping["undeclared"] = {"@path": "$.values.f1"}
    if draw(st.booleans()):  # a mapping that is not an object of fields
        return schema, {"@merge": {"objects": [mapping, {"@path": "$.extra"}]}}
    return schema, mapping


# --- hostile events ---------------------------------------------------------------------------

DATES = st.sampled_from(
    [
        "2024-03-05T10:20:30.000Z",
        "2024-02-29T00:00:00Z",
        "2023-02-29T00:00:00Z",
        "2024-03-05",
        "2024-03-05T10:20:30+05:30",
        "2024-03-05 10:20:30",
        "2024-13-01T00:00:00Z",
        "0000-01-01T00:00:00Z",
        "1709634030",
        "March 5, 2024",
        "not a date",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 200),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from(["", "a", "b", "pro", "true", "false", "1", "0", " ", "x@example.com"]),
    st.text(max_size=12),
    DATES,
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["a", "b", "c", "url", "z"]), inner, max_size=4)
    ),
    max_leaves=8,
)
EVENTS = st.fixed_dictionaries(
    {},
    optional={
        "values": st.fixed_dictionaries(
            {}, optional={name: VALUES for name in ["f1", "f2", "f3", "f4", "class"]}
        )
        | SCALARS,  # a step through null, 0, "" or false gives that value, as in Segment
        "nested": st.dictionaries(st.sampled_from(["a", "b", "c", "url"]), VALUES, max_size=4),
        "flag": SCALARS,
        "extra": VALUES,
    },
)


def compile_and_load(mapping: Any, schema: dict[str, Any]) -> Any:
    constants = Constants()
    source = compile_payload_function("payload", mapping, schema, "SCHEMA", constants)
    namespace: dict[str, Any] = {
        "_m": runtime_mapping,
        "_p": runtime_payload,
        "Any": Any,
        "Mapping": Mapping,
        "SCHEMA": schema,
    }
    exec("\n".join([*constants.lines, source]), namespace)  # our own generated code
    return namespace["payload"]


def outcome(function: Any, *args: Any) -> Any:
    """A payload, or the error as (message, field, errors)."""
    try:
        return function(*args)
    except runtime_payload.PayloadValidationError as exc:
        return ("error", exc.message, exc.field, exc.errors)


def assert_same(mapping: Any, schema: dict[str, Any], event: dict[str, Any], compiled: Any) -> None:
    """The compiled function returns `process`'s payload, or None when `process` raises, or
    raises itself exactly what `process` raises (json.dumps: values and key order)."""
    expected = outcome(lambda: runtime_payload.process(evaluate(mapping, event), schema))
    got = outcome(compiled, event)
    if got is None:
        assert isinstance(expected, tuple), (mapping, schema, event)
    else:
        assert json.dumps(got) == json.dumps(expected), (mapping, schema, event)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload_schema_and_mapping(), st.lists(EVENTS, min_size=1, max_size=6))
def test_compiled_pipeline_equals_process(
    schema_and_mapping: tuple[dict[str, Any], Any], events: list[dict[str, Any]]
) -> None:
    schema, mapping = schema_and_mapping
    compiled = compile_and_load(mapping, schema)
    for event in events:
        assert_same(mapping, schema, event, compiled)


def test_compiled_pipeline_rejects_exactly_when_process_raises() -> None:
    schema = {
        "type": "object",
        "properties": {"ip": {"title": "IP", "type": "string"}, "n": {"type": "integer"}},
        "required": ["ip"],
        "additionalProperties": False,
    }
    mapping = {"ip": {"@path": "$.ip"}, "n": {"@path": "$.n"}}
    compiled = compile_and_load(mapping, schema)
    assert compiled({"ip": "1.2.3.4", "n": "7"}) == {"ip": "1.2.3.4", "n": 7}
    # "" is removed, then ip is missing: with every other field valid, the error comes directly
    with pytest.raises(runtime_payload.PayloadValidationError) as raised:
        compiled({"ip": "", "n": 1})
    assert (raised.value.message, raised.value.field) == (
        "The root value is missing the required field 'ip'.",
        "/ip",
    )
    assert compiled({"ip": "1.2.3.4", "n": "seven"}) is None
    assert compiled({"ip": 5}) == {"ip": "5"}  # a number where a string belongs is coerced


# --- every field shape against every hostile value, at the top level and nested -------------

HOSTILE_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    -1,
    7,
    2.5,
    1e21,
    -0.0,
    2**60,
    "",
    " ",
    "a",
    "pro",
    "true",
    "false",
    "0",
    "1",
    "7",
    "2.5",
    "1e3",
    "seven",
    "2024-03-05T10:20:30.000Z",
    "2024-02-30T00:00:00Z",
    "2024-03-05",
    "1709634030",
    "x@example.com",
    "https://example.com/a",
    "127.0.0.1",
    "example.com",
    "10:20:30Z",
    "123e4567-e89b-12d3-a456-426614174000",
    [],
    [None],
    [""],
    ["a"],
    [1],
    [True],
    ["a", 1, None, ""],
    [{"a": 1}],
    [[1]],
    {},
    {"a": None},
    {"a": ""},
    {"url": "u", "z": 1},
    {"a": {"b": None}},
]


def _shapes() -> list[dict[str, Any]]:
    shapes: list[dict[str, Any]] = []
    for kind in ["string", "number", "integer", "boolean", "object", ["string", "number"]]:
        for nullable in (False, True):
            types = kind if isinstance(kind, list) else [kind]
            base: dict[str, Any] = {"title": "F", "type": [*types, "null"] if nullable else kind}
            shapes.append(base)
            if kind == "string":
                for extra in (
                    {"format": "date-time"},
                    {"format": "email"},
                    {"format": "uri"},
                    {"format": "ipv4"},
                    {"enum": ["a", "pro"] + ([None] if nullable else [])},
                    {"minLength": 2, "maxLength": 5},
                ):
                    shapes.append({**base, **extra})
            if kind in ("number", "integer"):
                shapes.append({**base, "minimum": 0, "maximum": 10})
                shapes.append({**base, "enum": [0, 1] + ([None] if nullable else [])})
            if kind == ["string", "number"]:
                shapes.append({**base, "format": "date-like"})
            if kind == "object":
                shapes.append({**base, "properties": {"url": {"type": "string"}}})
                shapes.append({**base, "additionalProperties": False})
    shapes.append({"title": "Any"})
    for items in ({"type": "string"}, {"type": "number"}, {"type": "object"}):
        shapes.append({"title": "List", "type": "array", "items": items})
        shapes.append({"title": "List", "type": ["array", "null"], "items": items})
    return shapes


def test_every_field_shape_and_value_at_top_level_and_nested() -> None:
    checked = 0
    for shape in _shapes():
        schema = {
            "type": "object",
            "properties": {
                "f": shape,
                "page": {
                    "type": "object",
                    "properties": {"f": shape},
                    "additionalProperties": False,
                },
            },
            "additionalProperties": False,
        }
        mapping = {"f": {"@path": "$.v"}, "page": {"f": {"@path": "$.v"}}}
        compiled = compile_and_load(mapping, schema)
        for value in HOSTILE_VALUES:
            assert_same(mapping, schema, {"v": value}, compiled)
            checked += 1
    assert checked > 2000


# --- the shortcuts for dates agree with the full checks ---------------------------------------

ISO_LIKE = st.builds(
    lambda y, mo, d, sep, h, mi, s, frac, zone: (
        f"{y:04d}-{mo:02d}-{d:02d}{sep}{h:02d}:{mi:02d}"
        + (f":{s:02d}" if s is not None else "")
        + frac
        + zone
    ),
    st.integers(0, 9999),
    st.integers(0, 13),
    st.integers(0, 32),
    st.sampled_from(["T", "t", " "]),
    st.integers(0, 25),
    st.integers(0, 60),
    st.none() | st.integers(0, 61),
    st.sampled_from(["", ".0", ".123", ".123456789", ".1234567890"]),
    st.sampled_from(["", "Z", "z", "+05:30", "-24:00", "+0530", "+05"]),
)


@settings(max_examples=1500, deadline=None)
@given(ISO_LIKE | st.text(alphabet="0123456789-T:.Z+ ", max_size=30))
def test_date_shortcuts_agree_with_full_checks(text: str) -> None:
    assert runtime_payload.date_like(text) == runtime_payload.is_date_like(text)
    assert runtime_payload.is_date_time(text) == runtime_payload._check_format(text, "date-time")


def test_date_shortcut_is_taken_for_common_timestamps() -> None:
    # The fast pattern must cover what analytics libraries send, or it buys nothing.
    for text in ["2024-03-05T10:20:30.000Z", "2024-03-05T10:20:30Z", "2024-03-05T10:20:30+01:00"]:
        assert re.fullmatch(runtime_payload._ISO_INSTANT, text)
        assert runtime_payload._ISO_DATE_TIME.fullmatch(text)
