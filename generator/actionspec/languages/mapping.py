"""The mapping language at generation time: checking mappings and compiling them to Python.

The meaning of a mapping is defined by the reference interpreter in
`actionspec/runtime/mapping.py`; the compiler here emits straight-line Python that computes the
same values (tests compare the two on random mappings and events). `check` reports every
malformed part of a mapping at a path inside it; `spec/validate.py` turns those paths into
`file:line:column`. The directives are documented in `languages/mapping_docs.py`.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from actionspec.runtime import mapping_liquid
from actionspec.runtime.jsvalues import truthy, utf16_length
from actionspec.runtime.mapping import (
    _TEMPLATE_SLOT,
    DIRECTIVES,
    DOUBLE_SLOT,
    REPLACE_PATTERN_LIMIT,
    TRIPLE_SLOT,
    _template_path,
    is_directive,
    parse_path,
)

__all__ = ["DIRECTIVES", "_TEMPLATE_SLOT", "check", "compile_function", "paths_read"]

At = tuple[str | int, ...]


class Report(Protocol):
    """Receives a problem at a path inside the mapping."""

    def __call__(self, at: At, message: str, hint: str = "", /) -> None: ...


# --- checks -------------------------------------------------------------------------------------


def check(mapping: Any, report: Report, at: At = ()) -> None:
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


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, int | float) else "null"
    )


def _path_problem(path: Any) -> str | None:
    if not isinstance(path, str):
        return f"a path is a string, not {_kind(path)}"
    try:
        parse_path(path)
    except ValueError as exc:
        return str(exc)
    return None


# Option kinds: each takes (value, report, at) and reports what is wrong with the value.
Checker = Callable[[Any, Report, At], None]


def _any_mapping(value: Any, report: Report, at: At) -> None:
    check(value, report, at)


def _value_mapping(value: Any, report: Report, at: At) -> None:
    """A mapping Segment tests for truthiness first: a falsy constant would be ignored."""
    if not truthy(value):
        report(at, f"{value!r} is not a usable value here (Segment ignores a falsy constant)")
    check(value, report, at)


def _text_or_directive(value: Any, report: Report, at: At) -> None:
    if isinstance(value, str) or is_directive(value):
        _value_mapping(value, report, at)
    else:
        report(at, f"expected a string or a directive, not {_kind(value)}")


def _object_mapping(value: Any, report: Report, at: At) -> None:
    if isinstance(value, dict):
        check(value, report, at)
    else:
        report(at, f"expected an object or a directive, not {_kind(value)}")


def _boolean(value: Any, report: Report, at: At) -> None:
    if not isinstance(value, bool):
        report(at, f"expected true or false, not {_kind(value)}")


def _text(min_length: int = 0, max_length: int | None = None) -> Checker:
    def checker(value: Any, report: Report, at: At) -> None:
        if not isinstance(value, str):
            report(at, f"expected a string, not {_kind(value)}")
        elif utf16_length(value) < min_length:
            report(at, "expected a non-empty string")
        elif max_length is not None and utf16_length(value) > max_length:
            report(at, f"{value!r} is longer than {max_length} characters (Segment's limit)")

    return checker


def _one_of(*allowed: str) -> Checker:
    def checker(value: Any, report: Report, at: At) -> None:
        if value not in allowed:
            report(at, f"{value!r} is not allowed", f"allowed: {', '.join(allowed)}")

    return checker


def _text_map(value: Any, report: Report, at: At) -> None:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        report(at, "expected an object of strings (old key: new key)")


def _constant_table(value: Any, report: Report, at: At) -> None:
    if not isinstance(value, dict):
        report(at, f"expected an object (text: result), not {_kind(value)}")
        return
    for key, item in value.items():
        if _has_directive(item):
            report((*at, key), "table results are plain JSON; directives are not evaluated here")


def _has_directive(value: Any) -> bool:
    if isinstance(value, dict):
        return any(k.startswith("@") for k in value) or any(map(_has_directive, value.values()))
    return isinstance(value, list) and any(map(_has_directive, value))


def _text_list(value: Any, report: Report, at: At) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        report(at, "expected a list of strings")


def _object_list(value: Any, report: Report, at: At) -> None:
    if not isinstance(value, list) or not value:
        report(at, "expected a non-empty list of objects or directives")
        return
    for i, item in enumerate(value):
        _object_mapping(item, report, (*at, i))


def _scalar_list(value: Any, report: Report, at: At) -> None:
    if not isinstance(value, list) or any(isinstance(v, dict | list) for v in value):
        report(at, "expected a list of strings, numbers, booleans or null")


@dataclass(frozen=True)
class _Options:
    """The options object of a directive: each option's checker; `required` ones must be there."""

    options: dict[str, Checker]
    required: frozenset[str] = frozenset()
    extra: Callable[[dict[str, Any], Report, At], None] | None = None  # checks across options

    def __call__(self, name: str, argument: Any, report: Report, at: At) -> None:
        if not isinstance(argument, dict):
            report(at, f"{name} takes an object, not {_kind(argument)}")
            return
        for key, value in argument.items():
            if key in self.options:
                self.options[key](value, report, (*at, key))
                continue
            close = difflib.get_close_matches(key, sorted(self.options), n=1)
            hint = f"did you mean '{close[0]}'?" if close else ""
            report((*at, key), f"{name} has no option '{key}'", hint or _allowed(self.options))
        for key in sorted(self.required - set(argument)):
            report(at, f"{name} needs '{key}'", _allowed(self.options))
        if self.extra is not None:
            self.extra(argument, report, at)


def _allowed(options: dict[str, Checker]) -> str:
    return f"options: {', '.join(options)}"


def _if_extra(argument: dict[str, Any], report: Report, at: At) -> None:
    conditions = [k for k in ("exists", "blank") if k in argument]
    if len(conditions) != 1:
        report(at, "@if needs exactly one condition: 'exists' or 'blank'")
    elif not truthy(argument[conditions[0]]):
        report((*at, conditions[0]), "a falsy constant condition is an error in Segment")
    if "else" in argument and not truthy(argument["else"]):
        report(
            (*at, "else"),
            f"else: {argument['else']!r} is ignored (Segment drops the key instead)",
            'omit else to drop the key, or write {"@literal": ...} for this value',
        )


def _replace_extra(argument: dict[str, Any], report: Report, at: At) -> None:
    if "replacement2" in argument and "pattern2" not in argument:
        report((*at, "replacement2"), "replacement2 is only used with pattern2")


def _selection_extra(argument: dict[str, Any], report: Report, at: At) -> None:
    if "keys" not in argument and "values" not in argument:
        report(at, "say which entries: 'keys', 'values' or both")


def _lookup_extra(argument: dict[str, Any], report: Report, at: At) -> None:
    table = argument.get("table")
    if argument.get("ignore_case") is True and isinstance(table, dict):
        seen: dict[str, str] = {}
        for key in table:
            if key.casefold() in seen:
                report(
                    (*at, "table", key), f"'{key}' and '{seen[key.casefold()]}' differ only in case"
                )
            seen.setdefault(key.casefold(), key)


_CASES = ("snake", "lower", "upper", "camel", "keep")
_OPTIONS: dict[str, _Options] = {
    "@if": _Options(
        {"exists": _any_mapping, "blank": _any_mapping, "then": _any_mapping, "else": _any_mapping},
        extra=_if_extra,
    ),
    "@case": _Options(
        {"operator": _one_of("lower", "upper"), "value": _text_or_directive},
        frozenset({"operator", "value"}),
    ),
    "@replace": _Options(
        {
            "pattern": _text(1, REPLACE_PATTERN_LIMIT),
            "replacement": _text(0, REPLACE_PATTERN_LIMIT),
            "pattern2": _text(1, REPLACE_PATTERN_LIMIT),
            "replacement2": _text(0, REPLACE_PATTERN_LIMIT),
            "value": _text_or_directive,
            "global": _boolean,
            "ignorecase": _boolean,
        },
        frozenset({"pattern", "value"}),
        _replace_extra,
    ),
    "@json": _Options(
        {"mode": _one_of("encode", "decode"), "value": _value_mapping},
        frozenset({"mode", "value"}),
    ),
    "@flatten": _Options(
        {"separator": _text(1), "value": _any_mapping, "omitArrays": _boolean},
        frozenset({"separator", "value"}),
    ),
    "@merge": _Options(
        {"objects": _object_list, "direction": _one_of("left", "right")}, frozenset({"objects"})
    ),
    "@transform": _Options(
        {"apply": _object_mapping, "mapping": _object_mapping}, frozenset({"apply", "mapping"})
    ),
    "@keys": _Options(
        {"value": _any_mapping, "rename": _text_map, "case": _one_of(*_CASES)},
        frozenset({"value"}),
    ),
    "@lookup": _Options(
        {
            "value": _any_mapping,
            "table": _constant_table,
            "default": _any_mapping,
            "ignore_case": _boolean,
        },
        frozenset({"value", "table"}),
        _lookup_extra,
    ),
    "@pick": _Options(
        {"value": _any_mapping, "keys": _text_list, "values": _scalar_list},
        frozenset({"value"}),
        _selection_extra,
    ),
    "@eachValue": _Options(
        {"value": _any_mapping, "mapping": _any_mapping}, frozenset({"value", "mapping"})
    ),
    "@encodeNested": _Options(
        {
            "value": _any_mapping,
            "objects": _one_of("keep", "json", "flatten", "drop"),
            "arrays": _one_of("keep", "json", "join", "drop"),
            "separator": _text(1),
        },
        frozenset({"value", "objects", "arrays"}),
    ),
    "@drop": _Options({}),
}
_OPTIONS["@omit"] = _OPTIONS["@pick"]


def _check_path(argument: Any, report: Report, at: At) -> None:
    if not isinstance(argument, str):
        report(at, f"@path takes a string, not {_kind(argument)}", 'e.g. "$.context.ip"')
        return
    problem = _path_problem(argument)
    if problem:
        report(at, problem, "paths look like $.properties.plan or $.products[0].sku")


def _check_literal(argument: Any, report: Report, at: At) -> None:
    del argument, report, at  # any JSON value is a literal


def _check_template(argument: Any, report: Report, at: At) -> None:
    if not isinstance(argument, str):
        report(at, f"@template takes a string, not {_kind(argument)}", 'e.g. "{{traits.name}}"')
        return
    for slot in _template_slots(argument):
        problem = _path_problem(slot.group(1).strip())
        if problem:
            report(at, f"in template slot {slot.group(0)!r}: {problem}")


def _template_slots(template: str) -> list[re.Match[str]]:
    """The `{{{path}}}` slots, then the `{{path}}` slots outside them (as @template reads them)."""
    return [*TRIPLE_SLOT.finditer(template), *DOUBLE_SLOT.finditer(TRIPLE_SLOT.sub("", template))]


def _check_array_path(argument: Any, report: Report, at: At) -> None:
    if not isinstance(argument, list) or not 1 <= len(argument) <= 2:
        report(
            at,
            "@arrayPath takes a list: [path, item mapping]",
            'e.g. ["$.products", {"id": {"@path": "$.sku"}}]',
        )
        return
    root = argument[0]
    if isinstance(root, str):
        problem = _path_problem(root)
        if problem:
            report((*at, 0), problem)
    elif is_directive(root):
        check(root, report, (*at, 0))
    else:
        report((*at, 0), f"expected a path or a directive, not {_kind(root)}")
    if len(argument) == 2:
        _object_mapping(argument[1], report, (*at, 1))


def _check_excluded(argument: Any, report: Report, at: At) -> None:
    check(argument, report, at)


def _check_liquid(argument: Any, report: Report, at: At) -> None:
    if not isinstance(argument, str):
        report(at, f"@liquid takes a string, not {_kind(argument)}")
        return
    problem = mapping_liquid.problem(argument)
    if problem:
        report(at, f"@liquid: {problem}", "Liquid as in Segment: no loops, includes or sorting")


def _options_check(name: str) -> Callable[[Any, Report, At], None]:
    return lambda argument, report, at: _OPTIONS[name](name, argument, report, at)


_CHECKS: dict[str, Callable[[Any, Report, At], None]] = {
    "@path": _check_path,
    "@literal": _check_literal,
    "@template": _check_template,
    "@arrayPath": _check_array_path,
    "@excludeWhenNull": _check_excluded,
    "@liquid": _check_liquid,
    **{name: _options_check(name) for name in _OPTIONS},
}
assert set(_CHECKS) == DIRECTIVES, "every run-time directive needs a check"


def problems(mapping: Any) -> list[str]:
    """Every problem `check` finds, as text ("at a.b: message")."""
    found: list[str] = []

    def report(at: At, message: str, hint: str = "") -> None:
        where = ".".join(str(p) for p in at)
        found.append(f"at {where or 'the top'}: {message}")

    check(mapping, report)
    return found


def paths_read(mapping: Any) -> Iterator[tuple[str | int, ...]]:
    """Every path a mapping reads from its data: @path, @arrayPath roots, template slots and the
    paths of @transform's `apply` (not those relative to an item, an entry or a transformed
    value, and not variables of @liquid templates). Used for docs and contract tests."""
    for read in _reads(mapping):
        yield read.parts


# --- compiler ---------------------------------------------------------------------------------
#
# Every value is computed by statements into a temporary (or is a constant or a variable), in
# mapping order, so that errors happen in the order the interpreter meets them. A value is
# "clean" when no MISSING sits inside it; the interpreter removes inner MISSING entries only at
# the end, so the compiler does the same where a directive may leave some (`_m.clean`).


@dataclass
class _Emitter:
    """Accumulates Python statements; helpers come from the runtime module `_m`.

    Generated functions compare with a local `missing` (`_m.MISSING` read once per call);
    `uses_missing` says whether the function needs it. Constants too large to build per call
    (lookup tables, key renames) become module-level names starting with `prefix`.
    """

    lines: list[str] = field(default_factory=list)
    counter: int = 0
    depth: int = 1
    # Path prefixes read once at the top of the function: (data variable, parts) -> variable.
    shared: dict[tuple[str, tuple[str | int, ...]], str] = field(default_factory=dict)
    # Variables known to hold a dict here (their reads need no type test).
    dicts: set[str] = field(default_factory=set)
    # Variables read through a reader (the dict itself, or an `_m.Reader` of another value).
    readers: dict[str, str] = field(default_factory=dict)
    uses_missing: bool = False
    prefix: str = "_CONSTANT"
    source: str = ""  # the module-level name of the mapping compiled (for the interpreter)
    constants: dict[str, str] = field(default_factory=dict)  # expression -> name

    def temp(self) -> str:
        self.counter += 1
        return f"v{self.counter}"

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)

    def assign(self, expression: str, annotation: str = "Any") -> str:
        var = self.temp()
        self.emit(f"{var}: {annotation} = {expression}")
        return var

    @property
    def missing(self) -> str:
        self.uses_missing = True
        return "missing"

    def constant(self, value: Any) -> str:
        """A module-level name holding `value` (built once, at import; never changed)."""
        expression = repr(value)
        if expression not in self.constants:
            self.constants[expression] = f"{self.prefix}_{len(self.constants) + 1}"
        return self.constants[expression]

    def read(self, var: str, part: str | int) -> str:
        """The expression reading one step of a path from `var`."""
        self.uses_missing = True
        if isinstance(part, str) and var in self.readers:
            return f"{self.readers[var]}.get({part!r}, missing)"
        return path_step(var, part, var in self.dicts)

    def add_reader(self, var: str) -> None:
        """Read the keys of `var` (assigned at this depth, never again) through a reader."""
        if var in self.dicts or var in self.readers:
            return
        reader = f"{var}_get"
        self.emit(f"{reader}: Any = {var} if type({var}) is dict else _m.Reader({var})")
        self.readers[var] = reader

    def function(self, header: str) -> str:
        """The module-level source: the constants, then `header` with the statements."""
        body = self.lines
        if self.uses_missing:  # a local: read once per call, not once per use
            body = ["    missing = _m.MISSING", *body]
        constants = [f"{name}: Any = {expression}" for expression, name in self.constants.items()]
        return "\n".join([*constants, header, *body])


@dataclass(frozen=True)
class _Value:
    expr: str  # a constant, a variable or an expression that cannot fail
    missing: bool  # may be MISSING
    clean: bool = True  # holds no MISSING inside (in objects, at any depth)
    # When not clean: variables such that MISSING sits inside only if one of them is MISSING
    # (entries placed as they are), so the final value is cleaned only then; None: unknown.
    holes: tuple[str, ...] | None = None


def _holes(values: list[_Value]) -> tuple[str, ...] | None:
    """The holes of a value built from `values` placed as entries or items (see _Value)."""
    found: list[str] = []
    for value in values:
        if value.missing:
            if not value.expr.isidentifier():
                return None
            found.append(value.expr)
        if not value.clean:
            if value.holes is None:
                return None
            found.extend(value.holes)
    return tuple(dict.fromkeys(found))


@dataclass(frozen=True)
class _Scope:
    """The data paths are read from: a variable, whether MISSING may sit inside it, and
    whether it may be MISSING itself (what @transform applied may be)."""

    var: str
    clean: bool = True
    missing: bool = False


def path_step(var: str, part: str | int, is_dict: bool = False) -> str:
    """The expression reading one step of a path from `var` (Segment's get(), one key); the
    function must define the local `missing`. `is_dict`: `var` is known to hold a dict."""
    if isinstance(part, str):
        if is_dict:
            return f"{var}.get({part!r}, missing)"
        return f"{var}.get({part!r}, missing) if type({var}) is dict else _m.step({var}, {part!r})"
    return (
        f"{var}[{part}] if type({var}) is list and len({var}) > {part} else _m.step({var}, {part})"
    )


def _read(parts: tuple[str | int, ...], scope: _Scope, out: _Emitter) -> _Value:
    start, var = 0, scope.var
    for length in range(len(parts), 0, -1):  # the longest prefix read once at the top
        shared = out.shared.get((scope.var, parts[:length]))
        if shared is not None:
            start, var = length, shared
            break
    if start < len(parts):
        first, *rest = parts[start:]
        var = out.assign(out.read(var, first))
        for part in rest:
            out.emit(f"{var} = {out.read(var, part)}")
    return _Value(var, missing=bool(parts) or scope.missing, clean=scope.clean)


def _variable(expression: str, out: _Emitter) -> str:
    """`expression` as a variable, to use it several times or as part of a larger expression
    (`'x' + y` then `.upper()` would bind wrongly; `"x" is not ...` warns)."""
    return expression if expression.isidentifier() else out.assign(expression)


def _final(mapping: Any, scope: _Scope, out: _Emitter) -> _Value:
    """The value as `evaluate` gives it: no MISSING inside."""
    value = _value(mapping, scope, out, final=True)
    if value.clean:
        return value
    if value.holes:  # clean only when one of the values that may be missing is
        test = " or ".join(f"{h} is {out.missing}" for h in value.holes)
        cleaned = f"_m.clean({value.expr}) if {test} else {value.expr}"
        return _Value(out.assign(cleaned), value.missing)
    return _Value(out.assign(f"_m.clean({value.expr})"), value.missing)


def _raw(mapping: Any, scope: _Scope, out: _Emitter) -> _Value:
    """The value as a directive sees it: MISSING entries of objects still in place."""
    return _value(mapping, scope, out, final=False)


def _value(mapping: Any, scope: _Scope, out: _Emitter, final: bool) -> _Value:
    """Emit statements computing `mapping`; `final`: MISSING object entries may be left out."""
    if isinstance(mapping, dict) and is_directive(mapping):
        name, argument = next(iter(mapping.items()))
        return _COMPILERS[name](argument, scope, out, final)
    if not _has_directive(mapping):
        return _Value(repr(mapping), missing=False)  # a display builds a fresh object per call
    if isinstance(mapping, list):
        items = [_final(item, scope, out) if final else _raw(item, scope, out) for item in mapping]
        exprs = [f"_m.defined({v.expr})" if v.missing else v.expr for v in items]
        var = out.assign(f"[{', '.join(exprs)}]", "list[Any]")
        unclean = [v for v in items if not v.clean]
        return _Value(var, missing=False, clean=not unclean, holes=_holes(unclean))
    entries = {
        k: _final(v, scope, out) if final else _raw(v, scope, out) for k, v in mapping.items()
    }
    if not final or not any(v.missing for v in entries.values()):
        display = ", ".join(f"{k!r}: {v.expr}" for k, v in entries.items())
        clean = all(v.clean and not v.missing for v in entries.values())
        var = out.assign(f"{{{display}}}", "dict[str, Any]")
        return _Value(var, missing=False, clean=clean, holes=_holes(list(entries.values())))
    var = out.assign("{}", "dict[str, Any]")
    for key, value in entries.items():
        if value.missing:
            out.emit(f"if {value.expr} is not {out.missing}:")
            out.emit(f"    {var}[{key!r}] = {value.expr}")
        else:
            out.emit(f"{var}[{key!r}] = {value.expr}")
    return _Value(var, missing=False)


def _compile_path(argument: str, scope: _Scope, out: _Emitter, final: bool) -> _Value:
    return _read(parse_path(argument), scope, out)


def _compile_literal(argument: Any, scope: _Scope, out: _Emitter, final: bool) -> _Value:
    return _Value(repr(argument), missing=False)


def _compile_template(argument: str, scope: _Scope, out: _Emitter, final: bool) -> _Value:
    if TRIPLE_SLOT.search(argument):  # two passes over changing text: the runtime does it
        return _Value(out.assign(f"_m.render_mapping_template({argument!r}, {scope.var})"), False)
    pieces: list[str] = []
    position = 0
    for slot in DOUBLE_SLOT.finditer(argument):
        if slot.start() > position:
            pieces.append(repr(argument[position : slot.start()]))
        value = _read(_template_path(slot.group(1).strip()), scope, out)
        pieces.append(f"_m.template_text({value.expr})")
        position = slot.end()
    if position < len(argument) or not pieces:
        pieces.append(repr(argument[position:]))
    return _Value(" + ".join(pieces), missing=False)


def _compile_if(argument: dict[str, Any], scope: _Scope, out: _Emitter, final: bool) -> _Value:
    kind = "exists" if "exists" in argument else "blank"
    tested = _variable(_final(argument[kind], scope, out).expr, out)
    if kind == "exists":
        condition = f"{tested} is not {out.missing} and {tested} is not None"
    else:
        condition = f"not _m.is_blank({tested})"
    var = out.assign(out.missing)
    branches = [("then", "then" in argument), ("else", truthy(argument.get("else")))]
    values: list[_Value] = []
    out.emit(f"if {condition}:")
    for branch, present in branches:
        out.depth += 1
        if present:
            value = (_final if final else _raw)(argument[branch], scope, out)
            out.emit(f"{var} = {value.expr}")
            values.append(value)
        else:
            out.emit("pass")
        out.depth -= 1
        if branch == "then":
            out.emit("else:")
    missing = not all(present for _, present in branches) or any(v.missing for v in values)
    return _Value(var, missing, clean=all(v.clean for v in values))


def _compile_case(argument: dict[str, Any], scope: _Scope, out: _Emitter, final: bool) -> _Value:
    value = _value(argument["value"], scope, out, final)
    method = "lower" if argument["operator"] == "lower" else "upper"
    text = _variable(value.expr, out)
    var = out.assign(f"{text}.{method}() if isinstance({text}, str) else {text}")
    return _Value(var, value.missing, value.clean, value.holes)


def _compile_replace(argument: dict[str, Any], scope: _Scope, out: _Emitter, final: bool) -> _Value:
    value = _final(argument["value"], scope, out)
    options = {k: v for k, v in argument.items() if k != "value"}
    return _Value(out.assign(f"_m.replace({value.expr}, {options!r})"), missing=False)


def _compile_array_path(argument: list[Any], scope: _Scope, out: _Emitter, final: bool) -> _Value:
    path = argument[0]
    root = _read(parse_path(path), scope, out) if isinstance(path, str) else _raw(path, scope, out)
    shape = argument[1] if len(argument) > 1 else None
    if not isinstance(shape, dict) or not shape:
        return root
    # Each item of a list (an object is one item) mapped, in a loop here (no function per item);
    # any other root is the value as it is.
    x = _variable(root.expr, out)
    var = out.assign(x)
    out.emit(f"if isinstance({x}, (dict, list)):")
    out.depth += 1
    out.emit(f"{var} = []")
    item = f"{out.temp()}_item"
    out.emit(f"for {item} in {x} if isinstance({x}, list) else [{x}]:")
    out.depth += 1
    value = (_final if final else _raw)(shape, _Scope(item, root.clean), out)
    item_value = _variable(value.expr, out)
    out.emit(f"{var}.append(None if {item_value} is {out.missing} else {item_value})")
    out.depth -= 2
    # Holes inside items are variables of the loop: unknown outside it.
    return _Value(var, root.missing, clean=value.clean and root.clean)


def _compile_json(argument: dict[str, Any], scope: _Scope, out: _Emitter, final: bool) -> _Value:
    if argument["mode"] == "encode":
        value = _final(argument["value"], scope, out)
        return _Value(out.assign(f"_m.json_text({value.expr})"), value.missing)
    value = _value(argument["value"], scope, out, final)
    return _Value(out.assign(f"_m.json_decode({value.expr})"), value.missing, value.clean)


def _compile_flatten(argument: dict[str, Any], scope: _Scope, out: _Emitter, final: bool) -> _Value:
    value = _raw(argument["value"], scope, out)
    separator, omit = argument["separator"], argument.get("omitArrays", False)
    var = out.assign(f"_m.flatten({value.expr}, {separator!r}, {omit!r})", "dict[str, Any]")
    return _Value(var, missing=False, clean=value.clean and not value.missing)


def _compile_merge(argument: dict[str, Any], scope: _Scope, out: _Emitter, final: bool) -> _Value:
    objects = list(argument["objects"])
    values = [_raw(item, scope, out) for item in objects]
    if argument.get("direction", "right") == "left":
        objects.reverse()
        values.reverse()
    pairs = list(zip(objects, values, strict=True))
    if _has_directive(objects[0]) and not is_directive(objects[0]):
        # A plain object first: the dict just built for it is the merge's own to fill.
        var = values[0].expr
        pairs = pairs[1:]
    else:
        var = out.assign("{}", "dict[str, Any]")
    for item, value in pairs:
        if isinstance(item, dict) and not is_directive(item):
            out.emit(f"{var}.update({value.expr})")  # a plain object always evaluates to a dict
        else:
            x = _variable(value.expr, out)  # Object.assign: lists and strings spread too
            out.emit(f"if type({x}) is dict:")
            out.emit(f"    {var}.update({x})")
            out.emit("else:")
            out.emit(f"    _m.assign({var}, {x})")
    unclean = [v for v in values if not v.clean]  # (entries of the objects, not the objects)
    return _Value(var, missing=False, clean=not unclean, holes=_holes(unclean))


def _compile_transform(
    argument: dict[str, Any], scope: _Scope, out: _Emitter, final: bool
) -> _Value:
    data = out.assign(f"_m.transform_data({scope.var})")
    applied = _final(argument["apply"], _Scope(data), out)
    scope_var = _variable(applied.expr, out)
    return _value(argument["mapping"], _Scope(scope_var, missing=applied.missing), out, final)


def _compile_exclude(argument: Any, scope: _Scope, out: _Emitter, final: bool) -> _Value:
    value = _raw(argument, scope, out)
    return _Value(out.assign(f"_m.exclude_nulls({value.expr})"), missing=True, clean=False)


def _compile_liquid(argument: str, scope: _Scope, out: _Emitter, final: bool) -> _Value:
    return _Value(out.assign(f"_m.liquid({argument!r}, {scope.var})"), missing=False)


def _compile_keys(argument: dict[str, Any], scope: _Scope, out: _Emitter, final: bool) -> _Value:
    rename, case = argument.get("rename", {}), argument.get("case", "keep")
    table = out.constant(rename) if rename else "{}"
    inner = argument["value"]
    if isinstance(inner, dict) and is_directive(inner) and "@encodeNested" in inner:
        # Keys of an encoded object (CleverTap's properties): both steps in one helper.
        options = inner["@encodeNested"]
        value = _final(options["value"], scope, out)
        shown = ", ".join(
            map(repr, [options["objects"], options["arrays"], options.get("separator", ".")])
        )
        call = f"_m.encoded_keys({value.expr}, {shown}, {table}, {case!r})"
        return _Value(out.assign(call), value.missing)
    value = _final(inner, scope, out)
    return _Value(out.assign(f"_m.rename_keys({value.expr}, {table}, {case!r})"), value.missing)


def _compile_lookup(argument: dict[str, Any], scope: _Scope, out: _Emitter, final: bool) -> _Value:
    value = _final(argument["value"], scope, out)
    ignore_case = argument.get("ignore_case", False)
    table = argument["table"]
    if ignore_case:
        table = {k.casefold(): v for k, v in table.items()}
    folded = ", folded=True" if ignore_case else ""  # the table's keys are folded here, once
    name = out.constant(table)
    x = _variable(value.expr, out)
    call = f"_m.lookup({x}, {name}, {ignore_case!r}{folded})"
    if any(isinstance(v, dict | list) for v in table.values()):  # results are copied
        var = out.assign(call)
    else:  # a text is looked up directly; other values are turned into text first
        key = f"{x}.casefold()" if ignore_case else x
        var = out.assign(f"{name}.get({key}, {out.missing}) if type({x}) is str else {call}")
    out.emit(f"if {var} is {out.missing}:")
    out.depth += 1
    has_default = "default" in argument
    otherwise = _final(argument["default"], scope, out) if has_default else value
    out.emit(f"{var} = {otherwise.expr}")
    out.depth -= 1
    return _Value(var, missing=otherwise.missing)


def _compile_selection(keep: bool) -> Callable[[Any, _Scope, _Emitter, bool], _Value]:
    def compile_selection(
        argument: dict[str, Any], scope: _Scope, out: _Emitter, final: bool
    ) -> _Value:
        value = _final(argument["value"], scope, out)
        keys, values = argument.get("keys"), argument.get("values")
        x = _variable(value.expr, out)
        tests = []
        if keys is not None:
            shown = ", ".join(repr(k) for k in sorted(set(keys)))  # a frozenset constant
            tests.append(f"k in {{{shown}}}" if keys else "False")
        if values is not None:
            tests.append(_same_json_test("v", values))
        test = " and ".join(f"({t})" if " or " in t else t for t in tests)
        if not keep:
            test = f"not ({test})" if " " in test else f"not {test}"
        selected = f"{{k: v for k, v in {x}.items() if {test}}}"
        if x not in out.dicts:  # anything but an object is the value as it is
            selected = f"{selected} if isinstance({x}, dict) else {x}"
        return _Value(out.assign(selected), value.missing)

    return compile_selection


def _same_json_test(x: str, values: list[Any]) -> str:
    """A test true when `x` is one of the JSON scalars `values` (true is not 1, 1 is 1.0)."""
    tests: list[str] = []
    if any(v is None for v in values):
        tests.append(f"{x} is None")
    tests += [f"{x} is {v!r}" for v in (True, False) if any(u is v for u in values)]
    numbers = sorted({v for v in values if isinstance(v, int | float) and not isinstance(v, bool)})
    if numbers:
        shown = ", ".join(repr(n) for n in numbers)
        tests.append(f"(type({x}) is int or type({x}) is float) and {x} in {{{shown}}}")
    texts = sorted({v for v in values if isinstance(v, str)})
    if texts:
        shown = ", ".join(repr(t) for t in texts)
        tests.append(f"type({x}) is str and {x} in {{{shown}}}")
    return " or ".join(f"({t})" if " and " in t and len(tests) > 1 else t for t in tests) or "False"


def _compile_each_value(
    argument: dict[str, Any], scope: _Scope, out: _Emitter, final: bool
) -> _Value:
    value = _final(argument["value"], scope, out)
    # The mapping over each value of an object or item of a list, in a loop here; entries
    # whose result is missing are dropped; any other value is the value as it is.
    x = _variable(value.expr, out)
    var = out.assign(x)
    out.emit(f"if isinstance({x}, (dict, list)):")
    out.depth += 1
    entries = out.assign("{}", "dict[Any, Any]")
    key, item = out.temp(), f"{out.temp()}_item"
    out.emit(f"for {key}, {item} in {x}.items() if isinstance({x}, dict) else enumerate({x}):")
    out.depth += 1
    mapped = _final(argument["mapping"], _Scope(item), out)
    if mapped.missing:
        out.emit(f"if {mapped.expr} is not {out.missing}:")
        out.emit(f"    {entries}[{key}] = {mapped.expr}")
    else:
        out.emit(f"{entries}[{key}] = {mapped.expr}")
    out.depth -= 1
    out.emit(f"{var} = {entries} if isinstance({x}, dict) else list({entries}.values())")
    out.depth -= 1
    return _Value(var, value.missing)


def _compile_encode_nested(
    argument: dict[str, Any], scope: _Scope, out: _Emitter, final: bool
) -> _Value:
    value = _final(argument["value"], scope, out)
    options = [argument["objects"], argument["arrays"], argument.get("separator", ".")]
    call = f"_m.encode_nested({value.expr}, {', '.join(map(repr, options))})"
    return _Value(out.assign(call), value.missing)


def _compile_drop(argument: Any, scope: _Scope, out: _Emitter, final: bool) -> _Value:
    return _Value(out.missing, missing=True)


_COMPILERS: dict[str, Callable[[Any, _Scope, _Emitter, bool], _Value]] = {
    "@path": _compile_path,
    "@literal": _compile_literal,
    "@template": _compile_template,
    "@if": _compile_if,
    "@case": _compile_case,
    "@replace": _compile_replace,
    "@arrayPath": _compile_array_path,
    "@json": _compile_json,
    "@flatten": _compile_flatten,
    "@merge": _compile_merge,
    "@transform": _compile_transform,
    "@excludeWhenNull": _compile_exclude,
    "@liquid": _compile_liquid,
    "@keys": _compile_keys,
    "@lookup": _compile_lookup,
    "@pick": _compile_selection(keep=True),
    "@omit": _compile_selection(keep=False),
    "@eachValue": _compile_each_value,
    "@encodeNested": _compile_encode_nested,
    "@drop": _compile_drop,
}
assert set(_COMPILERS) == DIRECTIVES, "every directive needs a compiler"


# --- reads shared by several paths -----------------------------------------------------------


@dataclass(frozen=True)
class _PathRead:
    parts: tuple[str | int, ...]


def _reads(mapping: Any) -> Iterator[_PathRead]:
    """The paths `mapping` reads from its own data (not from items or transformed values)."""
    if isinstance(mapping, list):
        for item in mapping:
            yield from _reads(item)
        return
    if not isinstance(mapping, dict):
        return
    if not is_directive(mapping):
        for value in mapping.values():
            yield from _reads(value)
        return
    name, argument = next(iter(mapping.items()))
    if name == "@path" and isinstance(argument, str):
        yield _PathRead(parse_path(argument))
    elif name == "@template" and isinstance(argument, str):
        for slot in _template_slots(argument):
            yield _PathRead(_template_path(slot.group(1).strip()))
    elif name == "@arrayPath" and isinstance(argument, list) and argument:
        root = argument[0]
        yield from [_PathRead(parse_path(root))] if isinstance(root, str) else _reads(root)
    elif name == "@transform" and isinstance(argument, dict):
        yield from _reads(argument.get("apply"))
    elif name == "@eachValue" and isinstance(argument, dict):
        yield from _reads(argument.get("value"))
    elif name in ("@literal", "@liquid"):
        return
    elif isinstance(argument, dict):
        for key, value in argument.items():
            if key not in ("table", "rename", "keys", "values"):
                yield from _reads(value)
    else:
        yield from _reads(argument)


def _share_prefixes(
    mapping: Any, data: str, out: _Emitter, objects: tuple[tuple[str | int, ...], ...] = ()
) -> None:
    """Read once, at the top of the function, each path prefix that several reads go through
    (`context.page` for `context.page.url` and `context.page.path`). Reads never fail, so doing
    them before they are needed is safe; they only cost a dictionary lookup each.

    A prefix in `objects` is read even when one read goes through it, and tested: when it holds
    an object, as it usually does, the reads below it need no type test."""
    uses: dict[tuple[str | int, ...], int] = {}
    for read in _reads(mapping):
        for length in range(1, len(read.parts) + 1):
            uses[read.parts[:length]] = uses.get(read.parts[:length], 0) + 1
    below = {
        p
        for p in objects
        if any(n > 0 and len(r) > len(p) and r[: len(p)] == p for r, n in uses.items())
    }
    shared = (p for p, n in uses.items() if n > 1 or p in below)
    children = _children(uses)
    for parts in sorted(shared, key=len):
        parent = out.shared.get((data, parts[:-1]), data)
        var = out.assign(out.read(parent, parts[-1]))
        out.shared[(data, parts)] = var
        if parts in below:
            _assume_object(var, data, out)
        elif children.get(parts, 0) > 1:  # several keys read below: one type test for all
            out.add_reader(var)


def _children(uses: dict[tuple[str | int, ...], int]) -> dict[tuple[str | int, ...], int]:
    """For each path, how many distinct keys are read right below it."""
    found: dict[tuple[str | int, ...], int] = {}
    for parts in uses:
        if parts and isinstance(parts[-1], str):
            found[parts[:-1]] = found.get(parts[:-1], 0) + 1
    return found


def _assume_object(var: str, data: str, out: _Emitter) -> None:
    """Code below may read `var` as a dict: any other value takes the interpreter's path."""
    out.emit(f"if type({var}) is not dict:")
    out.emit(f"    return _m.evaluate({out.source}, {data})")
    out.dicts.add(var)


def compile_function(
    name: str,
    mapping: Any,
    *,
    argument: str = "data",
    returns: str = "Any",
    objects: tuple[tuple[str | int, ...], ...] = (),
    source: str = "",
) -> str:
    """Python source of `def name(argument) -> returns` evaluating `mapping` over `argument`,
    after the module-level constants it uses (named after the function).

    `objects`: paths of the data that usually hold objects (a request body's `payload`); the
    code is faster for them, and evaluates other values with the interpreter, reading the
    mapping from the module-level name `source`.
    The mapping must pass `check` (ValueError otherwise)."""
    found = problems(mapping)
    if found:
        raise ValueError(f"cannot compile a malformed mapping: {'; '.join(found)}")
    if objects and not source:
        raise ValueError("objects needs the name of the mapping's source")
    out = _Emitter(prefix=f"_{name.upper()}", source=source)
    if objects:
        _assume_object(argument, argument, out)
    _share_prefixes(mapping, argument, out, objects)
    result = _final(mapping, _Scope(argument), out)
    out.emit(f"return {result.expr}")
    return out.function(f"def {name}({argument}: Mapping[str, Any]) -> {returns}:")


# For the payload compiler (languages/payload.py): one sub-mapping as evaluate() gives it.


def _compile(mapping: Any, root: str, out: _Emitter) -> str:
    """Emit statements computing `mapping` over the variable `root`; return an expression."""
    return _final(mapping, _Scope(root), out).expr


def _may_be_missing(mapping: Any) -> bool:
    """Whether `mapping` can evaluate to MISSING."""
    return _final(mapping, _Scope("data"), _Emitter()).missing
