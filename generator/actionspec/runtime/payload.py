"""The payload pipeline of one action, as Segment's actions-core runs it.

After the mapping: remove empty values, then coerce, strip undeclared keys and validate against
the payload's JSON Schema (AJV with `coerceTypes: "array"` and `removeAdditional: true`).
Errors name the field and read like Segment's.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime
from ipaddress import IPv4Address, IPv6Address
from typing import Any, Final
from uuid import UUID

Schema = dict[str, Any]


class PayloadValidationError(ValueError):
    """A payload does not match its action's fields; `.field` is a JSON pointer like `/ip`."""

    def __init__(self, message: str, field: str | None = None, errors: list[tuple[str, str]] | None = None) -> None:
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


def _js_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _is_type(value: Any, kind: str) -> bool:
    actual = _js_type(value)
    if kind == "integer":
        return actual == "number" and (isinstance(value, int) or (math.isfinite(value) and value.is_integer()))
    return actual == kind


def js_string(value: float | int) -> str:
    """JavaScript's String() of a number."""
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
    return str(value)


def _coerce(value: Any, kind: str) -> Any:
    """AJV's coercion of `value` to `kind`; `_FAIL` when it cannot."""
    actual = _js_type(value)
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
    elif kind == "null":
        if value == "" or value == 0 or value is False:
            if not (isinstance(value, int | float) and not isinstance(value, bool) and value != 0):
                return None
    return _FAIL


_FAIL: Final = object()

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
_EMAIL = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@"
                    r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$", re.I)
_HOSTNAME = re.compile(r"^(?=.{1,253}\.?$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
                       r"(?:\.[a-z0-9](?:[-0-9a-z]{0,61}[0-9a-z])?)*\.?$", re.I)
# ajv-formats' date-time: the time zone is optional; the calendar date must exist.
_DATE_TIME = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)[t\s](\d\d):(\d\d):(\d\d)(?:\.\d+)?(?:z|[+-]\d\d(?::?\d\d)?)?$", re.I
)
_URI = re.compile(r"^[a-z][a-z0-9+.-]*:[^\s]*$", re.I)


def _parse_iso(text: str) -> bool:
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return False
    return True


def _check_format(value: Any, fmt: str) -> bool:
    if fmt == "date-like":
        return not isinstance(value, str) or _parse_iso(value) or _date_like_text(value)
    if not isinstance(value, str):
        return True
    checks: dict[str, Callable[[str], bool]] = {
        "date-time": _is_date_time,
        "date": lambda v: bool(re.fullmatch(r"\d{4}-\d\d-\d\d", v)) and _real_date(v[:10]),
        "time": lambda v: bool(re.fullmatch(r"\d\d:\d\d:\d\d(?:\.\d+)?(?:z|[+-]\d\d:?\d\d)?", v, re.I)),
        "email": lambda v: bool(_EMAIL.match(v)),
        "uri": lambda v: bool(_URI.match(v)),
        "uuid": _is_uuid,
        "ipv4": _is_ipv4,
        "ipv6": _is_ipv6,
        "hostname": lambda v: bool(_HOSTNAME.match(v)),
        "regex": _is_regex,
    }
    check = checks.get(fmt)
    return check(value) if check else True


def _real_date(text: str) -> bool:
    try:
        datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        return False
    return True


def _is_date_time(text: str) -> bool:
    match = _DATE_TIME.match(text)
    if match is None or not _real_date(text[:10]):
        return False
    hour, minute, second = (int(match.group(i)) for i in (4, 5, 6))
    return hour <= 23 and minute <= 59 and second <= 60


def _date_like_text(text: str) -> bool:
    # Segment's "date-like" accepts anything a date parser understands; numbers in strings too.
    return bool(re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", text)) or bool(
        re.match(r"^\d{4}-\d\d-\d\d", text)
    )


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


def _name(schema: Schema, pointer: str) -> str:
    """How errors name a value: its field label, as Segment's messages do."""
    title = schema.get("title")
    if isinstance(title, str) and title:
        return title[0].upper() + title[1:]
    return "The root value" if not pointer else f"The value at {pointer}"


def _type_words(kinds: list[str]) -> str:
    words = [{"object": "an object", "array": "an array", "integer": "an integer"}.get(k, f"a {k}") for k in kinds]
    return _or_list(words)


def _or_list(words: list[str]) -> str:
    if len(words) <= 2:
        return " or ".join(words)
    return ", ".join(words[:-1]) + ", or " + words[-1]


def _actual_words(value: Any) -> str:
    kind = _js_type(value)
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
    name = _name(schema, pointer)
    if kinds and not any(_is_type(value, k) for k in kinds):
        coerced: Any = _FAIL
        if "array" in kinds and not isinstance(value, list):
            coerced = [value]
        elif isinstance(value, list) and len(value) == 1:
            inner: list[tuple[str, str]] = []
            coerced = check(value[0], schema, pointer, inner)
            if inner or not any(_is_type(coerced, k) for k in kinds):
                coerced = _FAIL
        elif not isinstance(value, list | dict):
            for kind in kinds:
                coerced = _coerce(value, kind)
                if coerced is not _FAIL:
                    break
        if coerced is _FAIL:
            errors.append((pointer, f"{name} must be {_type_words(kinds)} but it was {_actual_words(value)}."))
            return value
        value = coerced
    if "enum" in schema and value not in schema["enum"]:
        allowed = _or_list([_json_text(v) for v in schema["enum"]])
        errors.append((pointer, f"{name} must be one of: {allowed}."))
    fmt = schema.get("format")
    if fmt and not _check_format(value, fmt):
        errors.append((pointer, f"{name} must be a valid {_FORMAT_NAMES.get(fmt, fmt)} string but it was not."))
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            errors.append((pointer, f"{name} must be {_plural(int(schema['minLength']), 'character')} or more "
                                    f"but it was {_plural(len(value), 'character')}."))
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append((pointer, f"{name} must be {_plural(int(schema['maxLength']), 'character')} or fewer "
                                    f"but it was {_plural(len(value), 'character')}."))
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append((pointer, f"{name} must be equal to or greater than {js_string(schema['minimum'])}."))
        if "maximum" in schema and value > schema["maximum"]:
            errors.append((pointer, f"{name} must be equal to or less than {js_string(schema['maximum'])}."))
    if isinstance(value, dict) and "object" in kinds:
        value = _check_object(value, schema, pointer, errors)
    elif isinstance(value, list) and "items" in schema:
        value = [check(item, schema["items"], f"{pointer}/{i}", errors) for i, item in enumerate(value)]
    return value


def _check_object(value: dict[str, Any], schema: Schema, pointer: str, errors: list[tuple[str, str]]) -> dict[str, Any]:
    properties: dict[str, Schema] = schema.get("properties", {})
    keep_extra = schema.get("additionalProperties", True) is not False
    owner = "The root value" if not pointer else _name(schema, pointer)
    # Missing required fields are reported first, as Segment does.
    for key in schema.get("required", ()):
        if key not in value:
            errors.append((f"{pointer}/{_escape(key)}", f"{owner} is missing the required field '{key}'."))
    result: dict[str, Any] = {}
    for key, item in value.items():
        sub = properties.get(key)
        if sub is not None:
            result[key] = check(item, sub, f"{pointer}/{_escape(key)}", errors)
        elif keep_extra:
            result[key] = item
    return result


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def process(payload: Any, schema: Schema) -> dict[str, Any]:
    """Clean, coerce, strip and validate a mapped payload; raise PayloadValidationError."""
    if not isinstance(payload, dict):
        raise PayloadValidationError("The root value must be an object.", "")
    cleaned = remove_empty_values(payload, schema, root=True)
    errors: list[tuple[str, str]] = []
    result = _check_object(cleaned, schema, "", errors)
    if errors:
        field = errors[0][0]
        raise PayloadValidationError(" ".join(m for _, m in errors), field, errors)
    return result
