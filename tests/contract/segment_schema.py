"""A JSON Schema of the Segment event spec: what a realistic event of each type looks like.

From ../shared/reference/destination-apis.md ("Segment event spec"): the common fields, the
context object and the fields of each of the six message types. Objects that carry the
customer's own keys (`properties`, `traits`, `context`, `context.traits`, `integrations`) are
open (`additionalProperties: true`); the others are closed. The contract strategies generate
events from it, and the `paths` property uses it to spot mapping paths no event can have.
"""

from __future__ import annotations

from typing import Any

MESSAGE_TYPES = ("track", "identify", "page", "screen", "group", "alias")

_TEXT: dict[str, Any] = {"type": "string"}
_ID: dict[str, Any] = {"type": "string", "minLength": 1, "x-kind": "id"}
_ISO: dict[str, Any] = {"type": "string", "format": "date-time"}
_URL: dict[str, Any] = {"type": "string", "format": "uri"}


def _rare(schema: dict[str, Any]) -> dict[str, Any]:
    """A field that realistic events carry only sometimes (keeps them small and fast)."""
    return {**schema, "x-rare": True}


def _closed(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "additionalProperties": False}


def _open(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "additionalProperties": True}


TRAITS = _open(
    email={"type": "string", "format": "email"},
    name=_TEXT,
    firstName=_TEXT,
    lastName=_TEXT,
    phone={"type": "string", "x-kind": "phone"},
    gender={"enum": ["male", "female", "M", "F"]},
    birthday={"type": "string", "format": "date"},
    avatar=_URL,
    title=_TEXT,
    plan=_TEXT,
    createdAt=_ISO,
    company=_open(name=_TEXT, id=_ID),
)

CONTEXT = _open(
    ip={"type": "string", "format": "ipv4"},
    userAgent={"type": "string", "x-kind": "user-agent"},
    locale={"enum": ["en-US", "de-DE", "fr-FR", "ja-JP", "pt-BR"]},
    timezone={"enum": ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC"]},
    library=_rare(_closed(name=_TEXT, version=_TEXT)),
    app=_rare(_closed(name=_TEXT, version=_TEXT, build=_TEXT, namespace=_TEXT)),
    campaign=_rare(_closed(name=_TEXT, source=_TEXT, medium=_TEXT, term=_TEXT, content=_TEXT)),
    device=_closed(
        id=_ID,
        advertisingId=_ID,
        manufacturer=_TEXT,
        model=_TEXT,
        name=_TEXT,
        type={"enum": ["ios", "android"]},
        token=_ID,
    ),
    os=_rare(_closed(name={"enum": ["iOS", "Android", "Mac OS X", "Windows"]}, version=_TEXT)),
    network=_rare(
        _closed(
            bluetooth={"type": "boolean"},
            carrier=_TEXT,
            cellular={"type": "boolean"},
            wifi={"type": "boolean"},
        )
    ),
    screen=_rare(
        _closed(
            width={"type": "integer", "minimum": 1, "maximum": 8000},
            height={"type": "integer", "minimum": 1, "maximum": 8000},
            density={"type": "number", "minimum": 1, "maximum": 4},
        )
    ),
    location=_rare(
        _closed(
            city=_TEXT,
            country=_TEXT,
            latitude={"type": "number", "minimum": -90, "maximum": 90},
            longitude={"type": "number", "minimum": -180, "maximum": 180},
            speed={"type": "number", "minimum": 0, "maximum": 100},
        )
    ),
    referrer=_rare(_closed(id=_ID, type=_TEXT)),
    groupId=_ID,
    traits=TRAITS,
    page=_closed(path=_TEXT, referrer=_URL, search=_TEXT, title=_TEXT, url=_URL),
)

COMMON: dict[str, Any] = {
    "messageId": _ID,
    "anonymousId": _ID,
    "userId": _ID,
    "timestamp": _ISO,
    "sentAt": _rare(_ISO),
    "receivedAt": _rare(_ISO),
    "originalTimestamp": _rare(_ISO),
    "context": CONTEXT,
    "integrations": _rare({"type": "object", "additionalProperties": {"type": "boolean"}}),
    "version": _rare({"const": 2}),
}

_PROPERTIES = _open(
    revenue={"type": "number", "minimum": 0, "maximum": 100000},
    currency={"enum": ["USD", "EUR", "JPY"]},
    order_id=_ID,
    url=_URL,
)

PER_TYPE: dict[str, dict[str, Any]] = {
    "track": {"event": {"type": "string", "minLength": 1}, "properties": _PROPERTIES},
    "identify": {"traits": TRAITS},
    "page": {"name": _TEXT, "category": _TEXT, "properties": _PROPERTIES},
    "screen": {"name": _TEXT, "properties": _PROPERTIES},
    "group": {"groupId": _ID, "traits": TRAITS},
    "alias": {"previousId": _ID},
}
# Every message needs userId or anonymousId (the strategies always give anonymousId).
REQUIRED: dict[str, list[str]] = {
    "track": ["type", "messageId", "anonymousId", "event"],
    "group": ["type", "messageId", "anonymousId", "groupId"],
    "alias": ["type", "messageId", "userId", "previousId"],
}


def event_schema(message_type: str) -> dict[str, Any]:
    """The schema of one message type (its `type` is a constant)."""
    return {
        "type": "object",
        "properties": {
            "type": {"const": message_type},
            **COMMON,
            **PER_TYPE[message_type],
        },
        "required": REQUIRED.get(message_type, ["type", "messageId", "anonymousId"]),
        "additionalProperties": False,
    }


SEGMENT_EVENT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Segment event",
    "oneOf": [event_schema(t) for t in MESSAGE_TYPES],
}
