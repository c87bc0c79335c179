"""OpenAPI 3.1 description of a destination's outbound API, as its spec knows it.

One operation per request the destination sends: each action's request, the authentication
test and the deletion request. Templates become OpenAPI constructs: `{{settings.x}}` in
`base_url` a server variable (its choices and default), `{{settings.x}}`/`{{payload.x}}` in a
path a path parameter `{x}`, an absolute `url` its own per-operation server. Requests that
share a method and path (two actions posting to one endpoint) are one operation whose body is
any of theirs. Authentication headers become security schemes: `Bearer {{settings.k}}` in
`Authorization` is HTTP bearer, other headers carrying settings are API keys, `basic` is HTTP
basic. Bodies are described from the body mapping: the payload's JSON Schema plus constant
keys for `@merge` of `$.payload` with constants; otherwise what the mapping shows, or a
permissive object whose description gives the mapping.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from actionspec import ir
from actionspec.runtime.mapping import TEMPLATE_SLOT, settings_only
from actionspec.targets.jsonschema import payload_schema

_IGNORED_HEADERS = {
    "accept",
    "content-type",
    "authorization",
}  # OpenAPI ignores these as parameters
_DEFAULT_RESPONSES: dict[str, Any] = {
    "2XX": {"description": "The destination accepted the request."},
    "default": {
        "description": "Any other response: actionspec reports it as an error of the request."
    },
}


def _slot_name(expression: str) -> tuple[str, str]:
    """`settings.connection_key` -> (`settings`, `connection_key`)."""
    parts = [p for p in re.split(r"[.\[\]]", expression.lstrip("$").lstrip(".")) if p]
    root = parts[0] if parts else "value"
    rest = parts[1:] or parts
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", "_".join(rest)) or "value"
    return root, name


def _schema_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)


def _describe_slot(root: str, expression: str) -> str:
    if root == "settings":
        return f"The `{expression.split('.', 1)[-1]}` setting."
    if root == "payload":
        return f"The payload's `{expression.split('.', 1)[-1]}` field."
    return f"The value of `{expression}`."


# --------------------------------------------------------------------------- servers


def _setting(dest: ir.Destination, key: str) -> ir.Setting | None:
    return next((s for s in dest.settings if s.key == key), None)


def server(dest: ir.Destination, url: str) -> dict[str, Any]:
    """A server object for a URL template: each `{{...}}` slot becomes a server variable."""
    variables: dict[str, Any] = {}

    def replace(match: re.Match[str]) -> str:
        root, name = _slot_name(match.group(1))
        variable: dict[str, Any] = {"description": _describe_slot(root, match.group(1))}
        setting = _setting(dest, name) if root == "settings" else None
        default: str | None = None
        if setting is not None:
            variable["description"] = f"The {setting.label} setting."
            if setting.choices:
                variable["enum"] = [str(c.value) for c in setting.choices]
            if setting.has_default and setting.default is not None:
                default = str(setting.default)
            if "enum" in variable and default not in variable["enum"]:
                default = variable["enum"][0]
        variable["default"] = default if default is not None else name
        variables[name] = variable
        return "{" + name + "}"

    result: dict[str, Any] = {"url": TEMPLATE_SLOT.sub(replace, url).rstrip("/") or "/"}
    if variables:
        result["variables"] = variables
    return result


def _split_absolute(url: str) -> tuple[str, str]:
    """An absolute URL template as (server part, path part)."""
    hidden: dict[str, str] = {}

    def hide(match: re.Match[str]) -> str:
        token = f"slot{len(hidden)}x"
        hidden[token] = match.group(0)
        return token

    parts = urlsplit(TEMPLATE_SLOT.sub(hide, url))
    origin = f"{parts.scheme}://{parts.netloc}"
    rest = url[len(origin) :] if not hidden else None
    if rest is None:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        for token, slot in hidden.items():
            origin = origin.replace(token, slot)
            path = path.replace(token, slot)
        rest = path
    return origin, rest or "/"


# --------------------------------------------------------------------------- paths


@dataclass
class _Path:
    template: str
    parameters: list[dict[str, Any]] = field(default_factory=list)


def path_template(path: str) -> _Path:
    """`/users/{{payload.id}}/x?k={{settings.k}}` -> `/users/{id}/x` and its parameters."""
    path, _, query = path.partition("?")
    result = _Path("")
    names: dict[str, str] = {}

    def replace(match: re.Match[str]) -> str:
        expression = match.group(1)
        root, name = _slot_name(expression)
        if names.get(name, expression) != expression:
            name = f"{root}_{name}"
        if name not in names:
            names[name] = expression
            result.parameters.append(
                {
                    "name": name,
                    "in": "path",
                    "required": True,
                    "description": _describe_slot(root, expression) + " Percent-encoded.",
                    "schema": {"type": "string"},
                }
            )
        return "{" + name + "}"

    result.template = TEMPLATE_SLOT.sub(replace, path) or "/"
    if not result.template.startswith("/"):
        result.template = "/" + result.template
    for pair in filter(None, query.split("&")):
        key, _, value = pair.partition("=")
        parameter: dict[str, Any] = {"name": key, "in": "query", "required": True}
        if TEMPLATE_SLOT.search(value):
            slots = ", ".join(f"`{m.group(1)}`" for m in TEMPLATE_SLOT.finditer(value))
            parameter["description"] = f"The template `{value}` (from {slots})."
            parameter["schema"] = {"type": "string"}
        else:
            parameter["schema"] = {"type": "string", "const": value}
        result.parameters.append(parameter)
    return result


# --------------------------------------------------------------------------- bodies


def _is_directive(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and str(next(iter(value))).startswith("@")


def _constant(value: Any) -> bool:
    if isinstance(value, dict):
        return not _is_directive(value) and all(_constant(v) for v in value.values())
    if isinstance(value, list):
        return all(_constant(v) for v in value)
    return True


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _const_schema(value: Any) -> dict[str, Any]:
    return {"type": _json_type(value), "const": value}


def _merge_with_payload(payload: dict[str, Any], body: Any) -> dict[str, Any] | None:
    """The body schema of `@merge` of `$.payload` then constant objects, if that is the body."""
    merge = body.get("@merge") if _is_directive(body) else None
    if not isinstance(merge, dict) or merge.get("direction", "right") != "right":
        return None
    objects = merge.get("objects")
    if not isinstance(objects, list) or not objects or objects[0] != {"@path": "$.payload"}:
        return None
    extras = objects[1:]
    if not all(isinstance(o, dict) and not _is_directive(o) and _constant(o) for o in extras):
        return None
    schema = copy.deepcopy(payload)
    properties = schema.setdefault("properties", {})
    required = list(schema.get("required", []))
    for extra in extras:
        for key, value in extra.items():
            properties[key] = {**_const_schema(value), "description": "Added by the request body."}
            if key not in required:
                required.append(key)
    if required:
        schema["required"] = required
    return schema


def _mapping_schema(mapping: Any, refs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What a body mapping produces, as far as it is known (`refs`: `$.payload` etc.)."""
    if _is_directive(mapping):
        name, argument = next(iter(mapping.items()))
        if name == "@path" and argument in refs:
            return refs[argument]
        if name == "@literal":
            return _const_schema(argument)
        if name == "@template":
            return {"type": "string", "description": f"The template `{argument}`."}
        if name == "@path":
            return {"description": f"The value at `{argument}`."}
        return {"description": "Built by the mapping " + json.dumps(mapping, ensure_ascii=False)}
    if isinstance(mapping, dict):
        return {
            "type": "object",
            "properties": {k: _mapping_schema(v, refs) for k, v in mapping.items()},
        }
    if isinstance(mapping, list):
        return {"type": "array"}
    return _const_schema(mapping)


@dataclass
class _Operation:
    key: str
    title: str
    description: str
    request: ir.Request
    body: dict[str, Any] | None  # a schema (usually a $ref), None for no body


class _Builder:
    def __init__(self, dest: ir.Destination) -> None:
        self.dest = dest
        self.schemas: dict[str, Any] = {}

    def add_schema(self, name: str, schema: dict[str, Any]) -> dict[str, Any]:
        schema = {k: v for k, v in schema.items() if k != "$schema"}
        name = _schema_name(name)
        base, n = name, 1
        while name in self.schemas and self.schemas[name] != schema:
            n += 1
            name = f"{base}{n}"
        self.schemas[name] = schema
        return {"$ref": f"#/components/schemas/{name}"}

    def action_body(self, action: ir.Action) -> dict[str, Any] | None:
        request = action.request
        payload = payload_schema(self.dest, action)
        payload_ref = self.add_schema(action.model_name, payload)
        if not request.has_body:
            return None
        body = request.body
        schema: dict[str, Any]
        if body == {"@path": "$.payload"}:
            schema = payload_ref
        elif (merged := _merge_with_payload(payload, body)) is not None:
            merged["title"] = f"{self.dest.name} {action.title} request body"
            merged["description"] = "The payload with constant keys added: " + json.dumps(
                body, ensure_ascii=False
            )
            schema = self.add_schema(action.model_name.removesuffix("Payload") + "Body", merged)
        else:
            schema = self.mapped_body(
                f"{action.model_name.removesuffix('Payload')}Body",
                f"{self.dest.name} {action.title} request body",
                body,
                {"$.payload": payload_ref},
            )
        if action.batch_size is not None and action.batch_body is not None:
            batch = self.mapped_body(
                f"{action.model_name.removesuffix('Payload')}BatchBody",
                f"{self.dest.name} {action.title} batch request body",
                action.batch_body,
                {
                    "$.payloads": {
                        "type": "array",
                        "items": payload_ref,
                        "maxItems": action.batch_size,
                    }
                },
            )
            schema = {"anyOf": [schema, batch]}
        return schema

    def mapped_body(
        self, name: str, title: str, body: Any, refs: dict[str, dict[str, Any]]
    ) -> dict[str, Any]:
        described = _mapping_schema(body, refs)
        if "$ref" in described:
            return described
        mapping = json.dumps(body, ensure_ascii=False)
        schema: dict[str, Any] = {"title": title}
        if described.get("type") == "object" and "properties" in described:
            schema.update(described)
            schema["description"] = f"Built by the mapping {mapping}"
        else:
            schema.update({"type": "object", "description": f"Built by the mapping {mapping}"})
            if described.get("type") not in (None, "object"):
                schema.pop("type")
                schema.update(described)
                schema["description"] = f"Built by the mapping {mapping}"
        return self.add_schema(name, schema)

    def operations(self) -> list[_Operation]:
        dest = self.dest
        found = [
            _Operation(a.key, a.title, a.description, a.request, self.action_body(a))
            for a in dest.actions
        ]
        keys = {a.key for a in dest.actions}

        def unique(key: str) -> str:
            name, n = key, 1
            while name in keys:
                n += 1
                name = f"{key}{n}"
            keys.add(name)
            return name

        if dest.auth_test is not None:
            found.append(
                _Operation(
                    unique("testAuthentication"),
                    "Test the credentials",
                    "Sent when the destination's settings are tested; success means the"
                    " credentials work.",
                    dest.auth_test,
                    None,
                )
            )
        if dest.on_delete is not None:
            body = None
            if dest.on_delete.has_body:
                body = self.mapped_body(
                    "DeleteUserBody",
                    f"{dest.name} user deletion request body",
                    dest.on_delete.body,
                    {  # either may be unknown (null) when a user is deleted
                        "$.userId": {
                            "type": ["string", "null"],
                            "description": "The user's userId.",
                        },
                        "$.anonymousId": {
                            "type": ["string", "null"],
                            "description": "The user's anonymousId.",
                        },
                    },
                )
            found.append(
                _Operation(
                    unique("deleteUser"),
                    "Delete a user",
                    "Sent when a user is deleted (GDPR).",
                    dest.on_delete,
                    body,
                )
            )
        return found


def action_body_schemas(
    dest: ir.Destination,
) -> tuple[dict[str, Any], dict[str, dict[str, Any] | None]]:
    """Each action's request body schema (None: no body) and the named schemas they refer to.

    The preview service's description reuses them for the requests it shows.
    """
    builder = _Builder(dest)
    bodies = {action.key: builder.action_body(action) for action in dest.actions}
    return builder.schemas, bodies


# --------------------------------------------------------------------------- security


def security_schemes(dest: ir.Destination) -> dict[str, Any]:
    schemes: dict[str, Any] = {}
    auth = dest.raw.get("authentication", {})
    for header, value in auth.get("headers", {}).items():
        if header.lower() == "authorization" and re.fullmatch(
            r"Bearer\s+{{\s*settings\.[^{}]+}}", value.strip()
        ):
            schemes["bearerAuth"] = {
                "type": "http",
                "scheme": "bearer",
                "description": f"`{header}: {value}`",
            }
        elif TEMPLATE_SLOT.search(value) and "settings." in value:
            name = _schema_name(f"{header}Header")
            schemes[name] = {
                "type": "apiKey",
                "in": "header",
                "name": header,
                "description": f"The header value is the template `{value}`.",
            }
    if dest.basic_auth is not None:
        user, password = dest.basic_auth
        schemes["basicAuth"] = {
            "type": "http",
            "scheme": "basic",
            "description": f"User name `{user}`, password `{password}`.",
        }
    return schemes


# --------------------------------------------------------------------------- the document


def _header_parameters(headers: dict[str, str], auth_headers: set[str]) -> list[dict[str, Any]]:
    parameters = []
    for name, value in headers.items():
        if name.lower() in _IGNORED_HEADERS or name.lower() in auth_headers:
            continue
        parameter: dict[str, Any] = {"name": name, "in": "header", "required": True}
        if TEMPLATE_SLOT.search(value):
            parameter["description"] = f"The template `{value}`."
            parameter["schema"] = {"type": "string"}
            if not settings_only(value):
                # a header that depends on the event is not sent when it renders empty
                parameter["required"] = False
                parameter["description"] += " Not sent when it renders empty."
        else:
            parameter["schema"] = {"type": "string", "const": value}
        parameters.append(parameter)
    return parameters


def document(dest: ir.Destination) -> dict[str, Any]:
    builder = _Builder(dest)
    operations = builder.operations()
    auth_raw = dest.raw.get("authentication", {})
    auth_headers = {h.lower() for h in auth_raw.get("headers", {})}
    own_headers = {
        k: v for k, v in dest.raw.get("headers", {}).items() if k.lower() not in auth_headers
    }
    default_server = server(dest, dest.base_url) if dest.base_url else {"url": "/"}

    grouped: dict[tuple[str, str], list[tuple[_Operation, _Path, str]]] = {}
    for op in operations:
        request = op.request
        if request.url_is_absolute:
            origin, path = _split_absolute(request.url)
        else:
            origin, path = "", request.path or "/"
        parsed_path = path_template(path)
        grouped.setdefault((parsed_path.template, request.method.lower()), []).append(
            (op, parsed_path, origin)
        )

    paths: dict[str, Any] = {}
    for (template, method), members in grouped.items():
        first, parsed, _ = members[0]
        operation: dict[str, Any] = {
            "operationId": "_or_".join(op.key for op, _, _ in members),
            "summary": " / ".join(op.title for op, _, _ in members),
        }
        if len(members) == 1:
            operation["description"] = first.description
        else:
            operation["description"] = "Sent by several actions:\n\n" + "\n".join(
                f"* `{op.key}` ({op.title}): {op.description}" for op, _, _ in members
            )
        operation["x-actionspec-requests"] = [
            {"key": op.key, "url": op.request.url} for op, _, _ in members
        ]
        origins = list(dict.fromkeys(origin for _, _, origin in members))
        if origins != [""]:
            # absolute URLs: their own servers (and the default one if a member uses it)
            operation["servers"] = [server(dest, o) if o else default_server for o in origins]
        parameters = list(parsed.parameters)
        headers: dict[str, str] = {}
        headers.update(own_headers)
        for op, _, _ in members:
            headers.update(op.request.headers)
        parameters += _header_parameters(headers, auth_headers)
        if parameters:
            operation["parameters"] = parameters
        bodies = [op.body for op, _, _ in members if op.body is not None]
        if bodies:
            unique_bodies = [b for i, b in enumerate(bodies) if b not in bodies[:i]]
            schema = unique_bodies[0] if len(unique_bodies) == 1 else {"anyOf": unique_bodies}
            operation["requestBody"] = {
                "required": len(bodies) == len(members),
                "content": {"application/json": {"schema": schema}},
            }
        operation["responses"] = copy.deepcopy(_DEFAULT_RESPONSES)
        paths.setdefault(template, {})[method] = operation

    schemes = security_schemes(dest)
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": f"{dest.name} API (as known to actionspec)",
            "version": str(dest.raw.get("spec_version", 1)),
            "description": dest.description,
            "x-generated-by": f"Generated by actionspec from {dest.source}; do not edit.",
        },
        "servers": [default_server],
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": builder.schemas},
    }
    if schemes:
        doc["components"]["securitySchemes"] = schemes
        doc["security"] = [{name: [] for name in schemes}]
    return doc


def generate(dest: ir.Destination, package_dir: str) -> dict[str, str]:
    text = json.dumps(document(dest), indent=2, ensure_ascii=False) + "\n"
    return {f"{package_dir}/{dest.module}/openapi.json": text}
