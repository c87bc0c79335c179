"""The Python module of one destination: compiled mappings and triggers, and its definition."""

from __future__ import annotations

import dataclasses
from typing import Any

from actionspec import ir
from actionspec.languages import mapping as mapping_language
from actionspec.languages import triggers
from actionspec.targets.render import render


def _split_url(request: ir.Request, dest: ir.Destination) -> tuple[str, str]:
    """(base, path): the base is substituted as is, the path percent-encoded."""
    if request.url_is_absolute or request.path is None:
        return request.url, ""
    return (dest.base_url or "").rstrip("/"), request.path


def _trigger_function(name: str, text: str) -> str:
    expression = triggers.compile_expression(triggers.parse(text))
    return f"def {name}(event: Mapping[str, Any]) -> bool:\n    return bool({expression})"


def module_source(dest: ir.Destination) -> str:
    functions: list[str] = []
    for action in dest.actions:
        functions.append(
            mapping_language.compile_function(f"map_{action.name}", action.default_mapping())
        )
        if action.request.has_body:
            functions.append(
                mapping_language.compile_function(f"body_{action.name}", action.request.body)
            )
    if dest.on_delete is not None and dest.on_delete.has_body:
        functions.append(mapping_language.compile_function("body_on_delete", dest.on_delete.body))
    presets: list[dict[str, Any]] = []
    for i, preset in enumerate(dest.presets, start=1):
        action = dest.action(preset.action)
        matches = f"preset_{i}_matches"
        functions.append(_trigger_function(matches, preset.trigger))
        mapping = f"map_{action.name}"
        if preset.mapping != action.default_mapping():
            mapping = f"preset_{i}_mapping"
            functions.append(mapping_language.compile_function(mapping, preset.mapping))
        presets.append({"preset": preset, "matches": matches, "mapping": mapping})
    limits = {k: v for k, v in dataclasses.asdict(dest.limits).items() if v is not None}
    return render(
        "destination.py.jinja",
        dest=dest,
        functions=functions,
        uses_fql=any("_fql." in function for function in functions),
        presets=presets,
        limits=limits,
        request_base=lambda r: _split_url(r, dest)[0],
        request_path=lambda r: _split_url(r, dest)[1],
    )


def generate(dest: ir.Destination, package_dir: str) -> dict[str, str]:
    return {f"{package_dir}/{dest.module}/__init__.py": module_source(dest)}
