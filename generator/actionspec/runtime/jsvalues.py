"""JavaScript's view of JSON values, for the mapping language's Segment semantics.

Segment's mapping-kit is JavaScript: a value is "falsy", printed with String() or encoded with
JSON.stringify the JavaScript way, and string lengths count UTF-16 code units. These helpers give
the same answers for the values a JSON event can hold (Python None/bool/int/float/str/list/dict).
`MISSING` (JavaScript's undefined) is defined here so that every runtime module shares one.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any, ClassVar, Final


class _Missing:
    """The single "no value" marker (JavaScript's undefined)."""

    _instance: ClassVar[_Missing | None] = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Missing()

_NUMBER = (int, float)


def is_number(value: Any) -> bool:
    return isinstance(value, _NUMBER) and not isinstance(value, bool)


def truthy(value: Any) -> bool:
    """JavaScript truthiness: undefined, null, false, 0 and "" are falsy; [] and {} are not."""
    if value is MISSING or value is None or value is False or value == "":
        return False
    if is_number(value):
        return bool(value) and not (isinstance(value, float) and math.isnan(value))
    return True


def type_name(value: Any) -> str:
    """What Segment's realTypeOf says: "object", "array", "string", "number", "null", ..."""
    if value is MISSING:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def number_text(value: float) -> str:
    """JavaScript's Number.prototype.toString: 1.0 -> "1", 1e21 -> "1e+21", 1e-7 -> "1e-7"."""
    if isinstance(value, int) and abs(value) < 2**53:
        return str(value)  # exact; larger integers are doubles in JavaScript
    number = float(value)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "0"
    sign = "-" if number < 0 else ""
    # repr() gives the shortest digits that round-trip, as JavaScript does; only the layout differs.
    decimal = Decimal(repr(abs(number))).normalize().as_tuple()
    digits = "".join(map(str, decimal.digits))
    point = len(digits) + int(decimal.exponent)  # the value is 0.<digits> x 10^point
    count = len(digits)
    if count <= point <= 21:
        return sign + digits + "0" * (point - count)
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * -point + digits
    exponent = point - 1
    shown = digits[0] + ("." + digits[1:] if count > 1 else "")
    return f"{sign}{shown}e{'+' if exponent >= 0 else '-'}{abs(exponent)}"


def string(value: Any) -> str:
    """JavaScript's String(value) for JSON values (undefined -> "undefined", as JavaScript)."""
    if isinstance(value, str):
        return value
    if value is MISSING:
        return "undefined"
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if is_number(value):
        return number_text(value)
    if isinstance(value, list):  # Array.prototype.join: null and undefined items print as ""
        return ",".join("" if item is None or item is MISSING else string(item) for item in value)
    return "[object Object]"


def utf16_length(text: str) -> int:
    """`text.length` in JavaScript: astral characters count twice."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def utf16_unit(text: str, index: int) -> str | None:
    """`text[index]` in JavaScript (one UTF-16 code unit, maybe half a surrogate pair)."""
    if text.isascii():
        return text[index] if index < len(text) else None
    encoded = text.encode("utf-16-le", "surrogatepass")
    if 2 * index + 2 > len(encoded):
        return None
    return encoded[2 * index : 2 * index + 2].decode("utf-16-le", "surrogatepass")


def utf16_units(text: str) -> list[str]:
    """The UTF-16 code units of `text`, one string each (how Object.assign spreads a string)."""
    if text.isascii():
        return list(text)
    encoded = text.encode("utf-16-le", "surrogatepass")
    return [
        encoded[i : i + 2].decode("utf-16-le", "surrogatepass") for i in range(0, len(encoded), 2)
    ]


_JSON_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f\ud800-\udfff]')


def _json_string(text: str) -> str:
    if text.isascii():  # no lone surrogates: the C encoder escapes exactly what JavaScript does
        return encode_basestring(text)
    return (
        '"'
        + _NEEDS_ESCAPE.sub(
            lambda m: _JSON_ESCAPES.get(m.group(), f"\\u{ord(m.group()):04x}"), text
        )
        + '"'
    )


def json_text(value: Any) -> Any:
    """JSON.stringify(value): compact, keys in order, undefined keys skipped (MISSING for MISSING)."""
    if value is MISSING:
        return MISSING
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if is_number(value):
        return number_text(value) if math.isfinite(value) else "null"
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, list):
        return "[" + ",".join("null" if v is MISSING else json_text(v) for v in value) + "]"
    if isinstance(value, dict):
        items = [_json_string(k) + ":" + json_text(v) for k, v in value.items() if v is not MISSING]
        return "{" + ",".join(items) + "}"
    return MISSING  # not a JSON value (JavaScript skips functions and symbols the same way)
