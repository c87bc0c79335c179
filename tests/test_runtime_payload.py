"""The payload pipeline (runtime/payload.py) against the observations in
tests/segment_reference/FINDINGS.md: empty-value removal, AJV-style coercion, stripping, formats,
messages and key order. The schema is the probe spec's (tests/specs/probe/probe.yaml), derived by
the generator exactly as for a generated package.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actionspec.runtime import payload as p
from actionspec.runtime.payload import PayloadValidationError, process

ROOT = Path(__file__).resolve().parents[1]


@functools.cache
def probe_schema() -> dict[str, Any]:
    from actionspec import generate
    from actionspec.config import Config
    from actionspec.targets import jsonschema

    config = Config(
        root=ROOT,
        specs=ROOT / "tests" / "specs" / "probe",
        output=ROOT / "unused",
        package="probe_pkg",
        distribution="probe_pkg",
        version="0",
    )
    (dest,) = generate.load_specs(config)
    return jsonschema.payload_schema(dest, dest.actions[0])


def run(**fields: Any) -> dict[str, Any]:
    return process({"req": "r", **fields}, probe_schema())


def error(**fields: Any) -> str:
    with pytest.raises(PayloadValidationError) as caught:
        process({"req": "r", **fields}, probe_schema())
    return caught.value.message


# --- empty values ------------------------------------------------------------------------------


def test_top_level_empty_and_null_are_dropped_for_every_type() -> None:
    fields = [
        "s",
        "n",
        "i",
        "b",
        "dt",
        "dtf",
        "d",
        "email",
        "uri",
        "uuid",
        "txt",
        "pwd",
        "multi_s",
        "multi_n",
        "obj_open",
        "obj_props",
        "obj_closed",
        "obj_multi",
        "choice",
        "len",
    ]
    assert run(**dict.fromkeys(fields, "")) == {"req": "r"}
    assert run(**dict.fromkeys(fields, None)) == {"req": "r"}


def test_allow_null_keeps_null_but_not_empty_string() -> None:
    assert run(s_null=None, n_null=None) == {"req": "r", "s_null": None, "n_null": None}
    assert run(s_null="", n_null="") == {"req": "r"}


@pytest.mark.parametrize("value", ["", None])
def test_required_field_empty_is_missing(value: Any) -> None:
    with pytest.raises(PayloadValidationError) as caught:
        process({"req": value}, probe_schema())
    assert caught.value.message == "The root value is missing the required field 'req'."
    assert caught.value.field == "/req"


def test_declared_properties_are_cleaned_by_type() -> None:
    # "" kept in a string property, dropped elsewhere; null dropped; undeclared keys stripped.
    assert run(obj_props={"a": "", "n": "", "b": "", "x": "", "y": None}) == {
        "req": "r",
        "obj_props": {"a": ""},
    }
    assert run(obj_props={"a": None, "n": None, "b": None}) == {"req": "r", "obj_props": {}}


def test_open_object_is_kept_as_is_at_any_depth() -> None:
    value = {"a": "", "b": None, "c": {"d": "", "e": None}, "arr": ["", None, 1], "empty": {}}
    assert run(obj_open=value) == {"req": "r", "obj_open": value}


def test_multiple_scalars_lose_null_items_and_non_string_empty_items() -> None:
    assert run(multi_s=["a", "", None, "b"], multi_n=[1, "", None, 2, "3"]) == {
        "req": "r",
        "multi_s": ["a", "", "b"],
        "multi_n": [1, 2, 3],
    }


def test_multiple_objects_items_are_not_cleaned_but_coerced() -> None:
    assert run(obj_multi=[None, {"a": None, "n": None}]) == {
        "req": "r",
        "obj_multi": [{"a": "", "n": 0}],
    }
    assert error(obj_multi=[{"a": "", "n": ""}]) == "N must be a number but it was a string."
    assert run(obj_multi=[{"a": "", "n": "5", "zz": 1}]) == {
        "req": "r",
        "obj_multi": [{"a": "", "n": 5}],
    }


def test_additional_properties_true_keeps_undeclared_untouched() -> None:
    assert run(obj_addl_true={"a": 5, "n": "", "zzz": 1, "nul": None, "emp": ""}) == {
        "req": "r",
        "obj_addl_true": {"a": "5", "zzz": 1, "nul": None, "emp": ""},
    }


def test_empty_object_stays() -> None:
    assert run(obj_open={}, obj_props={}) == {"req": "r", "obj_open": {}, "obj_props": {}}


# --- coercion ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"s": 12.5, "txt": 0, "pwd": -1, "len": 123},
            {"s": "12.5", "txt": "0", "pwd": "-1", "len": "123"},
        ),
        ({"s": True, "txt": False}, {"s": "true", "txt": "false"}),
        ({"n": "3.25", "i": "42"}, {"n": 3.25, "i": 42}),
        ({"n": "1e3"}, {"n": 1000}),
        ({"n": True, "i": False}, {"n": 1, "i": 0}),
        ({"b": "false"}, {"b": False}),
        ({"b": 1}, {"b": True}),
        ({"multi_s": "solo", "multi_n": "7"}, {"multi_s": ["solo"], "multi_n": [7]}),
        ({"multi_s": 5}, {"multi_s": ["5"]}),
        ({"obj_multi": {"a": "x", "n": "1"}}, {"obj_multi": [{"a": "x", "n": 1}]}),
        ({"s": ["only"], "n": ["8"]}, {"s": "only", "n": 8}),
        # AJV: [null] is null, which is coerced where null is not allowed
        ({"s": [None], "n": [None], "b": [None]}, {"s": "", "n": 0, "b": False}),
        # ... and under a union (allowNull) it coerces the item even where it is of a type
        ({"s_null": [None], "n_null": [None]}, {"s_null": "", "n_null": 0}),
        ({"s_null": [1], "n_null": [True]}, {"s_null": "1", "n_null": 1}),
        ({"dt": 1709634030}, {"dt": 1709634030}),
        ({"dt": "2024-03-05"}, {"dt": "2024-03-05"}),
        (
            {"obj_props": {"a": 5, "n": "6", "b": "true"}},
            {"obj_props": {"a": "5", "n": 6, "b": True}},
        ),
    ],
)
def test_coercion(fields: dict[str, Any], expected: dict[str, Any]) -> None:
    result = run(**fields)
    assert result == {"req": "r", **expected}
    assert {k: type(v) for k, v in result.items()} == {
        k: type(v) for k, v in {"req": "r", **expected}.items()
    }


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"n": "abc"}, "N must be a number but it was a string."),
        ({"i": "4.5"}, "I must be an integer but it was a string."),
        ({"i": 4.5}, "I must be an integer but it was a number."),
        ({"b": "yes"}, "B must be a boolean but it was a string."),
        ({"b": 2}, "B must be a boolean but it was a number."),
        ({"s": ["a", "b"]}, "S must be a string but it was an array."),
        ({"s": {"a": 1}}, "S must be a string but it was an object."),
        # AJV unwraps one level, and only a scalar; under a union it never keeps the item as is
        ({"s": [["a"]]}, "S must be a string but it was an array."),
        ({"obj_open": [{"a": 1}]}, "Obj_open must be an object but it was an array."),
        ({"s_null": ["x"]}, "S_null must be a string or null but it was a string."),
        ({"n_null": [2]}, "N_null must be a number or null but it was a number."),
        ({"obj_open": "str"}, "Obj_open must be an object but it was a string."),
        ({"obj_open": [1, 2]}, "Obj_open must be an object but it was an array."),
        ({"obj_props": 5}, "Obj_props must be an object but it was a number."),
        ({"obj_props": {"n": "abc"}}, "N must be a number but it was a string."),
        ({"choice": "blue"}, 'Choice must be one of: "red" or "green".'),
        ({"len": "a"}, "Len must be 2 characters or more but it was 1 character."),
        ({"len": "abcdefgh"}, "Len must be 5 characters or fewer but it was 8 characters."),
        ({"email": "nope"}, "Email must be a valid email address string but it was not."),
        ({"uri": "not a uri"}, "Uri must be a valid URI string but it was not."),
        ({"uuid": "123"}, "Uuid must be a valid uuid string but it was not."),
        ({"d": "2024-02-30"}, "D must be a valid date string but it was not."),
        ({"d": "2024-01-01T00:00:00Z"}, "D must be a valid date string but it was not."),
        ({"dtf": 1709634030}, "Dtf must be a valid date and time string but it was not."),
        ({"dt": True}, "Dt must be a valid date-like string but it was not."),
    ],
)
def test_error_messages(fields: dict[str, Any], message: str) -> None:
    assert error(**fields) == message


def test_errors_required_first_then_field_order() -> None:
    with pytest.raises(PayloadValidationError) as caught:
        process({"choice": "blue", "n": "x", "b": "maybe"}, probe_schema())
    assert caught.value.message == (
        "The root value is missing the required field 'req'. N must be a number but it was a string. "
        'B must be a boolean but it was a string. Choice must be one of: "red" or "green".'
    )
    assert [f for f, _ in caught.value.errors] == ["/req", "/n", "/b", "/choice"]
    assert caught.value.field == "/req"


def test_choices_wording_for_three_values() -> None:
    schema = {
        "type": "object",
        "properties": {"c": {"title": "colour", "type": "string", "enum": ["a", "b", "c"]}},
    }
    with pytest.raises(PayloadValidationError) as caught:
        process({"c": "z"}, schema)
    assert caught.value.message == 'Colour must be one of: "a", "b", or "c".'


# --- formats -----------------------------------------------------------------------------------

DATE_TIME_OK = [
    "2024-03-05T10:20:30Z",
    "2024-03-05T10:20:30.123456789Z",
    "2024-03-05t10:20:30z",
    "2024-03-05 10:20:30",
    "2024-03-05T10:20:30",
    "2024-03-05T10:20:30+0200",
    "2024-03-05T10:20:30+02",
    "2024-03-05T10:20:30+02:00",
    "2024-03-05\u00a010:20:30",  # JavaScript's \s (ajv-formats' regex) holds the no-break
    "2024-03-05\u300010:20:30",  # and ideographic spaces
]
DATE_TIME_BAD = [
    "2024-03-05\x1c10:20:30",  # Python's Unicode \s, not JavaScript's
    "2024-03-05T10:20",
    "2024-03-05T25:00:00Z",
    "2024-02-30T10:00:00Z",
    "2024-03-05",
    "March 5, 2024",
    "1709634030",
    " ",
    "2024-03-05T10:20:30.Z",
    "yesterday",
]
DATE_LIKE_OK = [
    "2024-03-05T10:20:30Z",
    "2024-03-05t10:20:30z",
    "2024-03-05 10:20:30",
    "2024-03-05T10:20",
    "2024-03-05T10:20:30+0200",
    "2024-02-30T10:00:00Z",
    "2024-03-05",
    "March 5, 2024",
    "1709634030",
    "1709634030123",
    "5 March 2024 10:20 pm",
    "Tue Mar 05 2024 10:20:30 GMT+0200 (CEST)",
    "2024/03/05",
    "3/5/2024",
    "-1",
    "2024-03-05\u00a010:20",  # dayjs' own parse: JavaScript's \s between date and time
]
DATE_LIKE_BAD = [
    "2024-03-05T10:20:30+02",
    "2024-03-05T25:00:00Z",
    "March",
    "yesterday",
    "true",
    " ",
    "2024-03-05T10:20:30.Z",
    "NaN",
    "Infinity",
    "1e21",
    "13/45/2024",
    "10:20",
]


@pytest.mark.parametrize("text", DATE_TIME_OK)
def test_date_time_accepts(text: str) -> None:
    assert run(dtf=text)["dtf"] == text


@pytest.mark.parametrize("text", DATE_TIME_BAD)
def test_date_time_rejects(text: str) -> None:
    assert error(dtf=text) == "Dtf must be a valid date and time string but it was not."


@pytest.mark.parametrize("text", DATE_LIKE_OK)
def test_date_like_accepts_and_passes_through(text: str) -> None:
    assert p.is_date_like(text)
    assert run(dt=text)["dt"] == text


@pytest.mark.parametrize("text", DATE_LIKE_BAD)
def test_date_like_rejects(text: str) -> None:
    assert not p.is_date_like(text)
    assert error(dt=text) == "Dt must be a valid date-like string but it was not."


@given(
    st.integers(min_value=-(10**12), max_value=10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
)
def test_datetime_numbers_always_pass_unchanged(value: float) -> None:
    assert run(dt=value)["dt"] == value


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (-0.0, "0"),
        (12.5, "12.5"),
        (1e21, "1e+21"),
        (1e16, "10000000000000000"),
        (1e-7, "1e-7"),
        (0.000001, "0.000001"),
        (123e-20, "1.23e-18"),
        (0.1 + 0.2, "0.30000000000000004"),
        (float("inf"), "Infinity"),
        (2.0, "2"),
    ],
)
def test_js_string(value: float, text: str) -> None:
    assert p.js_string(value) == text


# --- properties --------------------------------------------------------------------------------
# The generated payloads hold values Segment would accept for each field (plus "" and null). A
# scalar field is never given a one-item array: AJV unwraps it *after* empty values were removed,
# so `[""]` would end as "" at the top level (in Segment too) and the first property would not hold.

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(-1e6, 1e6)
    | st.text(max_size=6)
    | st.sampled_from(
        ["", "0", "1", "true", "false", "2024-03-05T10:20:30Z", "a@b.co", "red", "abc"]
    )
)
JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["a", "n", "b", "x", "zz"]), inner, max_size=4)
    ),
    max_leaves=8,
)
FIELDS = list(probe_schema()["properties"])
EMPTY = st.sampled_from(["", None])
TEXT = (
    st.text(max_size=5)
    | st.integers(-99, 99)
    | st.floats(-1e3, 1e3, allow_nan=False)
    | st.booleans()
    | EMPTY
)
NUMBER = (
    st.integers(-99, 99)
    | st.floats(-1e3, 1e3, allow_nan=False)
    | st.sampled_from(["5", "-2.5", "1e3"])
    | st.booleans()
    | EMPTY
)
BOOLEAN = st.booleans() | st.sampled_from(["true", "false", 0, 1]) | EMPTY


def _object(**props: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={**props, "x": JSON})


# Values of every kind Segment accepts for each probe field (valid after coercion), with "" and null.
FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "s": TEXT,
    "txt": TEXT,
    "pwd": TEXT,
    "n": NUMBER,
    "i": st.integers(-99, 99) | st.sampled_from(["42", True]) | EMPTY,
    "b": BOOLEAN,
    "dt": st.integers(-(10**12), 10**12)
    | st.sampled_from(["2024-03-05", "March 5, 2024", "1709634030"])
    | EMPTY,
    "dtf": st.sampled_from(["2024-03-05T10:20:30Z", "2024-03-05 10:20:30+02:00"]) | EMPTY,
    "d": st.sampled_from(["2024-01-01"]) | EMPTY,
    "email": st.sampled_from(["a@b.co"]) | EMPTY,
    "uri": st.sampled_from(["https://x.y/z"]) | EMPTY,
    "uuid": st.sampled_from(["123e4567-e89b-12d3-a456-426614174000"]) | EMPTY,
    "multi_s": st.lists(TEXT, max_size=4) | TEXT,
    "multi_n": st.lists(NUMBER, max_size=4) | NUMBER,
    "obj_open": st.dictionaries(st.text(max_size=3), JSON, max_size=4) | EMPTY,
    "obj_props": _object(a=TEXT, n=NUMBER, b=BOOLEAN) | EMPTY,
    "obj_closed": _object(a=TEXT, n=NUMBER) | EMPTY,
    "obj_addl_true": _object(a=TEXT, n=NUMBER) | EMPTY,
    "obj_multi": st.lists(
        st.none()
        | st.fixed_dictionaries(
            {},
            optional={
                "a": st.text(max_size=3) | st.none(),
                "n": st.integers() | st.none(),
                "x": JSON,
            },
        ),
        max_size=3,
    )
    | EMPTY,
    "s_null": TEXT,
    "n_null": NUMBER,
    "choice": st.sampled_from(["red", "green"]) | EMPTY,
    "len": st.sampled_from(["ab", "abcde", 123]) | EMPTY,
    "req": st.sampled_from(["r", 7]),
}
assert set(FIELD_VALUES) == set(FIELDS)
PAYLOADS = st.fixed_dictionaries(
    {"req": FIELD_VALUES["req"]},
    optional={
        **{k: v for k, v in FIELD_VALUES.items() if k != "req"},
        "undeclared": JSON,
        "type": JSON,
    },
)
ANY_PAYLOADS = st.dictionaries(st.sampled_from([*FIELDS, "undeclared", "type"]), JSON, max_size=8)


def _process_or_none(payload: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return process(payload, probe_schema())
    except PayloadValidationError:
        return None


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(PAYLOADS)
def test_no_top_level_empty_or_null_unless_allow_null(payload: dict[str, Any]) -> None:
    result = process(payload, probe_schema())
    for key, value in result.items():
        assert value != ""
        if value is None:
            assert key in ("s_null", "n_null")


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(PAYLOADS)
def test_processing_is_idempotent(payload: dict[str, Any]) -> None:
    once = process(payload, probe_schema())
    assert process(once, probe_schema()) == once


@settings(max_examples=200)
@given(st.permutations(FIELDS))
def test_key_order_follows_the_mapping(order: list[str]) -> None:
    valid = {
        "s": "x",
        "n": 1,
        "i": 2,
        "b": True,
        "dt": 0,
        "dtf": "2024-03-05T10:20:30Z",
        "d": "2024-01-01",
        "email": "a@b.co",
        "uri": "https://x.y/",
        "uuid": "123e4567-e89b-12d3-a456-426614174000",
        "txt": "t",
        "pwd": "p",
        "multi_s": ["a"],
        "multi_n": [1],
        "obj_open": {"z": 1, "a": 2},
        "obj_props": {"b": True, "a": "x"},
        "obj_closed": {"n": 1, "a": "y"},
        "obj_addl_true": {"q": 1},
        "obj_multi": [{"n": 1, "a": "z"}],
        "s_null": None,
        "n_null": None,
        "choice": "red",
        "len": "abc",
        "req": "r",
    }
    mapped = {key: valid[key] for key in order}
    result = process(mapped, probe_schema())
    assert list(result) == order
    assert list(result["obj_open"]) == ["z", "a"]
    assert list(result["obj_props"]) == ["b", "a"]  # nested order is the mapped order too


@given(ANY_PAYLOADS)
def test_undeclared_top_level_keys_never_survive(payload: dict[str, Any]) -> None:
    result = _process_or_none(payload)
    if result is not None:
        assert set(result) <= set(FIELDS)


@given(ANY_PAYLOADS)
def test_errors_name_a_field_and_end_with_a_period(payload: dict[str, Any]) -> None:
    try:
        process(payload, probe_schema())
    except PayloadValidationError as exc:
        assert exc.errors
        assert all(message.endswith(".") for _, message in exc.errors)
        assert exc.message == " ".join(message for _, message in exc.errors)
        assert all(field.startswith("/") for field, _ in exc.errors)
