"""OpenAPI 3.1 description of the package's preview service (`python -m PACKAGE serve`).

One operation per destination action (`POST /destinations/{slug}/actions/{key}/preview`), one
routing operation per destination (`POST /destinations/{slug}/route`), the catalog and this
document. Request and response schemas come from the same payload and settings schemas as the
package's JSON Schemas, and from the bodies of the destination's own OpenAPI description.

The document is also the service's routing table: each operation names what it serves in
`x-actionspec-serves`, and the service checks request bodies against the schemas written here,
so what the description says and what the service does cannot drift apart.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from actionspec import ir
from actionspec.config import Config
from actionspec.targets import openapi
from actionspec.targets.jsonschema import payload_schema, settings_schema

MESSAGE_TYPES = ["track", "identify", "page", "screen", "group", "alias"]
# Limits the service enforces (answered with 413 and 400); written here so they are documented.
MAX_BODY_BYTES = 1_000_000
MAX_NESTING = 64

# The Segment spec's fields, documented but not constrained: each action's field table decides
# what it accepts (a number for a string field is converted, as Segment does), and the answer
# to an event it cannot use is a 422 naming the field.
_EVENT_FIELDS = {
    "type": "The message type.",
    "messageId": "Unique message ID (Segment de-duplicates on it).",
    "anonymousId": "Anonymous ID of the user.",
    "userId": "ID of the user.",
    "timestamp": "When the event happened (ISO-8601).",
    "sentAt": "When the library sent the message (ISO-8601).",
    "receivedAt": "When Segment received the message (ISO-8601).",
    "originalTimestamp": "The timestamp the library recorded (ISO-8601).",
    "context": "Context: ip, userAgent, locale, timezone, library, app, campaign, device, os,"
    " network, screen, location, referrer, groupId, traits, page.",
    "integrations": "Per-destination switches.",
    "event": "track: the event name.",
    "properties": "track, page, screen: the event's properties.",
    "traits": "identify, group: the user's or group's traits.",
    "name": "page, screen: the page or screen name.",
    "category": "page: the page category.",
    "groupId": "group: the group ID.",
    "previousId": "alias: the user's previous ID.",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _prefix_refs(schema: Any, prefix: str) -> Any:
    """`schema` with every local `$ref` renamed to `prefix + name`."""
    if isinstance(schema, dict):
        result = {k: _prefix_refs(v, prefix) for k, v in schema.items()}
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            result["$ref"] = "#/components/schemas/" + prefix + ref.rsplit("/", 1)[1]
        return result
    if isinstance(schema, list):
        return [_prefix_refs(v, prefix) for v in schema]
    return schema


def _service_settings(dest: ir.Destination) -> dict[str, Any]:
    """The settings schema, with what the runtime also insists on: required text is not empty,
    a `uri` setting contains `://`."""
    schema = settings_schema(dest)
    schema.pop("$schema", None)
    for setting in dest.settings:
        prop = schema["properties"][setting.key]
        if setting.required and prop.get("type") == "string":
            prop["minLength"] = 1
        if setting.type == "uri" and "enum" not in prop:
            prop["pattern"] = "://"
        if setting.secret:
            prop.pop("default", None)  # a secret's default is never shown
    return schema


def _common_schemas() -> dict[str, Any]:
    error = {
        "type": "object",
        "required": ["type", "message", "field"],
        "properties": {
            "type": {"type": "string", "description": "The error class, e.g. `SettingsError`."},
            "message": {"type": "string"},
            "field": {
                "type": ["string", "null"],
                "description": "JSON pointer of the field at fault (`/ip`), a setting key, or"
                " null.",
            },
            "errors": {
                "type": "array",
                "description": "Every problem found, when there are several.",
                "items": {
                    "type": "object",
                    "required": ["field", "message"],
                    "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                },
            },
        },
    }
    return {
        "SegmentEvent": {
            "title": "Segment event",
            "description": "A Segment message of any of the six types. Fields are documented,"
            " not constrained: the action's field table decides what it accepts.",
            "type": "object",
            "properties": {
                key: {"enum": MESSAGE_TYPES, "description": text}
                if key == "type"
                else {"description": text}
                for key, text in _EVENT_FIELDS.items()
            },
        },
        "Error": {
            "title": "Error",
            "type": "object",
            "required": ["error"],
            "properties": {"error": error},
        },
        "Catalog": {
            "title": "Catalog",
            "description": "Every destination with its settings, actions, fields and presets.",
            "type": "object",
            "required": ["package", "version", "destinations"],
            "properties": {
                "package": {"type": "string"},
                "version": {"type": "string"},
                "destinations": {"type": "array", "items": _ref("CatalogDestination")},
            },
        },
        "CatalogDestination": {
            "type": "object",
            "required": [
                "slug",
                "name",
                "description",
                "accepts",
                "settings",
                "actions",
                "presets",
            ],
            "properties": {
                "slug": {"type": "string"},
                "name": {"type": "string"},
                "description": {"type": "string"},
                "accepts": {"type": "array", "items": {"enum": MESSAGE_TYPES}},
                "route": {"type": "string", "description": "Path of the routing operation."},
                "settings": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["key", "label", "type", "required", "secret"],
                        "properties": {
                            "key": {"type": "string"},
                            "label": {"type": "string"},
                            "type": {"type": "string"},
                            "required": {"type": "boolean"},
                            "secret": {"type": "boolean"},
                            "default": {"description": "Absent for secrets."},
                            "choices": {"type": "array"},
                        },
                    },
                },
                "actions": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["key", "title", "description", "preview", "fields"],
                        "properties": {
                            "key": {"type": "string"},
                            "title": {"type": "string"},
                            "description": {"type": "string"},
                            "trigger": {"type": ["string", "null"]},
                            "preview": {"type": "string", "description": "Path of its preview."},
                            "fields": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["key", "label", "required"],
                                    "properties": {
                                        "key": {"type": "string"},
                                        "label": {"type": "string"},
                                        "description": {"type": "string"},
                                        "type": {},
                                        "required": {"type": "boolean"},
                                    },
                                },
                            },
                        },
                    },
                },
                "presets": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["name", "trigger", "action"],
                        "properties": {
                            "name": {"type": "string"},
                            "trigger": {"type": "string"},
                            "action": {"type": "string"},
                        },
                    },
                },
            },
        },
    }


def _error_responses(*statuses: str) -> dict[str, Any]:
    texts = {
        "400": "The body is not JSON, is nested deeper than"
        f" {MAX_NESTING} levels, or does not match this description (`field` says where).",
        "413": f"The body is larger than {MAX_BODY_BYTES} bytes.",
        "415": "The body is not `application/json`.",
        "422": "The event or settings were read, but the action rejects them: `field` names the"
        " field (a JSON pointer into the payload) or setting at fault.",
        "500": "A hand-written hook failed: it raised, or returned something unusable. The"
        " message names the hook.",
        "501": "A hook the spec declares is still the generated stub: write it in the spec's"
        " hooks module.",
    }
    return {
        status: {
            "description": texts[status],
            "content": {"application/json": {"schema": _ref("Error")}},
        }
        for status in statuses
    }


def _hook_statuses(hooked: bool) -> tuple[str, ...]:
    """What an operation that runs hooks may also answer: they are hand-written code."""
    return ("500", "501") if hooked else ()


def _json_body(schema: dict[str, Any], examples: list[ir.Example]) -> dict[str, Any]:
    """A required JSON body; the spec's worked examples become its examples."""
    content: dict[str, Any] = {"schema": schema}
    if examples:
        content["examples"] = {
            f"example{i}": {
                "summary": example.name,
                "value": {"event": example.event, "settings": example.settings},
            }
            for i, example in enumerate(examples, start=1)
        }
    return {"required": True, "content": {"application/json": content}}


def _json_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def preview_path(dest: ir.Destination, action: ir.Action) -> str:
    """The URL path of an action's preview; a key that is not URL-safe is percent-encoded."""
    return f"/destinations/{quote(dest.slug, safe='')}/actions/{quote(action.key, safe='')}/preview"


def route_path(dest: ir.Destination) -> str:
    return f"/destinations/{quote(dest.slug, safe='')}/route"


def _destination_operations(
    dest: ir.Destination, schemas: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """The preview operations of one destination; its schemas are added to `schemas`."""
    module = dest.module
    settings_name = f"{module}.Settings"
    schemas[settings_name] = _service_settings(dest)
    api_schemas, bodies = openapi.action_body_schemas(dest)
    api_prefix = f"{module}.api."
    for name, schema in api_schemas.items():
        schemas[api_prefix + name] = _prefix_refs(schema, api_prefix)

    paths: dict[str, dict[str, Any]] = {}
    request_items: list[dict[str, Any]] = []
    for action in dest.actions:
        base = f"{module}.{action.model_name}"
        payload = payload_schema(dest, action)
        payload.pop("$schema", None)
        schemas[base] = payload
        body = bodies[action.key]
        body_schema = _prefix_refs(body, api_prefix) if body is not None else {"type": "null"}
        method: dict[str, Any] = {"const": action.request.method}
        if "build_request" in action.hooks:  # hand-written code builds the requests: any shape
            method = {"type": "string"}
            body_schema = {"description": "Built by the action's `build_request` hook."}
        schemas[f"{base}.Request"] = {
            "title": f"{dest.name} {action.title} request (as previewed)",
            "type": "object",
            "required": ["action", "method", "url", "headers", "json"],
            "properties": {
                "action": {"const": action.key},
                "method": method,
                "url": {"type": "string"},
                "headers": {"type": "object", "additionalProperties": {"type": "string"}},
                "json": body_schema,
            },
        }
        request_items.append(_ref(f"{base}.Request"))
        schemas[f"{base}.Preview"] = {
            "title": f"{dest.name} {action.title} preview request",
            "type": "object",
            "required": ["event", "settings"],
            "additionalProperties": False,
            "properties": {"event": _ref("SegmentEvent"), "settings": _ref(settings_name)},
        }
        schemas[f"{base}.Result"] = {
            "title": f"{dest.name} {action.title} preview",
            "type": "object",
            "required": ["payload", "requests"],
            "properties": {
                "payload": _ref(base),
                "requests": {"type": "array", "items": _ref(f"{base}.Request")},
            },
        }
        paths[preview_path(dest, action)] = {
            "post": {
                "operationId": f"preview_{module}_{action.name}",
                "summary": f"{dest.name}: {action.title}",
                "description": f"{action.description}\n\nThe payload the action builds from the"
                " event, and the requests it would send (password settings shown as `***`)."
                " Nothing is sent.",
                "tags": [dest.name],
                "x-actionspec-serves": {"preview": dest.slug, "action": action.key},
                "requestBody": _json_body(
                    _ref(f"{base}.Preview"), [e for e in dest.examples if e.action == action.key]
                ),
                "responses": {
                    "200": _json_response("The payload and requests.", _ref(f"{base}.Result")),
                    **_error_responses(
                        "400", "413", "415", "422", *_hook_statuses(bool(action.hooks))
                    ),
                },
            }
        }
    route_request = {
        "title": f"{dest.name} routing request",
        "type": "object",
        "required": ["event", "settings"],
        "additionalProperties": False,
        "properties": {"event": _ref("SegmentEvent"), "settings": _ref(settings_name)},
    }
    schemas[f"{module}.Route"] = route_request
    any_request: dict[str, Any] = (
        {"anyOf": request_items} if len(request_items) > 1 else request_items[0]
    )
    schemas[f"{module}.RouteResult"] = {
        "title": f"{dest.name} routing result",
        "type": "object",
        "required": ["requests"],
        "properties": {
            "requests": {"type": "array", "items": any_request},
            "note": {"type": "string", "description": "Why no action runs, when none does."},
        },
    }
    paths[route_path(dest)] = {
        "post": {
            "operationId": f"route_{module}",
            "summary": f"{dest.name}: route through the presets",
            "description": "The requests of every preset whose trigger matches the event, in"
            " preset order (password settings shown as `***`). Nothing is sent.",
            "tags": [dest.name],
            "x-actionspec-serves": {"route": dest.slug},
            "requestBody": _json_body(
                _ref(f"{module}.Route"), [e for e in dest.examples if e.action is None]
            ),
            "responses": {
                "200": _json_response("The requests.", _ref(f"{module}.RouteResult")),
                **_error_responses(
                    "400", "413", "415", "422", *_hook_statuses(any(a.hooks for a in dest.actions))
                ),
            },
        }
    }
    return paths


def document(config: Config, destinations: list[ir.Destination]) -> dict[str, Any]:
    schemas = _common_schemas()
    paths: dict[str, Any] = {
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This description",
                "x-actionspec-serves": {"openapi": True},
                "responses": {"200": _json_response("OpenAPI 3.1.", {"type": "object"})},
            }
        },
        "/catalog": {
            "get": {
                "operationId": "catalog",
                "summary": "The destinations, their settings, actions, fields and presets",
                "x-actionspec-serves": {"catalog": True},
                "responses": {"200": _json_response("The catalog.", _ref("Catalog"))},
            }
        },
    }
    for dest in sorted(destinations, key=lambda d: d.slug):
        paths.update(_destination_operations(dest, schemas))
    sources = ", ".join(sorted(d.source for d in destinations))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{config.package} preview service",
            "version": config.version,
            "description": "Shows what each destination action would send for a Segment event:"
            " the validated payload and the outbound requests, with password settings masked."
            " Stateless; sends nothing. Start it with"
            f" `python -m {config.package} serve`.",
            "x-generated-by": f"Generated by actionspec from {sources}; do not edit.",
        },
        "paths": paths,
        "components": {"schemas": schemas},
    }


def generate(config: Config, destinations: list[ir.Destination]) -> dict[str, str]:
    doc = document(config, destinations)
    return {f"{config.package}/openapi.json": json.dumps(doc, indent=2, ensure_ascii=False) + "\n"}
