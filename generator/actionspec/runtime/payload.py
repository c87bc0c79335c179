"""The payload pipeline of one action, as Segment's actions-core runs it.

After the mapping: remove empty values, then coerce, strip undeclared keys and validate against
the payload's JSON Schema (AJV with `coerceTypes: "array"` and `removeAdditional: true`).
Errors name the field and read like Segment's.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from ipaddress import IPv4Address, IPv6Address
from typing import Any, Final, NoReturn
from uuid import UUID

from .jsvalues import number_text, type_name

Schema = dict[str, Any]


class PayloadValidationError(ValueError):
    """A payload does not match its action's fields; `.field` is a JSON pointer like `/ip`."""

    def __init__(
        self, message: str, field: str | None = None, errors: list[tuple[str, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors = errors or [(field or "", message)]


# --- 1. remove empty values --------------------------------------------------------------------


def _types(schema: Schema) -> list[str]:
    kind = schema.get("type")
    if kind is None:
        return []
    return kind if isinstance(kind, list) else [kind]


def _drop(item: Any, kinds: list[str], drop_all_empty_strings: bool) -> bool:
    if item is None:
        return "null" not in kinds
    return item == "" and (drop_all_empty_strings or "string" not in kinds)


def remove_empty_values(value: Any, schema: Schema, root: bool = False) -> Any:
    """Drop nulls the schema does not allow and "" where no string is expected.

    Only declared properties are cleaned (recursively, where they declare properties too);
    at the top level of a payload "" is always dropped. Lists of scalars lose null items and
    "" items unless their items are strings; list items that are objects are not cleaned.
    """
    if not isinstance(value, dict):
        return value
    properties: dict[str, Schema] = schema.get("properties", {})
    result: dict[str, Any] = {}
    for key, item in value.items():
        sub = properties.get(key)
        if sub is not None:
            kinds = _types(sub)
            if _drop(item, kinds, root):
                continue
            if isinstance(item, dict) and "properties" in sub:
                item = remove_empty_values(item, sub)
            elif isinstance(item, list) and "items" in sub:
                item_kinds = _types(sub["items"])
                item = [v for v in item if not _drop(v, item_kinds, False) or isinstance(v, dict)]
        result[key] = item
    return result


# --- 2. coerce, strip and validate ------------------------------------------------------------


def _is_type(value: Any, kind: str) -> bool:
    actual = type_name(value)
    if kind == "integer":
        return actual == "number" and (
            isinstance(value, int) or (math.isfinite(value) and value.is_integer())
        )
    return actual == kind


def js_string(value: float | int) -> str:
    """JavaScript's String() of a number (shortest round-trip digits, JS exponent rules)."""
    return number_text(value)


def _coerce(value: Any, kind: str) -> Any:
    """AJV's coercion of `value` to `kind`; `_FAIL` when it cannot."""
    actual = type_name(value)
    if kind == "string":
        if actual == "number":
            return js_string(value)
        if actual == "boolean":
            return "true" if value else "false"
        if actual == "null":
            return ""
    elif kind in ("number", "integer"):
        if actual == "boolean":
            return 1 if value else 0
        if actual == "null":
            return 0
        if actual == "string" and value.strip():
            try:
                number = float(value)
            except ValueError:
                return _FAIL
            if not math.isfinite(number):
                return _FAIL
            if kind == "integer" and not number.is_integer():
                return _FAIL
            return int(number) if number.is_integer() else number
    elif kind == "boolean":
        if value in ("true", "false"):
            return value == "true"
        if actual == "number" and value in (0, 1):
            return value == 1
        if actual == "null":
            return False
    elif kind == "null" and (value == "" or value is False or (actual == "number" and value == 0)):
        return None
    return _FAIL


_FAIL: Final = object()


_COERCIBLE: Final = frozenset({"string", "number", "integer", "boolean", "null"})


def _coerced(value: Any, kinds: list[str]) -> Any:
    """`value` coerced to the first of `kinds` that takes it (AJV's order); `_FAIL` if none."""
    for kind in kinds:
        coerced = _coerce(value, kind)
        if coerced is not _FAIL:
            return coerced
    return _FAIL


_FORMAT_NAMES: Final = {
    "date-time": "date and time",
    "date": "date",
    "time": "time",
    "email": "email address",
    "uri": "URI",
    "uuid": "uuid",
    "ipv4": "IPv4 address",
    "ipv6": "IPv6 address",
    "hostname": "hostname",
    "regex": "regular expression",
    "date-like": "date-like",
}
# JavaScript's \s (Unicode spaces, even in ASCII-only patterns).
_JS_SPACE = (
    "\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
)
_EMAIL = re.compile(
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@"
    r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\Z",
    re.I | re.ASCII,  # JavaScript's \d and case folding (no u flag): ASCII only
)
_HOSTNAME = re.compile(
    r"^(?=.{1,253}\.?\Z)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
    r"(?:\.[a-z0-9](?:[-0-9a-z]{0,61}[0-9a-z])?)*\.?\Z",
    re.I | re.ASCII,
)
# ajv-formats' date-time: the time zone is optional; the calendar date must exist.
_DATE_TIME = re.compile(
    rf"^(\d{{4}})-(\d\d)-(\d\d)[t{_JS_SPACE}](\d\d):(\d\d):(\d\d)(?:\.\d+)?(?:z|[+-]\d\d(?::?\d\d)?)?\Z",
    re.I | re.ASCII,
)
_URI = re.compile(rf"^[a-z][a-z0-9+.-]*:[^{_JS_SPACE}]*\Z", re.I | re.ASCII)


def _check_format(value: Any, fmt: str) -> bool:
    if fmt == "date-like":
        return not isinstance(value, str) or is_date_like(value)
    if not isinstance(value, str):
        return True
    check = _FORMAT_CHECKS.get(fmt)  # defined below, once the checks exist
    return check(value) if check else True


_DAYS_IN_MONTH: Final = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _real_date(text: str) -> bool:
    """Whether `YYYY-MM-DD` names a day of the proleptic Gregorian calendar (year 1 onwards)."""
    year, month, day = int(text[:4]), int(text[5:7]), int(text[8:10])
    if year < 1 or not 1 <= month <= 12 or day < 1:
        return False
    leap = month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return day <= _DAYS_IN_MONTH[month - 1] + leap


def _is_date_time(text: str) -> bool:
    match = _DATE_TIME.match(text)
    if match is None or not _real_date(text[:10]):
        return False
    hour, minute, second = (int(match.group(i)) for i in (4, 5, 6))
    return hour <= 23 and minute <= 59 and second <= 60


# --- "date-like": actions-core's format for `datetime` fields --------------------------------------
# A string is date-like when `dayjs(text)` is valid; a canonical number string (String(Number(s))
# === s) is read as Unix seconds. dayjs parses "YYYY-MM-DD hh:mm:ss"-like strings itself (unless
# they end in "Z") and hands everything else to JavaScript's Date parser (V8's), emulated below.

_DAYJS_PARSE = re.compile(
    rf"^(\d{{4}})[-/]?(\d{{1,2}})?[-/]?(\d{{0,2}})[Tt{_JS_SPACE}]*(\d{{1,2}})?:?(\d{{1,2}})?:?(\d{{1,2}})?[.:]?(\d+)?\Z",
    re.ASCII,
)
_JS_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[+-]\d+)?", re.ASCII)
_MAX_TIME = 8.64e15  # milliseconds; beyond it a JavaScript Date is invalid


def is_date_like(text: str) -> bool:
    """Whether actions-core's `date-like` format accepts `text`."""
    if text in ("NaN", "Infinity", "-Infinity"):
        return False
    if _JS_NUMBER.fullmatch(text) and js_string(float(text)) == text:
        return abs(float(text)) * 1000 <= _MAX_TIME
    if not text.lower().endswith("z") and _DAYJS_PARSE.match(text):
        return True
    return v8_date_parses(text)


_V8_TOKEN = re.compile(r"(\d+)|([^\W\d_]+)|(\s+)|(.)", re.S)
_MONTHS: Final = (
    "jan",
    "feb",
    "mar",
    "apr",
    "may",
    "jun",
    "jul",
    "aug",
    "sep",
    "oct",
    "nov",
    "dec",
)
_ZONES: Final = frozenset(
    {"ut", "utc", "gmt", "z", "est", "edt", "cst", "cdt", "mst", "mdt", "pst", "pdt"}
)
_NONE: Final = -1


class _Token:
    __slots__ = ("kind", "number", "text", "word")

    def __init__(self, kind: str, text: str) -> None:
        self.kind = kind  # "num", "word", "space", "sym" or "end"
        self.text = text
        self.number = int(text) if kind == "num" else 0
        self.word = text.lower()[:3] if kind == "word" else ""

    def is_sym(self, char: str) -> bool:
        return self.kind == "sym" and self.text == char

    def is_fixed(self, length: int) -> bool:
        return self.kind == "num" and len(self.text) == length

    def keyword(self) -> tuple[str, int] | None:
        """V8's keyword table: 3-letter prefixes; longer words only for month names."""
        if self.kind != "word":
            return None
        full = self.text.lower()
        if self.word in _MONTHS:
            return "month", _MONTHS.index(self.word) + 1
        if len(full) > 3:
            return None
        if full in ("am", "pm"):
            return "ampm", 0 if full == "am" else 12
        if full in _ZONES:
            return "zone", 0
        if full == "t":
            return "t", 0
        return None


class _Scanner:
    def __init__(self, text: str) -> None:
        self.tokens = [
            _Token(
                "num" if m.group(1) else "word" if m.group(2) else "space" if m.group(3) else "sym",
                m.group(0),
            )
            for m in _V8_TOKEN.finditer(text)
        ]
        self.tokens.append(_Token("end", ""))
        self.position = 0

    def peek(self) -> _Token:
        return self.tokens[self.position]

    def next(self) -> _Token:
        token = self.tokens[self.position]
        self.position = min(self.position + 1, len(self.tokens) - 1)
        return token

    def skip(self, char: str) -> bool:
        if self.peek().is_sym(char):
            self.next()
            return True
        return False


def _read_ms(token: _Token) -> int:
    return int((token.text + "00")[:3])


def v8_date_parses(text: str) -> bool:
    """Whether `new Date(text)` is valid in V8: its ES5 ISO parser, then its legacy parser."""
    scanner = _Scanner(text)
    day: list[int] = []
    time: list[int] = []
    named_month = _NONE
    hour_offset = _NONE
    tz_sign = _NONE
    tz_hour = _NONE
    tz_minute = _NONE
    tz_utc = False
    iso = False

    # ES5 date-time string: YYYY[-MM[-DD]][THH:mm[:ss[.sss]][Z|+hh:mm|+hhmm]]
    token: _Token | None = None
    if scanner.peek().is_fixed(4):
        day.append(scanner.next().number)
    elif (
        scanner.peek().kind == "sym"
        and scanner.peek().text in "+-"
        and scanner.tokens[scanner.position + 1].is_fixed(6)
    ):
        scanner.next()
        day.append(scanner.next().number)
    else:
        token = scanner.next()
    if token is None and scanner.skip("-"):
        if not scanner.peek().is_fixed(2) or not 1 <= scanner.peek().number <= 12:
            token = scanner.next()
        else:
            day.append(scanner.next().number)
            if scanner.skip("-"):
                if not scanner.peek().is_fixed(2) or not 1 <= scanner.peek().number <= 31:
                    token = scanner.next()
                else:
                    day.append(scanner.next().number)
    if token is None:
        keyword = scanner.peek().keyword()
        if keyword is None or keyword[0] != "t":
            if scanner.peek().kind != "end":
                token = scanner.next()
        else:
            scanner.next()
            if not scanner.peek().is_fixed(2) or not 0 <= scanner.peek().number <= 24:
                return False
            hour = scanner.next().number
            if (
                not scanner.skip(":")
                or not scanner.peek().is_fixed(2)
                or scanner.peek().number > 59
            ):
                return False
            rest = [scanner.next().number]
            if scanner.skip(":"):
                if not scanner.peek().is_fixed(2) or scanner.peek().number > 59:
                    return False
                rest.append(scanner.next().number)
                if scanner.skip("."):
                    if scanner.peek().kind != "num":
                        return False
                    rest.append(_read_ms(scanner.next()))
            if hour == 24 and any(rest):
                return False
            peek = scanner.peek()
            if peek.keyword() == ("zone", 0) and peek.text.lower() == "z":
                scanner.next()
            elif peek.kind == "sym" and peek.text in "+-":
                scanner.next()
                if scanner.peek().is_fixed(4):
                    offset = scanner.next().number
                    if offset // 100 > 23 or offset % 100 > 59:
                        return False
                else:
                    if not scanner.peek().is_fixed(2) or scanner.peek().number > 23:
                        return False
                    scanner.next()
                    if (
                        not scanner.skip(":")
                        or not scanner.peek().is_fixed(2)
                        or scanner.peek().number > 59
                    ):
                        return False
                    scanner.next()
            return scanner.peek().kind == "end"
        if token is None:
            iso = True

    # V8's legacy parser takes over from the first token the ES5 parser did not handle.
    has_read_number = bool(day)
    while token is not None and token.kind != "end":
        keyword = token.keyword()
        if token.kind == "num":
            has_read_number = True
            n = token.number
            if scanner.skip(":"):
                if scanner.skip(":"):
                    if time:
                        return False
                    time += [n, 0]
                else:
                    if len(time) >= 4:
                        return False
                    time.append(n)
                    scanner.skip(".")
            elif scanner.skip(".") and _time_expecting(time, n):  # V8 consumes the "." either way
                time.append(n)
                if scanner.peek().kind != "num":
                    return False
                time.append(_read_ms(scanner.next()))
                time += [0] * (4 - len(time))
            elif tz_hour != _NONE and tz_minute == _NONE and n <= 59:
                tz_minute = n
            elif _time_expecting(time, n):
                time.append(n)
                time += [0] * (4 - len(time))
                peek = scanner.peek()
                if not (
                    peek.kind in ("end", "space")
                    or (peek.kind == "word" and peek.text.lower() == "z")
                    or (peek.kind == "sym" and peek.text in "+-")
                ):
                    return False
            else:
                if len(day) >= 3:
                    return False
                day.append(n)
                scanner.skip("-")
        elif token.kind == "word":
            if keyword is not None and keyword[0] == "ampm" and time:
                hour_offset = keyword[1]
            elif keyword is not None and keyword[0] == "month":
                named_month = keyword[1]
                scanner.skip("-")
            elif keyword is not None and keyword[0] == "zone" and has_read_number:
                tz_utc, tz_sign, tz_hour, tz_minute = True, 1, 0, 0
            elif has_read_number or scanner.peek().kind == "num":
                return False
        elif token.kind == "sym" and token.text in "+-" and (tz_utc or time):
            tz_sign = 1
            length = 0
            n = 0
            if scanner.peek().kind == "num":
                following = scanner.next()
                length, n = len(following.text), following.number
            has_read_number = True
            if scanner.peek().is_sym(":"):
                tz_hour, tz_minute = n, _NONE
            elif length in (1, 2):
                tz_hour, tz_minute = n, 0
            elif length in (3, 4):
                tz_hour, tz_minute = n // 100, n % 100
            else:
                return False
        elif token.kind == "sym" and token.text in "+-)" and has_read_number:
            return False
        elif token.is_sym("("):
            depth = 1  # a comment, skipped
            while depth and scanner.peek().kind != "end":
                following = scanner.next()
                depth += following.is_sym("(") - following.is_sym(")")
        token = scanner.next()
    del tz_sign
    return _day_valid(day, named_month, iso) and _time_valid(time, hour_offset)


def _time_expecting(time: list[int], n: int) -> bool:
    return (
        (len(time) == 1 and n <= 59)
        or (len(time) == 2 and n <= 59)
        or (len(time) == 3 and n <= 999)
    )


def _day_valid(day: list[int], named_month: int, iso: bool) -> bool:
    if not day:
        return False
    comp = day + [1] * (3 - len(day))
    if named_month == _NONE:
        if iso or not 1 <= comp[0] <= 31:
            year, month, mday = comp
        else:
            month, mday, year = comp
    else:
        month = named_month
        if not 1 <= comp[0] <= 31:
            year, mday = comp[0], comp[1]
        else:
            mday, year = comp[0], comp[1]
    if not iso and 0 <= year <= 99:
        year += 2000 if year <= 49 else 1900
    return 1 <= month <= 12 and 1 <= mday <= 31 and abs(year) <= 275759


def _time_valid(time: list[int], hour_offset: int) -> bool:
    hour, minute, second, ms = time + [0] * (4 - len(time))
    if hour_offset != _NONE:
        if not 0 <= hour <= 12:
            return False
        hour = hour % 12 + hour_offset
    if hour <= 23 and minute <= 59 and second <= 59 and ms <= 999:
        return True
    return hour == 24 and minute == second == ms == 0


def _is_uuid(text: str) -> bool:
    try:
        UUID(text)
    except ValueError:
        return False
    return len(text) == 36


def _is_ipv4(text: str) -> bool:
    try:
        IPv4Address(text)
    except ValueError:
        return False
    return True


def _is_ipv6(text: str) -> bool:
    try:
        IPv6Address(text)
    except ValueError:
        return False
    return True


def _is_regex(text: str) -> bool:
    try:
        re.compile(text)
    except re.error:
        return False
    return True


_DATE = re.compile(r"\d{4}-\d\d-\d\d", re.ASCII)
_TIME = re.compile(r"\d\d:\d\d:\d\d(?:\.\d+)?(?:z|[+-]\d\d:?\d\d)?", re.I | re.ASCII)
_FORMAT_CHECKS: Final[dict[str, Callable[[str], bool]]] = {
    "date-time": _is_date_time,
    "date": lambda v: bool(_DATE.fullmatch(v)) and _real_date(v[:10]),
    "time": lambda v: bool(_TIME.fullmatch(v)),
    "email": lambda v: bool(_EMAIL.match(v)),
    "uri": lambda v: bool(_URI.match(v)),
    "uuid": _is_uuid,
    "ipv4": _is_ipv4,
    "ipv6": _is_ipv6,
    "hostname": lambda v: bool(_HOSTNAME.match(v)),
    "regex": _is_regex,
}


def _name(schema: Schema, pointer: str) -> str:
    """How errors name a value: its field label, as Segment's messages do."""
    title = schema.get("title")
    if isinstance(title, str) and title:
        return title[0].upper() + title[1:]
    return "The root value" if not pointer else f"The value at {pointer}"


def _type_words(kinds: list[str]) -> str:
    """ "a string", "an object", "a string or null" (one article, as ajv-human-errors)."""
    listed = _or_list(kinds)
    return f"{'an' if listed[0] in 'aeiou' else 'a'} {listed}"


def _or_list(words: list[str]) -> str:
    if len(words) <= 2:
        return " or ".join(words)
    return ", ".join(words[:-1]) + ", or " + words[-1]


def _actual_words(value: Any) -> str:
    kind = type_name(value)
    return {"object": "an object", "array": "an array", "null": "null"}.get(kind, f"a {kind}")


def _json_text(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return js_string(value)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def check(value: Any, schema: Schema, pointer: str, errors: list[tuple[str, str]]) -> Any:
    """Coerce and strip `value` per `schema`, appending (pointer, message) for each problem."""
    kinds = _types(schema)
    if kinds and not any(_is_type(value, k) for k in kinds):
        coerced: Any = _FAIL
        seen = value  # what a type error says the value was
        if "array" in kinds and not isinstance(value, list):
            coerced = [value]
        elif isinstance(value, list) and len(value) == 1 and not _COERCIBLE.isdisjoint(kinds):
            # AJV unwraps a one-item list before coercing to a scalar type (its error then names
            # the item's type), and coerces only a scalar item. It takes the item as it is
            # under a single type; under a union its check never passes (its generated code
            # joins the types with &&), so the item is always coerced: ["x"] is no
            # string-or-null, and [null] gives "".
            seen = item = value[0]
            if not isinstance(item, list | dict):
                as_is = len(kinds) == 1 and _is_type(item, kinds[0])
                coerced = item if as_is else _coerced(item, kinds)
        elif not isinstance(value, list | dict):
            coerced = _coerced(value, kinds)
        if coerced is _FAIL:
            errors.append(
                (
                    pointer,
                    f"{_name(schema, pointer)} must be {_type_words(kinds)} but it was {_actual_words(seen)}.",
                )
            )
            return value
        value = coerced
    if "enum" in schema and value not in schema["enum"]:
        allowed = _or_list([_json_text(v) for v in schema["enum"]])
        errors.append((pointer, f"{_name(schema, pointer)} must be one of: {allowed}."))
    fmt = schema.get("format")
    if fmt and not _check_format(value, fmt):
        errors.append(
            (
                pointer,
                f"{_name(schema, pointer)} must be a valid {_FORMAT_NAMES.get(fmt, fmt)} string but it was not.",
            )
        )
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            errors.append(
                (
                    pointer,
                    f"{_name(schema, pointer)} must be {_plural(int(schema['minLength']), 'character')} or more "
                    f"but it was {_plural(len(value), 'character')}.",
                )
            )
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(
                (
                    pointer,
                    f"{_name(schema, pointer)} must be {_plural(int(schema['maxLength']), 'character')} or fewer "
                    f"but it was {_plural(len(value), 'character')}.",
                )
            )
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(
                (
                    pointer,
                    f"{_name(schema, pointer)} must be equal to or greater than {js_string(schema['minimum'])}.",
                )
            )
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(
                (
                    pointer,
                    f"{_name(schema, pointer)} must be equal to or less than {js_string(schema['maximum'])}.",
                )
            )
    if isinstance(value, dict) and "object" in kinds:
        value = _check_object(value, schema, pointer, errors)
    elif isinstance(value, list) and "items" in schema:
        value = [
            check(item, schema["items"], f"{pointer}/{i}", errors) for i, item in enumerate(value)
        ]
    return value


def _check_object(
    value: dict[str, Any], schema: Schema, pointer: str, errors: list[tuple[str, str]]
) -> dict[str, Any]:
    properties: dict[str, Schema] = schema.get("properties", {})
    keep_extra = schema.get("additionalProperties", True) is not False
    # Missing required fields are reported first, as Segment does.
    errors.extend(_missing_fields(value, schema, pointer))
    # The result keeps the payload's key order (the mapping's); errors follow the field order.
    result: dict[str, Any] = {}
    found: dict[str, list[tuple[str, str]]] = {}
    for key, item in value.items():
        sub = properties.get(key)
        if sub is not None:
            result[key] = check(item, sub, f"{pointer}/{_escape(key)}", found.setdefault(key, []))
        elif keep_extra:
            result[key] = item
    for key in properties:
        errors.extend(found.get(key, ()))
    return result


def _missing_fields(value: dict[str, Any], schema: Schema, pointer: str) -> list[tuple[str, str]]:
    """An error per required field `value` lacks, in the schema's order."""
    owner = "The root value" if not pointer else _name(schema, pointer)
    return [
        (f"{pointer}/{_escape(key)}", f"{owner} is missing the required field '{key}'.")
        for key in schema.get("required", ())
        if key not in value
    ]


def _escape(key: str) -> str:
    if "~" not in key and "/" not in key:
        return key
    return key.replace("~", "~0").replace("/", "~1")


def process(payload: Any, schema: Schema) -> dict[str, Any]:
    """Clean, coerce, strip and validate a mapped payload; raise PayloadValidationError."""
    if not isinstance(payload, dict):
        raise PayloadValidationError("The root value must be an object.", "")
    cleaned = remove_empty_values(payload, schema, root=True)
    errors: list[tuple[str, str]] = []
    result = _check_object(cleaned, schema, "", errors)
    if errors:
        raise _invalid(errors)
    return result


def _invalid(errors: list[tuple[str, str]]) -> PayloadValidationError:
    """The error of a payload: every message, the first field."""
    return PayloadValidationError(" ".join(m for _, m in errors), errors[0][0], errors)


# --- helpers of the compiled pipeline ------------------------------------------------------------
# Generated code checks the common case inline (a string where a string is expected, ...) and
# hands any other value of a field to `field_value`, which runs this module's steps on it alone.

DROP: Final = object()
"""`field_value` result: the cleaning step removes the value (its key is left out)."""
FAIL: Final = _FAIL
"""`field_value` result: the value is invalid; `process` gives the error message."""


def field_value(item: Any, schema: Schema, root: bool) -> Any:
    """One property value cleaned, coerced and checked as `process` does it: value, DROP or FAIL."""
    kinds = _types(schema)
    if _drop(item, kinds, root):
        return DROP
    if isinstance(item, dict) and "properties" in schema:
        item = remove_empty_values(item, schema)
    elif isinstance(item, list) and "items" in schema:
        item_kinds = _types(schema["items"])
        item = [v for v in item if not _drop(v, item_kinds, False) or isinstance(v, dict)]
    errors: list[tuple[str, str]] = []
    value = check(item, schema, "", errors)
    return FAIL if errors else value


def missing_required(payload: dict[str, Any], schema: Schema) -> NoReturn:
    """The error `process` gives for a payload whose fields are all valid but some required
    ones are missing (compiled code finds that case itself, without running `process`)."""
    raise _invalid(_missing_fields(payload, schema, ""))


def validated(payload: Any, schema: Schema) -> dict[str, Any] | None:
    """`process(payload, schema)`, or None when the payload is invalid."""
    try:
        return process(payload, schema)
    except PayloadValidationError:
        return None


def check_format(value: str, fmt: str) -> bool:
    return _check_format(value, fmt)


_ISO_INSTANT = re.compile(
    r"\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d"
    r"(?::[0-5]\d(?:\.\d{1,9})?)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)?",
    re.ASCII,
)


_ISO_DATE_TIME = re.compile(
    r"\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d"
    r"(?:\.\d{1,9})?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)?",
    re.ASCII,
)


def is_date_time(text: str) -> bool:
    """`date-time` format check; days 01-28 of years 0001-9999 need no calendar."""
    if _ISO_DATE_TIME.fullmatch(text) is not None and text[:4] != "0000":
        return True
    return _is_date_time(text)


def date_like(text: str) -> bool:
    """`is_date_like`, answering the usual ISO 8601 instants without the V8 emulation."""
    return _ISO_INSTANT.fullmatch(text) is not None or is_date_like(text)
