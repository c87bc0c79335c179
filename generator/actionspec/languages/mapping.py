"""The mapping language at generation time: checking mappings and compiling them to Python.

The meaning of a mapping is defined by the reference interpreter in
`actionspec/runtime/mapping.py`; the compiler here emits straight-line Python that computes the
same values (tests compare the two on random mappings and events).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from actionspec.runtime.mapping import _TEMPLATE_SLOT, DIRECTIVES, is_directive, parse_path


class Report(Protocol):
    """Receives a problem at a path inside the mapping."""

    def __call__(self, at: tuple[str | int, ...], message: str, hint: str = "", /) -> None: ...


def check(mapping: Any, report: Report, at: tuple[str | int, ...] = ()) -> None:
    """Report every malformed part of `mapping` (never raises)."""
    if isinstance(mapping, float) and not math.isfinite(mapping):
        report(at, f"{mapping} is not a JSON number", "use a finite number or a string")
    if isinstance(mapping, list):
        for i, item in enumerate(mapping):
            check(item, report, (*at, i))
        return
    if not isinstance(mapping, dict):
        return
    directive_keys = [k for k in mapping if k.startswith("@")]
    if directive_keys and len(mapping) > 1:
        report(
            (*at, directive_keys[0]),
            f"directive '{directive_keys[0]}' is mixed with other keys "
            f"({', '.join(sorted(k for k in mapping if k != directive_keys[0]))})",
            "a directive must be the only key of its object; nest it under a plain key",
        )
        return
    if not directive_keys:
        for key, value in mapping.items():
            check(value, report, (*at, key))
        return
    name, argument = directive_keys[0], mapping[directive_keys[0]]
    where = (*at, name)
    if name not in DIRECTIVES:
        close = difflib.get_close_matches(name, sorted(DIRECTIVES), n=1)
        hint = f"did you mean '{close[0]}'?" if close else ""
        report(
            where, f"unknown directive '{name}'", hint or f"known: {', '.join(sorted(DIRECTIVES))}"
        )
        return
    _CHECKS[name](argument, report, where)


def _check_path(argument: Any, report: Report, at: tuple[str | int, ...]) -> None:
    if not isinstance(argument, str):
        report(at, f"@path takes a string, not {_kind(argument)}", 'e.g. "$.context.ip"')
        return
    try:
        parse_path(argument)
    except ValueError as exc:
        report(at, str(exc), "paths look like $.properties.plan or $.products[0].sku")


def _check_literal(argument: Any, report: Report, at: tuple[str | int, ...]) -> None:
    del argument, report, at  # any JSON value is a literal


def _check_template(argument: Any, report: Report, at: tuple[str | int, ...]) -> None:
    if not isinstance(argument, str):
        report(at, f"@template takes a string, not {_kind(argument)}", 'e.g. "{{traits.name}}"')
        return
    for slot in _TEMPLATE_SLOT.finditer(argument):
        try:
            parse_path(slot.group(1))
        except ValueError as exc:
            report(at, f"in template slot {slot.group(0)!r}: {exc}")


def _check_object_argument(
    name: str, argument: Any, report: Report, at: tuple[str | int, ...], allowed: set[str]
) -> bool:
    if not isinstance(argument, dict):
        report(at, f"{name} takes an object, not {_kind(argument)}")
        return False
    for key in argument:
        if key not in allowed:
            close = difflib.get_close_matches(key, sorted(allowed), n=1)
            hint = (
                f"did you mean '{close[0]}'?" if close else f"allowed: {', '.join(sorted(allowed))}"
            )
            report((*at, key), f"{name} has no option '{key}'", hint)
    return True


def _check_if(argument: Any, report: Report, at: tuple[str | int, ...]) -> None:
    if not _check_object_argument("@if", argument, report, at, {"exists", "blank", "then", "else"}):
        return
    conditions = [k for k in ("exists", "blank") if k in argument]
    if len(conditions) != 1:
        report(at, "@if needs exactly one condition: 'exists' or 'blank'")
    for key in ("exists", "blank", "then", "else"):
        if key in argument:
            check(argument[key], report, (*at, key))


def _check_merge(argument: Any, report: Report, at: tuple[str | int, ...]) -> None:
    if not _check_object_argument("@merge", argument, report, at, {"objects", "direction"}):
        return
    objects = argument.get("objects")
    if not isinstance(objects, list) or not objects:
        report(at, "@merge needs 'objects': a non-empty list of mappings")
    else:
        for i, item in enumerate(objects):
            check(item, report, (*at, "objects", i))
    if argument.get("direction", "right") not in ("left", "right"):
        report((*at, "direction"), "@merge direction must be 'left' or 'right'")


_CHECKS: dict[str, Callable[[Any, Report, tuple[str | int, ...]], None]] = {
    "@path": _check_path,
    "@literal": _check_literal,
    "@template": _check_template,
    "@if": _check_if,
    "@merge": _check_merge,
}
assert set(_CHECKS) == DIRECTIVES, "every run-time directive needs a check"


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, int | float) else "null"
    )


def paths_read(mapping: Any) -> Iterator[tuple[str | int, ...]]:
    """Every path a mapping reads with @path (used for docs and contract tests)."""
    if isinstance(mapping, list):
        for item in mapping:
            yield from paths_read(item)
    elif isinstance(mapping, dict):
        if is_directive(mapping) and "@path" in mapping:
            yield parse_path(mapping["@path"])
        elif is_directive(mapping) and "@literal" in mapping:
            return
        else:
            for value in mapping.values():
                yield from paths_read(value)


# --- compiler ---------------------------------------------------------------------------------


@dataclass
class _Emitter:
    """Accumulates Python statements; `MISSING` and helpers come from the runtime module `_m`."""

    lines: list[str] = field(default_factory=list)
    counter: int = 0
    depth: int = 1

    def temp(self) -> str:
        self.counter += 1
        return f"v{self.counter}"

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)


def _is_constant(mapping: Any) -> bool:
    if isinstance(mapping, dict):
        return not mapping or (
            not is_directive(mapping) and all(_is_constant(v) for v in mapping.values())
        )
    if isinstance(mapping, list):
        return all(_is_constant(v) for v in mapping)
    return True


def _may_be_missing(mapping: Any) -> bool:
    """Whether a value can evaluate to MISSING (only @path and @if can)."""
    return (
        isinstance(mapping, dict)
        and is_directive(mapping)
        and next(iter(mapping)) in {"@path", "@if"}
    )


def _compile(mapping: Any, root: str, out: _Emitter) -> str:
    """Emit statements computing `mapping` over the variable `root`; return an expression."""
    if _is_constant(mapping) and not (isinstance(mapping, dict) and is_directive(mapping)):
        return repr(mapping)  # a fresh object per call: dict and list displays build new ones
    if isinstance(mapping, list):
        items = [
            f"_m.defined({_compile(item, root, out)})"
            if _may_be_missing(item)
            else _compile(item, root, out)
            for item in mapping
        ]
        var = out.temp()
        out.emit(f"{var}: list[Any] = [{', '.join(items)}]")
        return var
    if not is_directive(mapping):
        var = out.temp()
        out.emit(f"{var}: dict[str, Any] = {{}}")
        for key, sub in mapping.items():
            value = _compile(sub, root, out)
            if _may_be_missing(sub):
                out.emit(f"if {value} is not _m.MISSING:")
                out.emit(f"    {var}[{key!r}] = {value}")
            else:
                out.emit(f"{var}[{key!r}] = {value}")
        return var
    name, argument = next(iter(mapping.items()))
    return _COMPILERS[name](argument, root, out)


def _compile_path(argument: str, root: str, out: _Emitter) -> str:
    parts = parse_path(argument)
    var = out.temp()
    out.emit(f"{var}: Any = {root}")
    for part in parts:
        if isinstance(part, str):
            out.emit(
                f"{var} = {var}.get({part!r}, _m.MISSING) if isinstance({var}, dict) else _m.MISSING"
            )
        else:
            out.emit(
                f"{var} = ({var}[{part}] if {part} < len({var}) else _m.MISSING) "
                f"if isinstance({var}, list) else _m.MISSING"
            )
    return var


def _compile_literal(argument: Any, root: str, out: _Emitter) -> str:
    return repr(argument)


def _compile_template(argument: str, root: str, out: _Emitter) -> str:
    pieces: list[str] = []
    position = 0
    for slot in _TEMPLATE_SLOT.finditer(argument):
        if slot.start() > position:
            pieces.append(repr(argument[position : slot.start()]))
        value = _compile_path(slot.group(1), root, out)
        pieces.append(f"_m.template_text({value})")
        position = slot.end()
    if position < len(argument) or not pieces:
        pieces.append(repr(argument[position:]))
    return " + ".join(pieces)


def _compile_if(argument: dict[str, Any], root: str, out: _Emitter) -> str:
    var = out.temp()
    kind = "exists" if "exists" in argument else "blank"
    tested = _compile(argument[kind], root, out)
    out.emit(f"{var}: Any = _m.MISSING")
    if kind == "exists":
        out.emit(f"if {tested} is not _m.MISSING and {tested} is not None:")
    else:
        out.emit(f"if {tested} is _m.MISSING or {tested} is None or {tested} == '':")
    for branch in ("then", "else"):
        out.depth += 1
        if branch in argument:
            out.emit(f"{var} = {_compile(argument[branch], root, out)}")
        else:
            out.emit("pass")
        out.depth -= 1
        if branch == "then":
            out.emit("else:")
    return var


def _compile_merge(argument: dict[str, Any], root: str, out: _Emitter) -> str:
    objects = list(argument["objects"])
    values = [_compile(item, root, out) for item in objects]
    if argument.get("direction", "right") == "left":
        objects.reverse()
        values.reverse()
    var = out.temp()
    out.emit(f"{var}: dict[str, Any] = {{}}")
    for item, value in zip(objects, values, strict=True):
        if isinstance(item, dict) and not is_directive(item):
            out.emit(f"{var}.update({value})")  # a plain object always evaluates to a dict
        else:
            out.emit(f"if isinstance({value}, dict):")
            out.emit(f"    {var}.update({value})")
    return var


_COMPILERS: dict[str, Callable[[Any, str, _Emitter], str]] = {
    "@path": _compile_path,
    "@literal": _compile_literal,
    "@template": _compile_template,
    "@if": _compile_if,
    "@merge": _compile_merge,
}
assert set(_COMPILERS) == DIRECTIVES, "every directive needs a compiler"


def compile_function(
    name: str, mapping: Any, *, argument: str = "data", returns: str = "Any"
) -> str:
    """Python source of `def name(argument) -> returns` evaluating `mapping` over `argument`."""
    out = _Emitter()
    result = _compile(mapping, argument, out)
    out.emit(f"return {result}")
    header = f"def {name}({argument}: Mapping[str, Any]) -> {returns}:"
    return "\n".join([header, *out.lines])
