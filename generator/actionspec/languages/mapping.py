"""The mapping language at generation time: checking mappings, and what they read.

The meaning of a mapping is defined by the reference interpreter in
`actionspec/runtime/mapping.py`; `languages/mapping_compiler.py` compiles mappings to Python.
`check` reports every malformed part of a mapping at a path inside it; `spec/validate.py` turns
those paths into `file:line:column`. The directives are documented in
`languages/mapping_docs.py`.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from actionspec.runtime import mapping_liquid
from actionspec.runtime.jsvalues import truthy, utf16_length
from actionspec.runtime.mapping import (
    DIRECTIVES,
    DOUBLE_SLOT,
    REPLACE_PATTERN_LIMIT,
    TRIPLE_SLOT,
    _template_path,
    is_directive,
    parse_path,
)

__all__ = [
    "DIRECTIVES",
    "check",
    "event_paths",
    "keys_below",
    "path_uses",
    "paths_read",
    "problems",
]

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


# --- what a mapping reads ------------------------------------------------------------------


def paths_read(mapping: Any) -> Iterator[tuple[str | int, ...]]:
    """Every path a mapping reads from its data: @path, @arrayPath roots, template slots and the
    paths of @transform's `apply` (not those relative to an item, an entry or a transformed
    value, and not variables of @liquid templates). Used by event shapes and contract tests."""
    for read in _reads(mapping):
        if read.known:
            yield read.parts


def event_paths(mapping: Any) -> list[tuple[str | int, ...]] | None:
    """`paths_read`, or None when some read is decided only at run time: the variables of a
    @liquid template, or a `{{{path}}}` slot, whose value becomes part of the template."""
    reads = list(_reads(mapping))
    if not all(read.known for read in reads):
        return None
    return [read.parts for read in reads]


@dataclass(frozen=True)
class _PathRead:
    parts: tuple[str | int, ...]
    known: bool = True  # False: what is read is decided at run time (parts: ())


def path_uses(mapping: Any) -> dict[tuple[str | int, ...], int]:
    """How many reads go through each path `mapping` reads (each read counts for its prefixes)."""
    uses: dict[tuple[str | int, ...], int] = {}
    for read in _reads(mapping):  # (a read decided at run time has no parts)
        for length in range(1, len(read.parts) + 1):
            uses[read.parts[:length]] = uses.get(read.parts[:length], 0) + 1
    return uses


def keys_below(uses: dict[tuple[str | int, ...], int]) -> dict[tuple[str | int, ...], int]:
    """For each path in `uses` (see `path_uses`), how many distinct keys are read right below."""
    found: dict[tuple[str | int, ...], int] = {}
    for parts in uses:
        if parts and isinstance(parts[-1], str):
            found[parts[:-1]] = found.get(parts[:-1], 0) + 1
    return found


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
        if TRIPLE_SLOT.search(argument):
            yield _PathRead((), known=False)
    elif name == "@arrayPath" and isinstance(argument, list) and argument:
        root = argument[0]
        yield from [_PathRead(parse_path(root))] if isinstance(root, str) else _reads(root)
    elif name == "@transform" and isinstance(argument, dict):
        yield from _reads(argument.get("apply"))
    elif name == "@eachValue" and isinstance(argument, dict):
        yield from _reads(argument.get("value"))
    elif name == "@liquid":
        yield _PathRead((), known=False)
    elif name == "@literal":
        return
    elif isinstance(argument, dict):
        for key, value in argument.items():
            if key not in ("table", "rename", "keys", "values"):
                yield from _reads(value)
    else:
        yield from _reads(argument)
