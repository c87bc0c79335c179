"""Loading the JSON Schemas that ship inside each destination's package folder."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any


def load_schema(module: str, name: str) -> dict[str, Any]:
    """The schema `schemas/<name>` beside the destination module `module`."""
    text = resources.files(module).joinpath("schemas", name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
