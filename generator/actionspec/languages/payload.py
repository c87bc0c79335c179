"""The payload pipeline compiled per action: mapping, cleaning, coercion and validation fused.

`runtime/payload.py` defines the pipeline (`process`: remove empty values, coerce, strip
undeclared keys, validate). For a mapping known at generation time, the compiler here emits one
function `event -> payload | None` that evaluates each field's mapping and checks the value in
place. Each field gets an inline test for the values `process` would accept unchanged (a string
where a string is expected, ...); any other value goes to `_p.field_value`, which runs the
pipeline's own steps on that value alone. `None` means "invalid": the caller then runs `process`
on the mapped event for Segment's error message; when every field is valid and only required
ones are missing (an anonymous user, say), the function raises that error itself. Tests check
compiled == `process` on random payloads, errors included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from actionspec.languages.mapping_compiler import _compile, _Emitter, _share_prefixes
from actionspec.runtime.mapping import is_directive

Schema = dict[str, Any]

# Keys whose presence makes a schema need more than a type test.
_CONSTRAINTS = frozenset(
    {"enum", "format", "minLength", "maxLength", "minimum", "maximum", "properties", "items"}
    | {"required"}
)


@dataclass
class Constants:
    """Module-level names for the sub-schemas the slow path needs (looked up once, at import).

    One per generated module, shared by its payload functions.
    """

    lines: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)

    def add(self, expression: str) -> str:
        if expression not in self.names:
            name = f"_FIELD_SCHEMA_{len(self.names) + 1}"
            self.names[expression] = name
            self.lines.append(f"{name}: dict[str, Any] = {expression}")
        return self.names[expression]


def compile_payload_function(
    name: str, mapping: Any, schema: Schema, schema_name: str, constants: Constants
) -> str:
    """Source of `def name(data) -> dict | None`; sub-schema names are added to `constants`.

    `schema_name` is the module-level name holding the payload's JSON Schema.
    """
    out = _Emitter(prefix=f"_{name.upper()}")
    if isinstance(mapping, dict) and not is_directive(mapping):
        # Events are dicts; anything else takes the pipeline's step-by-step path (None).
        out.emit("if type(data) is not dict:")
        out.emit("    return None")
        out.dicts.add("data")
        _share_prefixes(mapping, "data", out)  # prefixes several fields read: read once
        result = _object(mapping, schema, schema_name, out, constants, root=True)
        out.emit(f"return {result}")
    else:  # a mapping that is not an object of fields: map, then run the pipeline
        value, _ = _compile(mapping, "data", out)
        out.emit(f"return _p.validated({value}, {schema_name})")
    return out.function(f"def {name}(data: Mapping[str, Any]) -> dict[str, Any] | None:")


def _types(schema: Schema) -> list[str]:
    kind = schema.get("type")
    if kind is None:
        return []
    return list(kind) if isinstance(kind, list) else [kind]


def _fusable_object(schema: Schema) -> bool:
    """An object whose declared properties can be checked one by one in place."""
    return (
        _types(schema) == ["object"]
        and "properties" in schema
        and not any(k in schema for k in ("enum", "format", "items"))
    )


def _object(
    mapping: dict[str, Any],
    schema: Schema,
    schema_expr: str,
    out: _Emitter,
    constants: Constants,
    root: bool,
) -> str:
    """Emit the checked object for a plain-object mapping; return its variable."""
    var = out.temp()
    out.emit(f"{var}: dict[str, Any] = {{}}")
    properties: dict[str, Schema] = schema.get("properties", {})
    keep_extra = schema.get("additionalProperties", True) is not False
    for key, sub_mapping in mapping.items():
        sub_schema = properties.get(key)
        if sub_schema is None:  # undeclared: kept as is, or stripped
            value, may_be_missing = _compile(sub_mapping, "data", out)
            if not keep_extra:
                continue
            if may_be_missing:
                out.emit(f"if {value} is not {out.missing}:")
                out.emit(f"    {var}[{key!r}] = {value}")
            else:
                out.emit(f"{var}[{key!r}] = {value}")
            continue
        sub_expr = constants.add(f"{schema_expr}['properties'][{key!r}]")
        if (
            isinstance(sub_mapping, dict)
            and not is_directive(sub_mapping)
            and _fusable_object(sub_schema)
        ):
            inner = _object(sub_mapping, sub_schema, sub_expr, out, constants, root=False)
            out.emit(f"{var}[{key!r}] = {inner}")
            continue
        _field(key, sub_mapping, sub_schema, sub_expr, var, out, root)
    required = list(schema.get("required", ()))
    if root and required:  # every field is valid here: the error is only what is missing
        test = " or ".join(f"{key!r} not in {var}" for key in required)
        out.emit(f"if {test}:")
        out.emit(f"    _p.missing_required({var}, {schema_expr})")
    for key in [] if root else required:
        out.emit(f"if {key!r} not in {var}:")
        out.emit("    return None")
    return var


def _field(
    key: str,
    mapping: Any,
    schema: Schema,
    schema_expr: str,
    target: str,
    out: _Emitter,
    root: bool,
) -> None:
    value, may_be_missing = _compile(mapping, "data", out)
    if not value.isidentifier():  # an expression: evaluate it once
        var = out.temp()
        out.emit(f"{var}: Any = {value}")
        value = var
    fast = _accepted_unchanged(value, schema, root)
    opened = 0  # blocks the slow path below sits in
    if fast is not None and (_types(schema) or not may_be_missing):
        # The usual value first: a typed test is false for MISSING, so one test serves both.
        out.emit(f"if {fast}:")
        out.emit(f"    {target}[{key!r}] = {value}")
        out.emit(f"elif {value} is not {out.missing}:" if may_be_missing else "else:")
        out.depth += 1
        opened = 1
    else:
        if may_be_missing:
            out.emit(f"if {value} is not {out.missing}:")
            out.depth += 1
            opened += 1
        if fast is not None:
            out.emit(f"if {fast}:")
            out.emit(f"    {target}[{key!r}] = {value}")
            out.emit("else:")
            out.depth += 1
            opened += 1
    checked = out.temp()
    out.emit(f"{checked} = _p.field_value({value}, {schema_expr}, {root})")
    out.emit(f"if {checked} is _p.FAIL:")
    out.emit("    return None")
    out.emit(f"if {checked} is not _p.DROP:")
    out.emit(f"    {target}[{key!r}] = {checked}")
    out.depth -= opened


def _accepted_unchanged(x: str, schema: Schema, root: bool) -> str | None:
    """A Python test true only for values of `x` the pipeline keeps unchanged without error.

    None when no cheap test exists (the slow path then handles every value).
    """
    kinds = _types(schema)
    if "enum" in schema:
        enum = schema["enum"]
        # Python's == mixes 1, 1.0 and True; only string enums are tested inline.
        if set(kinds) - {"string", "null"} or not all(isinstance(v, str | None) for v in enum):
            return None
    if not kinds:
        if any(k in schema for k in _CONSTRAINTS):
            return None
        return f"{x} is not None and {x} != ''"
    tests: list[str] = []
    for kind in kinds:
        test = _kind_test(x, kind, schema, root)
        if test is None:
            return None
        tests.append(test)
    return " or ".join(f"({t})" if " or " in t else t for t in tests)


def _kind_test(x: str, kind: str, schema: Schema, root: bool) -> str | None:
    if kind == "string":
        parts = [f"type({x}) is str"]
        if root:
            parts.append(x)  # "" is removed from the top level of a payload
        if "enum" in schema:
            values = sorted(v for v in schema["enum"] if isinstance(v, str))
            # A set display of constants compiles to a frozenset constant; sorted: deterministic.
            shown = ", ".join(repr(v) for v in values)
            parts.append(f"{x} in {{{shown}}}" if values else "False")
        fmt = schema.get("format")
        if fmt == "date-like":
            parts.append(f"_p.date_like({x})")
        elif fmt == "date-time":
            parts.append(f"_p.is_date_time({x})")
        elif fmt:
            parts.append(f"_p.check_format({x}, {fmt!r})")
        if "minLength" in schema:
            parts.append(f"len({x}) >= {int(schema['minLength'])}")
        if "maxLength" in schema:
            parts.append(f"len({x}) <= {int(schema['maxLength'])}")
        return " and ".join(parts)
    if kind in ("number", "integer"):
        parts = [f"type({x}) is int" if kind == "integer" else f"type({x}) in (int, float)"]
        if "minimum" in schema:
            parts.append(f"{x} >= {schema['minimum']!r}")
        if "maximum" in schema:
            parts.append(f"{x} <= {schema['maximum']!r}")
        return " and ".join(parts)  # formats constrain strings only
    if kind == "boolean":
        return f"type({x}) is bool"
    if kind == "null":
        return f"{x} is None" if "enum" not in schema or None in schema["enum"] else None
    if kind == "object":
        if {"properties", "required"} & schema.keys() or schema.get(
            "additionalProperties"
        ) is False:
            return None
        return f"type({x}) is dict"
    if (
        kind == "array"
        and isinstance(schema.get("items"), dict)
        and not (_CONSTRAINTS - {"items", "required"}).intersection(schema)
    ):
        item = _accepted_unchanged("i", schema["items"], root=False)
        if item is None:
            return None
        # Cleaning would drop a None or "" item the item test refuses; the test refuses it.
        return f"type({x}) is list and all({item} for i in {x})"
    return None
