"""Run-time helpers for compiled triggers (imported by generated code as `_fql`).

Compiled trigger expressions (see `actionspec.languages.triggers.compile_expression`) call these
once per condition per event, so they are small and avoid allocation. Their meaning follows
Segment's `@segment/destination-subscriptions` package, which runs on JavaScript values; the
reference interpreter `actionspec.languages.triggers.evaluate` defines it independently and the
tests check that both agree, and that both agree with verdicts recorded from Segment.

Missing and null values are both represented by `None`: Segment's operators never tell
`undefined` from `null` apart.

This file is copied verbatim into generated packages: standard library only, no actionspec.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

__all__ = [
    "ARRAY_METHODS",
    "BUILTIN",
    "NUMBER_METHODS",
    "STRING_METHODS",
    "contains",
    "ends_with",
    "ge",
    "get",
    "gt",
    "js_number",
    "le",
    "lt",
    "not_contains",
    "not_ends_with",
    "not_starts_with",
    "num_eq",
    "num_ne",
    "starts_with",
]


class _Builtin:
    """A method that JavaScript finds on a string, array or number (`"abc".at`, `[1].map`).

    Segment walks paths with `value[key]`, so `properties.plan.at` is a function when `plan` is
    a string: present (`!= null` matches), but equal to no literal and neither a string nor a
    number. This one object stands for all of them; its own members count as missing.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "<JavaScript built-in method>"


BUILTIN: Final = _Builtin()

# The methods of String.prototype, Array.prototype and Number.prototype (Node 20), without
# `length` (modelled exactly) and without the members every object has (`toString`,
# `constructor`, ...), which triggers cannot name. tests/test_triggers_reference.py checks these
# against the names recorded from Node.
# fmt: off
STRING_METHODS: Final = frozenset({
    "anchor", "at", "big", "blink", "bold", "charAt", "charCodeAt", "codePointAt", "concat",
    "endsWith", "fixed", "fontcolor", "fontsize", "includes", "indexOf", "isWellFormed",
    "italics", "lastIndexOf", "link", "localeCompare", "match", "matchAll", "normalize", "padEnd",
    "padStart", "repeat", "replace", "replaceAll", "search", "slice", "small", "split",
    "startsWith", "strike", "sub", "substr", "substring", "sup", "toLocaleLowerCase",
    "toLocaleUpperCase", "toLowerCase", "toUpperCase", "toWellFormed", "trim", "trimEnd",
    "trimLeft", "trimRight", "trimStart"
})
ARRAY_METHODS: Final = frozenset({
    "at", "concat", "copyWithin", "entries", "every", "fill", "filter", "find", "findIndex",
    "findLast", "findLastIndex", "flat", "flatMap", "forEach", "includes", "indexOf", "join",
    "keys", "lastIndexOf", "map", "pop", "push", "reduce", "reduceRight", "reverse", "shift",
    "slice", "some", "sort", "splice", "toReversed", "toSorted", "toSpliced", "unshift", "values",
    "with"
})
NUMBER_METHODS: Final = frozenset({"toExponential", "toFixed", "toPrecision"})
# fmt: on


def get(value: object, keys: tuple[str, ...]) -> object:
    """Follow `keys` from `value` the way Segment's `get()` does; `None` when absent.

    Segment walks with JavaScript's `obj && obj[key]`, so a falsy value met on the way (0, "",
    false, null) is itself the result: `properties.a.b` is 0 when `properties.a` is 0. Arrays
    and strings answer numeric keys and `length` (strings in UTF-16 code units, as JavaScript),
    and their methods (see `BUILTIN`).
    """
    for key in keys:
        if type(value) is dict:  # the common case, first and fast
            value = value.get(key)
        elif value is None or value is False or value == "":
            return value
        elif isinstance(value, Mapping):
            value = value.get(key)
        elif isinstance(value, list):
            value = _list_member(value, key)
        elif isinstance(value, str):
            value = _str_member(value, key)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            # 0 and NaN are falsy in JavaScript and end the walk.
            if value == 0 or value != value:
                return value
            value = BUILTIN if key in NUMBER_METHODS else None
        else:  # true, a built-in method, or anything that is not JSON: no such member
            return None
    return value


def _index(key: str) -> int | None:
    """The array index a JavaScript property key denotes ("0", "12"; not "01", "-1", "1.0")."""
    if key.isdigit() and key.isascii() and (key == "0" or key[0] != "0"):
        return int(key)
    return None


def _list_member(items: list[object], key: str) -> object:
    if key == "length":
        return len(items)
    index = _index(key)
    if index is not None:
        return items[index] if index < len(items) else None
    return BUILTIN if key in ARRAY_METHODS else None


def _str_member(text: str, key: str) -> object:
    if key == "length":
        # JavaScript strings are UTF-16: characters outside the BMP count as two code units.
        if text.isascii() or max(text) <= "\uffff":
            return len(text)
        return len(text.encode("utf-16-le", "surrogatepass")) // 2
    index = _index(key)
    if index is None:
        return BUILTIN if key in STRING_METHODS else None
    if text.isascii() or max(text) <= "\uffff":
        return text[index] if index < len(text) else None
    units = text.encode("utf-16-le", "surrogatepass")
    if 2 * index + 2 > len(units):
        return None
    return units[2 * index : 2 * index + 2].decode("utf-16-le", "surrogatepass")


# JavaScript numbers are doubles: integers beyond 2**53 are rounded when an event is parsed.
_SAFE: Final = 2**53


def js_number(value: object) -> int | float | None:
    """`value` as the JavaScript number Segment sees, or None when it is not a number.

    Python keeps JSON integers exact; JavaScript rounds them to a double (and overflows to
    Infinity), so `= 9007199254740992` matches 9007199254740993 there. Within +-2**53 an int
    compares exactly like its double, so only larger ones are converted.
    """
    if type(value) is float or (type(value) is int and -_SAFE <= value <= _SAFE):
        return value  # the common cases, first and fast
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, int) and not -_SAFE <= value <= _SAFE:
        try:
            return float(value)
        except OverflowError:
            return float("inf") if value > 0 else float("-inf")
    return value


def num_eq(value: object, number: float) -> bool:
    """`field = 5`: only numbers match (the string "5" does not)."""
    actual = js_number(value)
    return actual is not None and actual == number


def num_ne(value: object, number: float) -> bool:
    """`field != 5`: only numbers match, so a missing field does not."""
    actual = js_number(value)
    return actual is not None and actual != number


def lt(value: object, number: float) -> bool:
    actual = js_number(value)
    return actual is not None and actual < number


def le(value: object, number: float) -> bool:
    actual = js_number(value)
    return actual is not None and actual <= number


def gt(value: object, number: float) -> bool:
    actual = js_number(value)
    return actual is not None and actual > number


def ge(value: object, number: float) -> bool:
    actual = js_number(value)
    return actual is not None and actual >= number


# The string functions match strings only; their negated forms too (so a missing field
# matches neither `contains(...)` nor `!contains(...)`). They share one signature, so callers
# can pick one of them as a value.


def contains(value: object, text: str) -> bool:
    return isinstance(value, str) and text in value


def not_contains(value: object, text: str) -> bool:
    return isinstance(value, str) and text not in value


def starts_with(value: object, text: str) -> bool:
    return isinstance(value, str) and value.startswith(text)


def not_starts_with(value: object, text: str) -> bool:
    return isinstance(value, str) and not value.startswith(text)


def ends_with(value: object, text: str) -> bool:
    return isinstance(value, str) and value.endswith(text)


def not_ends_with(value: object, text: str) -> bool:
    return isinstance(value, str) and not value.endswith(text)
