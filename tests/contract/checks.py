"""Checks of one request against an OpenAPI description, and of declared invariants.

Both return a list of problems (empty: conforms), each a sentence a failing test can show.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jsonschema

from actionspec import ir

# --------------------------------------------------------------------------- OpenAPI


def _template_regex(template: str, variables: dict[str, Any] | None = None) -> str:
    """`https://{region}.x.com/a/{id}` as a regex; enum server variables match only their values."""
    parts = re.split(r"({[^{}]+})", template)
    pattern = ""
    for part in parts:
        if part.startswith("{") and part.endswith("}"):
            variable = (variables or {}).get(part[1:-1], {})
            if "enum" in variable:
                pattern += "(?:" + "|".join(re.escape(v) for v in variable["enum"]) + ")"
            else:
                pattern += "[^/?#]+"
        else:
            pattern += re.escape(part)
    return pattern


def find_operation(doc: dict[str, Any], method: str, url: str) -> tuple[str, dict[str, Any]]:
    """(path template, operation) of the one operation that `method url` is; AssertionError
    naming what was tried when there is none."""
    without_query = url.split("?", 1)[0]
    found = []
    for path, item in doc["paths"].items():
        operation = item.get(method.lower())
        if operation is None:
            continue
        for server in operation.get("servers", doc.get("servers", [{"url": "/"}])):
            regex = _template_regex(server["url"].rstrip("/"), server.get("variables"))
            if re.fullmatch(regex + _template_regex(path), without_query):
                found.append((path, operation))
                break
    if len(found) != 1:
        known = [f"{m.upper()} {p}" for p, item in doc["paths"].items() for m in item]
        raise AssertionError(
            f"{method} {url} matches {len(found)} operations of the OpenAPI description"
            f" (it has: {', '.join(known)})"
        )
    return found[0]


def _security_problems(doc: dict[str, Any], headers: dict[str, str]) -> list[str]:
    requirements = doc.get("security")
    if not requirements:
        return []
    schemes = doc["components"]["securitySchemes"]
    unmet: list[str] = []
    for requirement in requirements:  # any one requirement, all its schemes
        missing = [name for name in requirement if not _satisfied(schemes[name], headers)]
        if not missing:
            return []
        unmet.append(" and ".join(missing))
    return [f"security not satisfied: {' or '.join(unmet)}"]


def _satisfied(scheme: dict[str, Any], headers: dict[str, str]) -> bool:
    if scheme["type"] == "http":
        prefix = {"bearer": "Bearer ", "basic": "Basic "}[scheme["scheme"]]
        return headers.get("authorization", "").startswith(prefix)
    if scheme["type"] == "apiKey" and scheme["in"] == "header":
        return scheme["name"].lower() in headers
    return False


def request_problems(doc: dict[str, Any], request: Any) -> list[str]:
    """How `request` (a runtime Request) departs from the destination's OpenAPI description."""
    path, operation = find_operation(doc, request.method, request.url)
    problems: list[str] = []
    headers = {k.lower(): v for k, v in request.headers.items()}
    query = dict(parse_qsl(urlsplit(request.url).query, keep_blank_values=True))
    for parameter in operation.get("parameters", []):
        where, name = parameter["in"], parameter["name"]
        given = {"header": headers.get(name.lower()), "query": query.get(name)}.get(where, "")
        if given is None:
            if parameter.get("required"):
                problems.append(f"{where} parameter {name!r} is missing")
            continue
        const = parameter.get("schema", {}).get("const")
        if const is not None and given != const:
            problems.append(
                f"{where} parameter {name!r} is {given!r}, the description says {const!r}"
            )
    problems += _security_problems(doc, headers)
    body = operation.get("requestBody")
    if body is None:
        if request.json is not None:
            problems.append(f"{request.method} {path} has a body the description does not have")
        return problems
    if request.json is None:
        if body.get("required"):
            problems.append(f"{request.method} {path} needs a body; the request has none")
        return problems
    if not headers.get("content-type", "").startswith("application/json"):
        problems.append("a JSON body without Content-Type: application/json")
    schema = body["content"]["application/json"]["schema"]
    root = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": doc["components"],
        **schema,
    }
    for error in jsonschema.Draft202012Validator(root).iter_errors(request.json):
        where = "/".join(str(p) for p in error.absolute_path)
        problems.append(f"body at /{where}: {error.message[:300]}")
    return problems


# --------------------------------------------------------------------------- invariants

_SNAKE = re.compile(r"[^\W_]+(?:_[^\W_]+)*")


def values_at(value: Any, steps: ir.InvariantPath, where: str = "$") -> Iterator[tuple[str, Any]]:
    """(location, value) for every value at the path; absent places yield nothing."""
    if not steps:
        yield where, value
        return
    step, rest = steps[0], steps[1:]
    if step is None:
        if isinstance(value, list):
            for i, item in enumerate(value):
                yield from values_at(item, rest, f"{where}[{i}]")
    elif isinstance(step, int):
        if isinstance(value, list) and step < len(value):
            yield from values_at(value[step], rest, f"{where}[{step}]")
    elif isinstance(value, dict) and step in value:
        yield from values_at(value[step], rest, f"{where}.{step}")


def key_follows(style: str, key: str) -> bool:
    if style == "snake_case":
        return bool(_SNAKE.fullmatch(key)) and key == key.lower()
    return key == key.lower()  # lower_case


def invariant_problems(invariant: ir.Invariant, document: Any) -> list[str]:
    problems: list[str] = []
    for where, value in values_at(document, invariant.steps):
        if invariant.max_items is not None:
            if not isinstance(value, list):
                problems.append(f"{where} is not a list")
            elif len(value) > invariant.max_items:
                problems.append(f"{where} has {len(value)} items, more than {invariant.max_items}")
        if invariant.keys is None and not invariant.flat:
            continue
        if not isinstance(value, dict):
            problems.append(f"{where} is not an object")
            continue
        for key, item in value.items():
            if invariant.keys and not key_follows(invariant.keys, key):
                problems.append(f"{where}: key {key!r} is not {invariant.keys}")
            if invariant.flat and isinstance(item, dict | list):
                problems.append(f"{where}: {key!r} holds a nested {type(item).__name__}")
    return problems
