"""Strict JSON Schema checks for the preview service's request bodies (no coercion).

Covers the keywords the package's OpenAPI description uses for requests: `$ref` (local),
`type`, `enum`, `const`, `properties`, `required`, `additionalProperties`, `items`, `anyOf`,
`minLength`, `maxLength`, `pattern`, `minimum`, `maximum`. Annotations (`title`, `format`,
`default`...) are ignored. Messages never show the value checked: it may be a secret.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

Problem = tuple[str, str]  # (JSON pointer, message)

_TYPE_WORDS = {
    "object": "an object",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


def _is_type(value: Any, kind: str) -> bool:
    if kind == "null":
        return value is None
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    if isinstance(value, bool):
        return False
    if kind == "integer":  # stricter than JSON Schema: 1.0 is a number, as for the runtime
        return isinstance(value, int)
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


class SchemaChecker:
    """Checks values against schemas of one document (for `#/...` references)."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        while isinstance(schema.get("$ref"), str):
            target: Any = self.document
            for part in schema["$ref"].removeprefix("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            schema = target
        return schema

    def problems(self, value: Any, schema: Mapping[str, Any], pointer: str = "") -> list[Problem]:
        schema = self.resolve(schema)
        found: list[Problem] = []
        declared = schema.get("type")
        if declared is not None:
            kinds: list[str] = declared if isinstance(declared, list) else [declared]
            if not any(_is_type(value, k) for k in kinds):
                words = " or ".join(_TYPE_WORDS.get(k, k) for k in kinds)
                return [(pointer, f"must be {words}")]
        if "const" in schema and not _same(value, schema["const"]):
            found.append((pointer, f"must be {schema['const']!r}"))
        if "enum" in schema and not any(_same(value, v) for v in schema["enum"]):
            allowed = ", ".join(repr(v) for v in schema["enum"])
            found.append((pointer, f"must be one of {allowed}"))
        if "anyOf" in schema and not any(
            not self.problems(value, option, pointer) for option in schema["anyOf"]
        ):
            found.append((pointer, "matches none of the allowed forms"))
        if isinstance(value, str):
            found += _string_problems(value, schema, pointer)
        elif _is_type(value, "number"):
            if "minimum" in schema and value < schema["minimum"]:
                found.append((pointer, f"must be at least {schema['minimum']}"))
            if "maximum" in schema and value > schema["maximum"]:
                found.append((pointer, f"must be at most {schema['maximum']}"))
        elif isinstance(value, dict):
            found += self._object_problems(value, schema, pointer)
        elif isinstance(value, list) and isinstance(schema.get("items"), Mapping):
            for i, item in enumerate(value):
                found += self.problems(item, schema["items"], f"{pointer}/{i}")
        return found

    def _object_problems(
        self, value: dict[str, Any], schema: Mapping[str, Any], pointer: str
    ) -> list[Problem]:
        found: list[Problem] = []
        properties: Mapping[str, Any] = schema.get("properties", {})
        for key in schema.get("required", ()):
            if key not in value:
                found.append((f"{pointer}/{_escape(key)}", "is required"))
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            where = f"{pointer}/{_escape(key)}"
            if key in properties:
                found += self.problems(item, properties[key], where)
            elif extra is False:
                known = ", ".join(properties) or "none"
                found.append((where, f"is not allowed here (allowed: {known})"))
            elif isinstance(extra, Mapping):
                found += self.problems(item, extra, where)
        return found


def _same(a: Any, b: Any) -> bool:
    """JSON equality: true is not 1."""
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b


def _string_problems(value: str, schema: Mapping[str, Any], pointer: str) -> list[Problem]:
    found: list[Problem] = []
    if "minLength" in schema and len(value) < schema["minLength"]:
        found.append((pointer, f"must have at least {schema['minLength']} character(s)"))
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        found.append((pointer, f"must have at most {schema['maxLength']} character(s)"))
    if "pattern" in schema and not re.search(schema["pattern"], value):
        found.append((pointer, f"must match the pattern {schema['pattern']!r}"))
    return found
