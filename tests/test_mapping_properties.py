"""Compiled mappings agree with the reference interpreter: random mappings, random events.

Mappings are drawn over every directive (Segment's and actionspec's own) and nested at random;
events are random JSON whose keys and texts often hit the mappings' paths, patterns and tables.
For each pair, the function `compile_function` emits (run with `_m` bound to the runtime module)
must give what `evaluate` gives: the same value with the same key order and types, or the same
MappingError. Results are also free of MISSING at any depth.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from actionspec.languages.mapping import problems
from actionspec.languages.mapping_compiler import compile_function
from actionspec.runtime import mapping as runtime_mapping
from actionspec.runtime.mapping import MISSING, MappingError, evaluate

# Mappings and events draw keys from the same few names, so that paths often find something.
COMMON_KEYS = ["a", "b", "x"]
KEYS = [*COMMON_KEYS, "", "First Name", "accountType", "tags", "length", "0"]
keys = st.one_of(st.sampled_from(COMMON_KEYS), st.sampled_from(KEYS))
TEXTS = ["", "a", "b", "ab", "A b", "0", "1", "true", "false", "null", "x.y", "{{a}}", '{"a":1}']

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([0.0, -0.0, 0.5, 2.0, 1e21, 1e-7, 2**60]),
    st.sampled_from(TEXTS),
    st.text(alphabet="aAbB $&.😀", max_size=6),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=12,
)
containers = json_values.filter(lambda v: isinstance(v, dict | list))
events = st.dictionaries(keys, st.one_of(containers, json_values), max_size=6)

path_parts = st.lists(
    st.one_of(keys.filter(lambda k: k not in ("", "0")), st.integers(0, 2).map(lambda i: f"[{i}]")),
    max_size=3,
)


def _path_text(parts: list[str]) -> str:
    text = "".join(p if p.startswith("[") else f".{p}" for p in parts)
    return "$." + text.removeprefix(".") if text else "$"


paths = st.one_of(
    path_parts.map(_path_text), st.sampled_from(["$", "$.", "a", "a.b", "tags.length"])
)
slots = st.builds(lambda p, triple: ("{{{%s}}}" if triple else "{{%s}}") % p.removeprefix("$."),
                  paths, st.booleans())  # fmt: skip
templates = st.lists(st.one_of(st.sampled_from(["x", " ", "-", "{", "}"]), slots), max_size=4).map(
    "".join
)
short_texts = st.text(alphabet="abAB .$&`'", min_size=1, max_size=4)
LIQUID = ["{{ a }}", "{{ b | upcase }}-{{ x | default: 'none' }}", "{% if a %}yes{% else %}no{% endif %}",
          "{{ tags | size }}", "{% assign n = a | append: '!' %}{{ n }}"]  # fmt: skip


def _truthy_constant(value: Any) -> bool:
    return value not in (None, False, 0, "") or isinstance(value, dict | list)


def mappings(depth: int = 2) -> st.SearchStrategy[Any]:
    """A mapping `check` accepts, `depth` levels of directives deep at most."""
    leaf = st.one_of(
        scalars,
        st.builds(lambda p: {"@path": p}, paths),
        st.builds(lambda t: {"@template": t}, templates),
        st.builds(lambda v: {"@literal": v}, json_values),
        st.just({"@drop": {}}),
        st.builds(lambda t: {"@liquid": t}, st.sampled_from(LIQUID)),
    )
    if depth == 0:
        return leaf
    sub = mappings(depth - 1)
    directive_or_text = st.one_of(sub.filter(lambda m: isinstance(m, dict) and len(m) == 1
                                                       and next(iter(m)).startswith("@")),
                                  st.sampled_from(TEXTS).filter(bool))  # fmt: skip
    objects = st.one_of(st.dictionaries(keys, sub, max_size=3), sub.filter(
        lambda m: isinstance(m, dict)))  # fmt: skip
    truthy_sub = sub.filter(_truthy_constant)

    def options(**fields: Any) -> st.SearchStrategy[dict[str, Any]]:
        """Required fields as given; `fields` named `opt_x` are optional option `x`."""
        required = {k: v for k, v in fields.items() if not k.startswith("opt_")}
        optional = {k[4:]: v for k, v in fields.items() if k.startswith("opt_")}
        return st.fixed_dictionaries(required, optional=optional)

    directives = [
        st.builds(lambda o: {"@if": o}, st.one_of(
            options(exists=truthy_sub, opt_then=sub, opt_else=truthy_sub),
            options(blank=truthy_sub, opt_then=sub, opt_else=truthy_sub))),
        st.builds(lambda o: {"@case": o}, options(operator=st.sampled_from(["lower", "upper"]),
                                                  value=directive_or_text)),
        st.builds(lambda o: {"@replace": o}, options(
            value=directive_or_text, pattern=short_texts, opt_replacement=short_texts,
            opt_global=st.booleans(), opt_ignorecase=st.booleans(), opt_pattern2=short_texts)),
        st.builds(lambda p, s: {"@arrayPath": [p, s] if s is not None else [p]},
                  st.one_of(paths, directive_or_text.filter(lambda m: isinstance(m, dict))),
                  st.one_of(st.none(), objects)),
        st.builds(lambda o: {"@json": o}, options(mode=st.sampled_from(["encode", "decode"]),
                                                  value=truthy_sub)),
        st.builds(lambda o: {"@flatten": o}, options(
            value=sub, separator=st.sampled_from([".", "_", "::"]), opt_omitArrays=st.booleans())),
        st.builds(lambda o: {"@merge": o}, options(
            objects=st.lists(objects, min_size=1, max_size=3),
            opt_direction=st.sampled_from(["left", "right"]))),
        st.builds(lambda o: {"@transform": o}, options(apply=objects, mapping=objects)),
        st.builds(lambda v: {"@excludeWhenNull": v}, sub),
        st.builds(lambda o: {"@keys": o}, options(
            value=sub, opt_rename=st.dictionaries(keys, keys),
            opt_case=st.sampled_from(["snake", "lower", "upper", "camel", "keep"]))),
        st.builds(lambda o: {"@lookup": o}, options(
            value=sub, table=st.dictionaries(st.sampled_from(TEXTS), json_values, max_size=4),
            opt_default=sub, opt_ignore_case=st.booleans())),
        st.builds(lambda name, o: {name: o}, st.sampled_from(["@pick", "@omit"]), st.one_of(
            options(value=sub, keys=st.lists(keys),
                    opt_values=st.lists(scalars, max_size=3)),
            options(value=sub, values=st.lists(scalars, max_size=3)))),
        st.builds(lambda o: {"@eachValue": o}, options(value=sub, mapping=sub)),
        st.builds(lambda o: {"@encodeNested": o}, options(
            value=sub, objects=st.sampled_from(["keep", "json", "flatten", "drop"]),
            arrays=st.sampled_from(["keep", "json", "join", "drop"]),
            opt_separator=st.sampled_from([".", "_"]))),
    ]  # fmt: skip
    plain = st.one_of(st.dictionaries(keys, sub, max_size=3), st.lists(sub, max_size=3))
    return st.one_of(leaf, plain, *directives)


def compiled(
    mapping: Any, objects: tuple[tuple[str | int, ...], ...] = ()
) -> Callable[[Mapping[str, Any]], Any]:
    """The compiled mapping (`objects`: paths assumed to hold objects, see compile_function)."""
    source = compile_function(
        "mapped", mapping, objects=objects, source="SOURCE" if objects else ""
    )
    namespace: dict[str, Any] = {"_m": runtime_mapping, "Any": Any, "Mapping": Mapping}
    namespace["SOURCE"] = mapping
    exec(source, namespace)
    function: Callable[[Mapping[str, Any]], Any] = namespace["mapped"]
    return function


def exact(value: Any) -> Any:
    """A form that compares key order and exact types (1 is not 1.0, -0.0 is not 0.0)."""
    if isinstance(value, dict):
        return ("dict", [(k, exact(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [exact(v) for v in value])
    if isinstance(value, float):
        return ("float", math.copysign(1, value), value)
    return (type(value).__name__, value)


def outcome(function: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "value", function()
    except MappingError as exc:
        return "error", str(exc)


def has_missing(value: Any) -> bool:
    if isinstance(value, dict):
        return any(v is MISSING or has_missing(v) for v in value.values())
    if isinstance(value, list):
        return any(v is MISSING or has_missing(v) for v in value)
    return False


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mapping=mappings(), data=st.lists(events, min_size=1, max_size=3))
def test_compiled_equals_interpreted(mapping: Any, data: list[dict[str, Any]]) -> None:
    assume(not problems(mapping))
    function = compiled(mapping)
    for event in data:
        expected = outcome(lambda: evaluate(mapping, event))  # noqa: B023
        got = outcome(lambda: function(event))  # noqa: B023
        assert got[0] == expected[0], (got, expected)
        if expected[0] == "error":
            assert got == expected
        else:
            assert exact(got[1]) == exact(expected[1])
            assert not has_missing(got[1])


@settings(max_examples=150, deadline=None)
@given(mapping=mappings(depth=1))
def test_mappings_that_pass_check_compile_to_clean_code(mapping: Any) -> None:
    """No SyntaxWarning or error in the emitted source, for every mapping `check` accepts."""
    assume(not problems(mapping))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compile(compile_function("mapped", mapping), "<mapping>", "exec")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mapping=mappings(), data=st.lists(events, min_size=1, max_size=3))
def test_compiled_with_assumed_objects_equals_interpreted(
    mapping: Any, data: list[dict[str, Any]]
) -> None:
    """Request bodies are compiled assuming their data and its `a` (there: `payload`) are
    objects; any other value goes to the interpreter. Either way: what `evaluate` gives."""
    assume(not problems(mapping))
    function = compiled(mapping, objects=(("a",),))
    for event in [*data, *({"a": e} for e in data), ["not", "an", "object"]]:
        expected = outcome(lambda: evaluate(mapping, event))  # noqa: B023
        got = outcome(lambda: function(event))  # noqa: B023
        assert got[0] == expected[0], (got, expected)
        if expected[0] == "error":
            assert got == expected
        else:
            assert exact(got[1]) == exact(expected[1])
