"""The Python module of one destination: compiled mappings and triggers, and its definition."""

from __future__ import annotations

import dataclasses
from typing import Any

from actionspec import ir
from actionspec.languages import event_shape, mapping_compiler, triggers
from actionspec.languages import payload as payload_language
from actionspec.targets import jsonschema
from actionspec.targets.render import py, render


def _split_url(request: ir.Request, dest: ir.Destination) -> tuple[str, str]:
    """(base, path): the base is substituted as is, the path percent-encoded."""
    if request.url_is_absolute or request.path is None:
        return request.url, ""
    return (dest.base_url or "").rstrip("/"), request.path


def _trigger_function(name: str, text: str) -> str:
    expression = triggers.compile_expression(triggers.parse(text))
    return f"def {name}(event: Mapping[str, Any]) -> bool:\n    return bool({expression})"


def schema_constant(action: ir.Action) -> str:
    return f"_SCHEMA_{action.name.upper()}"


def body_mapping_constant(action: ir.Action) -> str:
    return f"_BODY_{action.name.upper()}_MAPPING"


def module_source(dest: ir.Destination) -> str:
    functions: list[str] = []
    mappings: list[str] = []  # module-level mappings (constants)
    constants = payload_language.Constants()

    def payload_function(name: str, action: ir.Action, mapping: Any) -> None:
        """The fused mapping + payload pipeline of `action` under `mapping`."""
        schema = jsonschema.payload_schema(dest, action)
        functions.append(
            payload_language.compile_payload_function(
                name, mapping, schema, schema_constant(action), constants
            )
        )

    for action in dest.actions:
        functions.append(
            mapping_compiler.compile_function(f"map_{action.name}", action.default_mapping())
        )
        payload_function(f"payload_{action.name}", action, action.default_mapping())
        if action.request.has_body:
            # The body reads a validated payload: an object (other values: the interpreter).
            source = body_mapping_constant(action)
            mappings.append(f"{source}: Any = {py(action.request.body)}")
            functions.append(
                mapping_compiler.compile_function(
                    f"body_{action.name}",
                    action.request.body,
                    objects=(("payload",),),
                    source=source,
                )
            )
    if dest.on_delete is not None and dest.on_delete.has_body:
        functions.append(mapping_compiler.compile_function("body_on_delete", dest.on_delete.body))
    presets: list[dict[str, Any]] = []
    for i, preset in enumerate(dest.presets, start=1):
        action = dest.action(preset.action)
        matches = f"preset_{i}_matches"
        functions.append(_trigger_function(matches, preset.trigger))
        mapping, payload = f"map_{action.name}", f"payload_{action.name}"
        if preset.mapping != action.default_mapping():
            mapping, payload = f"preset_{i}_mapping", f"preset_{i}_payload"
            functions.append(mapping_compiler.compile_function(mapping, preset.mapping))
            payload_function(payload, action, preset.mapping)
        presets.append(
            {"preset": preset, "matches": matches, "mapping": mapping, "payload": payload}
        )
    limits = {k: v for k, v in dataclasses.asdict(dest.limits).items() if v is not None}
    return render(
        "destination.py.jinja",
        dest=dest,
        functions=functions,
        constants=[*mappings, *constants.lines],
        body_mapping_constant=body_mapping_constant,
        schema_constant=schema_constant,
        uses_fql=any("_fql." in function for function in functions),
        presets=presets,
        limits=limits,
        request_base=lambda r: _split_url(r, dest)[0],
        request_path=lambda r: _split_url(r, dest)[1],
        event_shape=event_shape.action_event_shape,
        route_event_shape=event_shape.route_event_shape(dest),
    )


def generate(dest: ir.Destination, package_dir: str) -> dict[str, str]:
    return {f"{package_dir}/{dest.module}/__init__.py": module_source(dest)}
