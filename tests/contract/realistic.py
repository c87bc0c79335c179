"""Realistic values, made with a seeded `random.Random` (hypothesis draws only the seed).

Drawing each of an event's ~100 values through hypothesis costs ~20 ms per event, too slow
for thousands of events per run; a seeded generator costs ~0.1 ms and is just as
reproducible. Hostile values stay hypothesis strategies (strategies.py), where its bias
towards edge cases matters.
"""

from __future__ import annotations

import datetime
import ipaddress
import math
import random
import string
import uuid
from collections.abc import Callable
from typing import Any

from actionspec import ir

_WORDS = [
    "Pricing", "Home", "Signed Up", "Order Completed", "Café", "Zürich", "東京", "naïve",
    "résumé", "Δelta", "🎉 launch", "São Paulo", "plan", "pro", "checkout", "O'Brien",
]  # fmt: skip
USER_AGENTS = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Gecko/20100101 Firefox/126.0",
    "analytics-ios/4.1.8",
]
_START = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC).timestamp()
_END = datetime.datetime(2035, 12, 31, tzinfo=datetime.UTC).timestamp()


def _chars(rng: random.Random, alphabet: str, low: int, high: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(low, high)))


def text(rng: random.Random, low: int = 1, high: int = 40) -> str:
    """A few words (some non-ASCII), between `low` and `high` characters."""
    words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 3)))
    words = words[:high]
    while len(words) < low:
        words += rng.choice(string.ascii_lowercase)
    return words


def an_id(rng: random.Random) -> str:
    return rng.choice(string.ascii_letters) + _chars(
        rng, string.ascii_letters + string.digits + "-", 3, 19
    )


def date_time(rng: random.Random) -> str:
    moment = datetime.datetime.fromtimestamp(rng.uniform(_START, _END), datetime.UTC)
    zone = rng.choice(["Z", "+02:00", "-05:00", ""])
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{rng.randint(0, 999):03d}" + zone


def _email(rng: random.Random) -> str:
    local = _chars(rng, string.ascii_lowercase + string.digits, 1, 10)
    domain = _chars(rng, string.ascii_lowercase, 2, 10)
    return f"{local}{rng.choice(['', '.a', '.x1'])}@{domain}{rng.choice(['.com', '.org', '.io'])}"


def _url(rng: random.Random) -> str:
    host = _chars(rng, string.ascii_lowercase, 2, 10) + rng.choice([".com", ".org", ".io"])
    path = "".join(
        "/" + _chars(rng, string.ascii_lowercase + string.digits, 1, 8)
        for _ in range(rng.randint(0, 3))
    )
    return f"https://{host}{path}"


Maker = Callable[[random.Random], str]
FORMATS: dict[str, Maker] = {
    "date-time": date_time,
    "date": lambda rng: date_time(rng)[:10],
    "time": lambda rng: date_time(rng)[11:19],
    "email": _email,
    "uri": _url,
    "uuid": lambda rng: str(uuid.UUID(int=rng.getrandbits(128))),
    "ipv4": lambda rng: str(ipaddress.IPv4Address(rng.getrandbits(32))),
    "ipv6": lambda rng: str(ipaddress.IPv6Address(rng.getrandbits(128))),
    "hostname": lambda rng: _chars(rng, string.ascii_lowercase, 2, 10) + ".com",
    "regex": lambda rng: rng.choice(["^a+$", "[0-9]{3}", "x|y"]),
}
KINDS: dict[str, Maker] = {
    "id": an_id,
    "user-agent": lambda rng: rng.choice(USER_AGENTS),
    "phone": lambda rng: "+" + str(rng.randint(1, 9)) + _chars(rng, string.digits, 7, 12),
}


def custom_value(rng: random.Random) -> Any:
    """A value of a customer's own property or trait."""
    kind = rng.randrange(4)
    if kind == 0:
        return text(rng)
    if kind == 1:
        return rng.randint(-1000, 1000)
    return rng.random() if kind == 2 else rng.random() < 0.5


def from_schema(schema: dict[str, Any], rng: random.Random, complete: bool = True) -> Any:
    """A value valid for `schema` (the JSON Schema subset segment_schema.py uses).

    `complete`: every property is present, except those marked `x-rare` (present half the time).
    """
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return rng.choice(schema["enum"])
    kind = schema.get("type")
    if kind == "string":
        if "format" in schema:
            return FORMATS[schema["format"]](rng)
        if "x-kind" in schema:
            return KINDS[schema["x-kind"]](rng)
        return text(rng, max(1, schema.get("minLength", 1)))
    if kind == "integer":
        return rng.randint(schema.get("minimum", -(10**6)), schema.get("maximum", 10**6))
    if kind == "number":
        low, high = schema.get("minimum", -1e6), schema.get("maximum", 1e6)
        return (
            round(rng.uniform(low, high), 2)
            if rng.random() < 0.7
            else rng.randint(math.ceil(low), math.floor(high))
        )
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "object":
        return _object(schema, rng, complete)
    raise AssertionError(f"segment_schema uses a schema this generator does not know: {schema}")


def _object(schema: dict[str, Any], rng: random.Random, complete: bool) -> dict[str, Any]:
    required = set(schema.get("required", ()))
    result: dict[str, Any] = {}
    for key, sub in schema.get("properties", {}).items():
        wanted = key in required or (complete and (not sub.get("x-rare") or rng.random() < 0.5))
        if wanted or rng.random() < 0.5:
            result[key] = from_schema(sub, rng, complete)
    extra = schema.get("additionalProperties", True)
    if extra is not False:
        for _ in range(rng.choice([0, 0, 1, 2])):
            key = _chars(rng, string.ascii_lowercase, 3, 10)
            if key not in result:
                result[key] = (
                    from_schema(extra, rng) if isinstance(extra, dict) else custom_value(rng)
                )
    return result


def field_value(field: ir.Field, rng: random.Random) -> Any:
    """A valid value of a spec field's declared type (for paths the Segment spec leaves open)."""
    if field.allow_null and rng.random() < 0.2:
        return None
    if field.multiple:
        return [_field_item(field, rng) for _ in range(rng.randint(1, 3))]
    return _field_item(field, rng)


def _field_item(field: ir.Field, rng: random.Random) -> Any:
    if field.choices:
        return rng.choice([c.value for c in field.choices])
    low, high = field.minimum, field.maximum
    if field.type in ("string", "text", "password"):
        if field.format in FORMATS:
            return FORMATS[field.format](rng)
        return text(rng, int(low) if low is not None else 1, int(high) if high is not None else 40)
    if field.type == "number":
        low, high = low if low is not None else -1e6, high if high is not None else 1e6
        return min(max(round(rng.uniform(low, high), 3), low), high)
    if field.type == "integer":
        return rng.randint(
            math.ceil(low) if low is not None else -(10**6),
            math.floor(high) if high is not None else 10**6,
        )
    if field.type == "boolean":
        return rng.random() < 0.5
    if field.type == "datetime":
        return date_time(rng) if rng.random() < 0.6 else rng.randint(946684800, 2082758399)
    if field.type == "object":
        if not field.properties:
            return {
                _chars(rng, string.ascii_lowercase, 3, 8): custom_value(rng)
                for _ in range(rng.randint(0, 3))
            }
        return {
            f.key: field_value(f, rng) for f in field.properties if f.required or rng.random() < 0.7
        }
    raise AssertionError(f"unknown field type {field.type}")
