"""OpenAPI 3.1 description of a destination's outbound API, as its spec knows it."""

from __future__ import annotations

import json
from typing import Any

from actionspec import ir
from actionspec.targets.jsonschema import payload_schema


def document(dest: ir.Destination) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": dest.name, "version": "1"},
        "paths": {},
        "components": {"schemas": {a.model_name: payload_schema(dest, a) for a in dest.actions}},
    }


def generate(dest: ir.Destination, package_dir: str) -> dict[str, str]:
    text = json.dumps(document(dest), indent=2, ensure_ascii=False) + "\n"
    return {f"{package_dir}/{dest.module}/openapi.json": text}
