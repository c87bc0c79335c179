"""What the contract tests read from a spec (IR): plain-path fields, trigger literals, and the
mapping that realistic events go through."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from actionspec import ir
from actionspec.languages import triggers
from actionspec.runtime.mapping import is_directive, parse_path
from contract.segment_schema import MESSAGE_TYPES
from contract.strategies import Path, segment_schema_at


def plain_path(mapping: Any) -> Path | None:
    """The path of a mapping that is exactly `{"@path": "$..."}`."""
    if is_directive(mapping) and "@path" in mapping and isinstance(mapping["@path"], str):
        return parse_path(mapping["@path"])
    return None


def object_of_paths(field: ir.Field, mapping: Any) -> dict[str, Path] | None:
    """For an object field mapped as `{prop: {"@path": ...}, ...}` (Clay's `page`): its paths."""
    if field.type != "object" or field.multiple or not isinstance(mapping, dict):
        return None
    if is_directive(mapping) or not field.properties:
        return None
    declared = {f.key for f in field.properties}
    paths = {key: plain_path(value) for key, value in mapping.items()}
    if set(paths) <= declared and all(p is not None for p in paths.values()):
        return {k: p for k, p in paths.items() if p is not None}
    return None


def fills(fields: tuple[ir.Field, ...], mapping: dict[str, Any]) -> list[tuple[Path, ir.Field]]:
    """(event path, field) for every field (or declared property) mapped by a plain path."""
    found: list[tuple[Path, ir.Field]] = []
    for field in fields:
        if field.key not in mapping:
            continue
        path = plain_path(mapping[field.key])
        if path:
            found.append((path, field))
        elif (paths := object_of_paths(field, mapping[field.key])) is not None:
            declared = {f.key: f for f in field.properties}
            found += [(p, declared[key]) for key, p in paths.items() if p]
    return found


def literals(trigger_text: str | None) -> dict[Path, list[Any]]:
    """The values a trigger compares fields to with `=`: {("type",): ["track"], ...}."""
    found: dict[Path, list[Any]] = {}
    if not trigger_text:
        return found

    def walk(node: triggers.Trigger) -> None:
        if isinstance(node, triggers.And | triggers.Or):
            for term in node.terms:
                walk(term)
        elif isinstance(node, triggers.Comparison) and node.op == "=":
            if isinstance(node.value, triggers.String | triggers.Number | triggers.Boolean):
                found.setdefault(node.path.parts, []).append(node.value.value)
        elif isinstance(node, triggers.Call) and not node.negated:
            text = node.argument.strip("*") if node.function == "match" else node.argument
            found.setdefault(node.path.parts, []).append(text)

    walk(triggers.parse(trigger_text))
    return found


def message_types(
    trigger_text: str | None, required_paths: list[Path] | None = None
) -> tuple[str, ...]:
    """The types a trigger names; without one, the types whose events can have every path
    in `required_paths` (those of required fields), or all six."""
    named = [t for t in literals(trigger_text).get(("type",), []) if t in MESSAGE_TYPES]
    if named:
        return tuple(dict.fromkeys(named))
    possible = tuple(
        t
        for t in MESSAGE_TYPES
        if all(segment_schema_at(t, path) != "unknown" for path in required_paths or [])
    )
    return possible or MESSAGE_TYPES


def required_paths(fields: list[tuple[Path, ir.Field]], action: ir.Action) -> list[Path]:
    required = {f.key for f in action.fields if f.required}
    return [path for path, field in fields if field.key in required]


def matches(trigger_text: str | None, event: dict[str, Any]) -> bool:
    """The reference interpreter's answer (the generated code has its own, compiled)."""
    return trigger_text is None or triggers.evaluate(triggers.parse(trigger_text), event)


@dataclass(frozen=True)
class RealisticSource:
    """The mapping realistic events go through, and the trigger they satisfy."""

    mapping: dict[str, Any]  # as in the spec
    trigger: str | None
    via: str  # "default mapping" or "preset '<name>'"
    runtime_mapping: Callable[[Any], Any] | None  # None: the action's default


def realistic_source(
    dest: ir.Destination, action: ir.Action, runtime: Any
) -> RealisticSource | None:
    """The default mapping when it gives every required field, else the first preset of the
    action whose mapping does; None when no mapping can fill the required fields."""
    required = {f.key for f in action.fields if f.required}
    default = action.default_mapping()
    if required <= set(default):
        return RealisticSource(default, action.trigger, "default mapping", None)
    for i, preset in enumerate(dest.presets):
        if preset.action == action.key and required <= set(preset.mapping):
            return RealisticSource(
                preset.mapping,
                preset.trigger,
                f"preset {preset.name!r}",
                runtime.presets[i].mapping,
            )
    return None
