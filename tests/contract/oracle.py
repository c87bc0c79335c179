"""What a field mapped by a plain `@path` must hold, from the documented pipeline rules.

Written from tests/segment_reference/FINDINGS.md (Segment's observed behaviour), not from the
runtime's code: at the top level `null` (unless `allowNull`) and `""` are dropped; inside an
object with declared properties `null` is dropped and `""` kept for string properties; AJV's
coercions (`coerceTypes: "array"`) turn numbers and booleans into strings, numeric strings into
numbers, "true"/"false" and 0/1 into booleans, a single value into a one-item list and a
one-item list into its value; undeclared keys of objects with declared properties are
stripped unless `additionalProperties: true`; objects are never made from other types.

Where the rules leave the outcome open (string formats, unusual number spellings), the
expectation says so: VALUE_OR_ERROR checks the value only if the payload is accepted, UNKNOWN
checks nothing.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Any

from actionspec import ir
from contract.strategies import MISSING, UNDECIDED

ABSENT, VALUE, VALUE_OR_ERROR, ERROR, UNKNOWN = "absent", "value", "value|error", "error", "?"
_DECIMAL = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")
_STRINGS = ("string", "text", "password")


@dataclass(frozen=True)
class Expect:
    kind: str
    value: Any = None

    def or_error(self) -> Expect:
        return Expect(VALUE_OR_ERROR, self.value) if self.kind == VALUE else self


def same(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but true is not 1; key order is not compared."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if number(a) and number(b):
        return bool(a == b)
    return type(a) is type(b) and a == b


def number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def top_level(field: ir.Field, raw: Any) -> Expect:
    """The payload value of a top-level field whose mapping read `raw` (MISSING: nothing)."""
    if raw is UNDECIDED:
        return Expect(UNKNOWN)
    if raw is MISSING or raw == "" or (raw is None and not field.allow_null):
        return Expect(ERROR) if field.required else Expect(ABSENT)
    return coerce(field, raw)


def nested(field: ir.Field, raw: Any) -> Expect:
    """A declared property inside an object field: `""` stays where a string is expected."""
    if raw is UNDECIDED:
        return Expect(UNKNOWN)
    if raw is MISSING:
        return Expect(ERROR) if field.required else Expect(ABSENT)
    if raw is None and not field.allow_null:
        return Expect(ERROR) if field.required else Expect(ABSENT)
    if raw == "" and field.type not in _STRINGS and not field.multiple:
        return Expect(ERROR) if field.required else Expect(ABSENT)
    return coerce(field, raw)


def coerce(field: ir.Field, raw: Any) -> Expect:
    if raw is None:  # allowNull fields keep null
        return Expect(VALUE, None)
    if field.multiple:
        return _multiple(field, raw)
    return _scalar_or_object(field, raw)


def _multiple(field: ir.Field, raw: Any) -> Expect:
    if field.type == "object":
        return Expect(UNKNOWN)  # items of object lists are coerced without cleaning
    items = raw if isinstance(raw, list) else [raw]
    if isinstance(raw, list):
        items = [v for v in items if v is not None and (v != "" or field.type in _STRINGS)]
    results = [_scalar_or_object(field, item) for item in items]
    if any(r.kind == ERROR for r in results):
        return Expect(ERROR)
    if any(r.kind == UNKNOWN for r in results):
        return Expect(UNKNOWN)
    value = [r.value for r in results]
    return Expect(
        VALUE_OR_ERROR if any(r.kind == VALUE_OR_ERROR for r in results) else VALUE, value
    )


def _scalar_or_object(field: ir.Field, raw: Any) -> Expect:
    if isinstance(raw, list):
        if field.type == "object":
            return Expect(UNKNOWN)
        if len(raw) != 1 or isinstance(raw[0], list | dict):
            return Expect(ERROR)
        if raw[0] is None:  # AJV reads [null] as null, and coerces null where null is not allowed
            return _null_item(field)
        if field.allow_null or field.type == "datetime":  # a union of types: see _union_item
            return _union_item(field, raw[0])
        return _scalar_or_object(field, raw[0])
    if field.type == "object":
        return _object(field, raw) if isinstance(raw, dict) else Expect(ERROR)
    if isinstance(raw, dict):
        return Expect(ERROR)
    result = _SCALARS[field.type](raw)
    return _constrained(field, result) if result.kind in (VALUE, VALUE_OR_ERROR) else result


# What AJV coerces null to, by field type (a datetime's "" is no date: an error).
_NULL_AS: dict[str, Any] = {
    "string": "",
    "text": "",
    "password": "",
    "number": 0,
    "integer": 0,
    "boolean": False,
}


def _null_item(field: ir.Field) -> Expect:
    """[null]: coerced even where null is allowed (under a union, as _union_item says)."""
    if field.type not in _NULL_AS:
        return Expect(ERROR)
    return _constrained(field, Expect(VALUE, _NULL_AS[field.type]))


def _union_item(field: ir.Field, item: Any) -> Expect:
    """The scalar item of a one-item list, under a union of types (allowNull, datetime): AJV
    never takes it as it is (its generated check joins the types with &&), it coerces it to the
    first type that takes it, in order."""
    kinds = ["string", "number"] if field.type == "datetime" else [field.type]
    for kind in [*kinds, "null"] if field.allow_null else kinds:
        result = _UNION_COERCIONS.get(kind, lambda _: None)(item)
        if result is not None:
            result = result.or_error() if field.type == "datetime" else result  # then its format
            return _constrained(field, result) if result.kind in (VALUE, VALUE_OR_ERROR) else result
    return Expect(ERROR)


def _to_string(raw: Any) -> Expect | None:
    if isinstance(raw, bool) or number(raw):
        return _string(raw)
    return None


def _to_number(raw: Any, integer: bool) -> Expect | None:
    if isinstance(raw, bool) or (isinstance(raw, str) and raw.strip()):
        return _number_value(raw, integer)
    return None


def _to_boolean(raw: Any) -> Expect | None:
    if raw in ("true", "false") or (number(raw) and raw in (0, 1)):
        return _boolean(raw)
    return None


def _to_null(raw: Any) -> Expect | None:
    return Expect(VALUE, None) if raw == "" or raw is False or (number(raw) and raw == 0) else None


# AJV's coercions of a value that is not already of the type; None: this type does not take it.
_UNION_COERCIONS: dict[str, Any] = {
    "string": _to_string,
    "text": _to_string,
    "password": _to_string,
    "number": lambda raw: _to_number(raw, integer=False),
    "integer": lambda raw: _to_number(raw, integer=True),
    "boolean": _to_boolean,
    "null": _to_null,
}


def _string(raw: Any) -> Expect:
    if isinstance(raw, str):
        return Expect(VALUE, raw)
    if isinstance(raw, bool):
        return Expect(VALUE, "true" if raw else "false")
    if isinstance(raw, int) and abs(raw) <= 2**53:
        return Expect(VALUE, str(raw))
    if isinstance(raw, float) and raw.is_integer() and abs(raw) <= 2**53:
        return Expect(VALUE, str(int(raw)))
    return Expect(UNKNOWN)  # other numbers: JavaScript's spelling (checked by the caller)


def _number_value(raw: Any, integer: bool) -> Expect:
    if isinstance(raw, bool):
        return Expect(VALUE, int(raw))
    if isinstance(raw, str):
        if not _DECIMAL.fullmatch(raw):
            return Expect(UNKNOWN) if raw.strip() else Expect(ERROR)
        number = float(raw)
        if not math.isfinite(number):
            return Expect(ERROR)
        raw = int(number) if number.is_integer() else number
    if integer and not (isinstance(raw, int) or raw.is_integer()):
        return Expect(ERROR)
    return Expect(VALUE, raw)


def _boolean(raw: Any) -> Expect:
    if isinstance(raw, bool):
        return Expect(VALUE, raw)
    if raw in ("true", "false"):
        return Expect(VALUE, raw == "true")
    if number(raw) and raw in (0, 1):
        return Expect(VALUE, raw == 1)
    return Expect(ERROR)


def _datetime(raw: Any) -> Expect:
    if isinstance(raw, str):
        return Expect(VALUE_OR_ERROR, raw)  # any dayjs-parsable text; not decided here
    if number(raw):
        return Expect(VALUE, raw)
    return Expect(UNKNOWN)


_SCALARS = {
    "string": _string,
    "text": _string,
    "password": _string,
    "number": lambda raw: _number_value(raw, integer=False),
    "integer": lambda raw: _number_value(raw, integer=True),
    "boolean": _boolean,
    "datetime": _datetime,
}


def _constrained(field: ir.Field, result: Expect) -> Expect:
    value = result.value
    if field.choices and not any(same(value, c.value) for c in field.choices):
        return Expect(ERROR)
    low, high = field.minimum, field.maximum
    size = len(value) if isinstance(value, str) else value if number(value) else None
    if size is not None and (
        (low is not None and size < low) or (high is not None and size > high)
    ):
        return Expect(ERROR)
    if field.format and field.format not in ("text", "password"):
        return result.or_error()
    return result


def _object(field: ir.Field, raw: dict[str, Any]) -> Expect:
    if not field.properties:
        return Expect(VALUE, raw)  # nothing inside is cleaned or coerced
    declared = {f.key: f for f in field.properties}
    keep_extra = field.additional_properties is True
    expected: dict[str, Any] = {}
    kind = VALUE
    for key in [*raw, *(k for k in declared if k not in raw)]:
        sub = declared.get(key)
        if sub is None:
            if keep_extra:
                expected[key] = raw[key]
            continue
        result = nested(sub, raw.get(key, MISSING))
        if result.kind in (ERROR, UNKNOWN):
            return result
        if result.kind == VALUE_OR_ERROR:
            kind = VALUE_OR_ERROR
        if result.kind != ABSENT:
            expected[key] = result.value
    return Expect(kind, expected)


def object_from_paths(field: ir.Field, raws: dict[str, Any]) -> Expect:
    """An object field whose default maps each declared property from its own path."""
    closed = dataclasses.replace(field, additional_properties=False)
    return _object(closed, {k: v for k, v in raws.items() if v is not MISSING})


def check_string_spelling(raw: Any, got: Any) -> bool:
    """For numbers the oracle does not spell: the string must read back as the number."""
    return isinstance(got, str) and number(raw) and float(got) == float(raw)
