"""The mapping compiler: a mapping known at generation time as straight-line Python.

The compiled function computes what the reference interpreter (`runtime/mapping.py`
`evaluate`) computes, values, key order and errors alike; property tests compare the two on
random mappings and events. It calls the runtime's helpers as `_m` and reads MISSING as a local
`missing`. Mappings are checked first (`languages/mapping.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from actionspec.languages.mapping import _has_directive, keys_below, path_uses, problems
from actionspec.runtime.jsvalues import truthy
from actionspec.runtime.mapping import (
    DIRECTIVES,
    DOUBLE_SLOT,
    TRIPLE_SLOT,
    _template_path,
    is_directive,
    parse_path,
)

__all__ = ["compile_function"]

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
    # When not clean: an object whose MISSING can only be its own entries, never deeper, so
    # cleaning it drops those entries and need not look inside the others.
    flat: bool = False


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
    clean = "_m.drop_missing" if value.flat else "_m.clean"
    if value.holes:  # clean only when one of the values that may be missing is
        test = " or ".join(f"{h} is {out.missing}" for h in value.holes)
        cleaned = f"{clean}({value.expr}) if {test} else {value.expr}"
        return _Value(out.assign(cleaned), value.missing)
    return _Value(out.assign(f"{clean}({value.expr})"), value.missing)


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
        flat = all(v.clean for v in entries.values())  # entries missing, not MISSING inside
        holes = _holes(list(entries.values()))
        return _Value(var, missing=False, clean=clean, holes=holes, flat=flat)
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
    out.dicts.add(var)  # (whatever is merged in, the result is a dict)
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
    flat = all(v.flat for v in unclean)  # their entries become the merge's own entries
    return _Value(var, missing=False, clean=not unclean, holes=_holes(unclean), flat=flat)


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
    value = _final(argument["value"], scope, out)
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
        if value.missing:  # nothing to look up (the usual other case): no call
            call = f"({out.missing} if {x} is {out.missing} else {call})"
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
        if not keep and keys is not None and values is None:
            # @omit by keys: a copy without them (C-level; key order stays the object's)
            if x in out.dicts:
                var = out.assign(f"dict({x})", "dict[str, Any]")
                indent = ""
            else:
                var = out.assign(x)
                out.emit(f"if isinstance({x}, dict):")
                out.emit(f"    {var} = dict({x})")
                indent = "    "
            for key in dict.fromkeys(keys):
                out.emit(f"{indent}{var}.pop({key!r}, None)")
            return _Value(var, value.missing)
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


def _share_prefixes(
    mapping: Any, data: str, out: _Emitter, objects: tuple[tuple[str | int, ...], ...] = ()
) -> None:
    """Read once, at the top of the function, each path prefix that several reads go through
    (`context.page` for `context.page.url` and `context.page.path`). Reads never fail, so doing
    them before they are needed is safe; they only cost a dictionary lookup each.

    A prefix in `objects` is read even when one read goes through it, and tested: when it holds
    an object, as it usually does, the reads below it need no type test."""
    uses = path_uses(mapping)
    below = {p for p in objects if any(len(r) > len(p) and r[: len(p)] == p for r in uses)}
    shared = (p for p, n in uses.items() if n > 1 or p in below)
    children = keys_below(uses)
    for parts in sorted(shared, key=len):
        parent = out.shared.get((data, parts[:-1]), data)
        var = out.assign(out.read(parent, parts[-1]))
        out.shared[(data, parts)] = var
        if parts in below:
            _assume_object(var, data, out)
        elif children.get(parts, 0) > 1:  # several keys read below: one type test for all
            out.add_reader(var)


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


def _compile(mapping: Any, root: str, out: _Emitter) -> tuple[str, bool]:
    """Emit statements computing `mapping` over the variable `root`; return an expression, and
    whether it may be MISSING."""
    value = _final(mapping, _Scope(root), out)
    return value.expr, value.missing
