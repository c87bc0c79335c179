"""Run-time helpers for compiled triggers (imported by generated code as `_fql`).

Compiled trigger expressions (see `actionspec.languages.triggers.compile_expression`) call these
once per condition per event, so they are small and avoid allocation. Their meaning follows
Segment's `@segment/destination-subscriptions` package; the reference interpreter
`actionspec.languages.triggers.evaluate` defines it and the tests check both agree.

Missing and null values are both represented by `None`: Segment's operators never tell
`undefined` from `null` apart.

This file is copied verbatim into generated packages: standard library only, no actionspec.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeGuard

__all__ = [
    "contains",
    "ends_with",
    "ge",
    "get",
    "gt",
    "le",
    "lt",
    "not_contains",
    "not_ends_with",
    "not_starts_with",
    "num_eq",
    "num_ne",
    "starts_with",
]


def get(value: object, keys: tuple[str, ...]) -> object:
    """Follow `keys` from `value` the way Segment's `get()` does; `None` when absent.

    Segment walks with JavaScript's `obj && obj[key]`, so a falsy value met on the way (0, "",
    false, null) is itself the result: `properties.a.b` is 0 when `properties.a` is 0. Arrays
    and strings answer numeric keys and `length` (strings in UTF-16 code units, as JavaScript).
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
            # 0 and NaN are falsy in JavaScript and end the walk; other numbers have no keys.
            if value == 0 or value != value:
                return value
            return None
        else:  # true, or anything that is not JSON: no such member
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
    if index is not None and index < len(items):
        return items[index]
    return None


def _str_member(text: str, key: str) -> object:
    # JavaScript strings are UTF-16: characters outside the BMP count as two code units.
    wide = not text.isascii() and max(text) > "\uffff"
    if key == "length":
        return len(text.encode("utf-16-le", "surrogatepass")) // 2 if wide else len(text)
    index = _index(key)
    if index is None:
        return None
    if not wide:
        return text[index] if index < len(text) else None
    units = text.encode("utf-16-le", "surrogatepass")
    if 2 * index + 2 > len(units):
        return None
    return units[2 * index : 2 * index + 2].decode("utf-16-le", "surrogatepass")


def _is_number(value: object) -> TypeGuard[int | float]:
    # JavaScript's typeof value === "number": bool is an int in Python but not a number there.
    return isinstance(value, int | float) and not isinstance(value, bool)


def num_eq(value: object, number: float) -> bool:
    """`field = 5`: only numbers match (the string "5" does not)."""
    return _is_number(value) and value == number


def num_ne(value: object, number: float) -> bool:
    """`field != 5`: only numbers match, so a missing field does not."""
    return _is_number(value) and value != number


def lt(value: object, number: float) -> bool:
    return _is_number(value) and value < number


def le(value: object, number: float) -> bool:
    return _is_number(value) and value <= number


def gt(value: object, number: float) -> bool:
    return _is_number(value) and value > number


def ge(value: object, number: float) -> bool:
    return _is_number(value) and value >= number


# The string functions match strings only; their negated forms too (so a missing field
# matches neither `contains(...)` nor `!contains(...)`).


def contains(value: object, part: str) -> bool:
    return isinstance(value, str) and part in value


def not_contains(value: object, part: str) -> bool:
    return isinstance(value, str) and part not in value


def starts_with(value: object, prefix: str) -> bool:
    return isinstance(value, str) and value.startswith(prefix)


def not_starts_with(value: object, prefix: str) -> bool:
    return isinstance(value, str) and not value.startswith(prefix)


def ends_with(value: object, suffix: str) -> bool:
    return isinstance(value, str) and value.endswith(suffix)


def not_ends_with(value: object, suffix: str) -> bool:
    return isinstance(value, str) and not value.endswith(suffix)
