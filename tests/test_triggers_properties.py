"""Random triggers and events (hypothesis): compiled code = interpreter, printing round-trips,
garbage never crashes the parser, and the interpreter obeys the laws of Segment's operators."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actionspec.languages import triggers
from actionspec.languages.triggers import (
    And,
    Boolean,
    Call,
    Comparison,
    Not,
    Null,
    Number,
    Operator,
    Or,
    Path,
    String,
    Trigger,
    TriggerSyntaxError,
    Value,
    compile_expression,
    evaluate,
    parse,
    to_text,
)
from actionspec.runtime import fql

# Keys: plain, escaped, keywords, array indexes, and names JavaScript finds on strings, arrays
# and numbers (`at`, `map`, `toFixed`...), so paths walk into built-in methods too.
KEYS = [
    "a", "b", "plan", "0", "1", "01", "length", "first name", "and", "or", "null", "not", "true",
    "x-y", "é", "_k", "at", "map", "search", "toFixed", "😀",
]  # fmt: skip
TEXTS = ["", "pro", "Pro", "track", "Order Completed", "x", "a*b", 'q"uote', "back\\slash", "😀"]


def strings() -> st.SearchStrategy[str]:
    # A string literal cannot end with a backslash (`\"` is a quote inside the string).
    return (st.sampled_from(TEXTS) | st.text(max_size=6)).map(lambda s: s.rstrip("\\"))


def numbers() -> st.SearchStrategy[int | float]:
    return (
        st.sampled_from([0, 1, 3, -1, 42.5, -1.5, 0.5, 1e-7, 1e22, 2**53, 2**60 + 1.0])
        | st.integers(-1000, 1000)
        | st.floats(allow_nan=False, allow_infinity=False)
    )


def keys() -> st.SearchStrategy[str]:
    invented = st.text(min_size=1, max_size=4).filter(
        lambda k: not any(c in k for c in ".[]") and k not in triggers.OBJECT_MEMBERS
    )
    return st.sampled_from(KEYS) | invented


def paths(heads: tuple[str, ...]) -> st.SearchStrategy[Path]:
    def build(head: str) -> st.SearchStrategy[Path]:
        if head in triggers.SCALAR_FIELDS:
            return st.just(Path((head,)))
        return st.lists(keys(), min_size=1, max_size=3).map(lambda k: Path((head, *k)))

    return st.sampled_from(heads).flatmap(build)


ALL_FIELDS = triggers.SCALAR_FIELDS + triggers.OBJECT_FIELDS


@st.composite
def comparisons(draw: st.DrawFn) -> Comparison:
    """Any comparison the language accepts (see the module docstring of triggers)."""
    path = draw(paths(ALL_FIELDS))
    op: Operator = draw(st.sampled_from(["=", "!=", "<", "<=", ">", ">="]))
    if op not in ("=", "!="):
        return Comparison(path, op, Number(draw(numbers())))
    kinds: list[st.SearchStrategy[Value]] = [strings().map(String)]
    if path.head not in ("type", "event"):
        kinds.append(st.just(Null()))
    if path.head in ("userId", *triggers.OBJECT_FIELDS) and op == "=":
        kinds.append(st.booleans().map(Boolean))
    if path.head in triggers.OBJECT_FIELDS:
        kinds.append(numbers().map(Number))
    return Comparison(path, op, draw(st.one_of(kinds)))


@st.composite
def calls(draw: st.DrawFn) -> Call:
    path = draw(paths(("event", "name", "userId", *triggers.OBJECT_FIELDS)))
    function: triggers.Function = draw(st.sampled_from(["contains", "match"]))
    argument = draw(strings())
    if function == "match":
        argument = argument.replace("*", "").rstrip("\\")
        argument = argument + "*" if draw(st.booleans()) else "*" + argument
    return Call(function, path, argument, draw(st.booleans()))


leaves = comparisons() | calls()


def ends_with_call(trigger: Trigger) -> bool:
    while isinstance(trigger, Not):
        trigger = trigger.operand
    return isinstance(trigger, Call)


@st.composite
def groups(draw: st.DrawFn, items: st.SearchStrategy[Trigger], in_parentheses: bool) -> Trigger:
    terms = draw(st.lists(items, min_size=2, max_size=4))
    if in_parentheses:
        # Segment ends a parenthesised group at a call's ')': calls may only come last there.
        terms = [t for t in terms[:-1] if not ends_with_call(t)] + [terms[-1]]
        if len(terms) < 2:
            terms.insert(0, draw(comparisons()))
    return And(tuple(terms)) if draw(st.booleans()) else Or(tuple(terms))


# Any group below the top is printed in parentheses; `not` applies to anything.
inner_trees = st.recursive(
    leaves,
    lambda inner: groups(inner, in_parentheses=True) | inner.map(Not),
    max_leaves=6,
)
trigger_trees = inner_trees | groups(inner_trees, in_parentheses=False) | inner_trees.map(Not)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([0, 1, 3, -1, 42.5, -1.5, 0.0, -0.0, 2**53 + 1, -(2**60), 10**400]),
    st.integers(-5, 5),
    st.floats(allow_nan=False),
    st.sampled_from(TEXTS),
    st.text(max_size=4),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys(), inner, max_size=4),
    max_leaves=8,
)
events = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["track", "identify", "page"]) | json_values,
        "event": st.sampled_from(TEXTS) | json_values,
        "name": st.sampled_from(TEXTS) | json_values,
        "userId": st.sampled_from(TEXTS) | json_values,
        "properties": json_values,
        "traits": json_values,
        "context": json_values,
    },
)


def outcome(run: Callable[[], object]) -> tuple[str, object]:
    """The result, or the kind of exception: compiled code and interpreter must agree on both."""
    try:
        return "value", run()
    except Exception as error:  # compared, not hidden
        return "error", type(error)


# --------------------------------------------------------------------------- compiled = interpreted


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(trigger_trees, events)
def test_compiled_matches_interpreter(trigger: Trigger, event: dict[str, Any]) -> None:
    text = to_text(trigger)
    compiled = eval(f"lambda event: {compile_expression(parse(text))}", {"_fql": fql})
    expected = outcome(lambda: evaluate(parse(text), event))
    assert outcome(lambda: compiled(event)) == expected, (text, event)
    assert expected[0] == "value" and isinstance(expected[1], bool)


@settings(max_examples=100)
@given(trigger_trees, st.sampled_from([None, [], "event", 5]))
def test_compiled_and_interpreter_fail_alike_on_non_events(trigger: Trigger, event: Any) -> None:
    compiled = eval(f"lambda event: {compile_expression(trigger)}", {"_fql": fql})
    assert outcome(lambda: compiled(event)) == outcome(lambda: evaluate(trigger, event))


# --------------------------------------------------------------------------- printing and parsing


@settings(max_examples=400)
@given(trigger_trees)
def test_printing_round_trips(trigger: Trigger) -> None:
    text = to_text(trigger)
    assert parse(text) == trigger
    assert to_text(parse(text)) == text


FQL_PIECES = [
    " ", "(", ")", "!", '"', "\\", "and ", "or ", "not ", "AND ", ",", "=", "!= ", " > ", "<= ",
    "*", ".", "null", "true", "1.5", "-", "+", "type", "properties.a", "contains(", "match(",
    "exists", "'", "\r", "9" * 30,
]  # fmt: skip


@settings(max_examples=500)
@given(
    st.lists(st.sampled_from(FQL_PIECES), max_size=12).map("".join)
    | trigger_trees.map(to_text).flatmap(
        lambda text: st.tuples(st.integers(0, len(text)), st.sampled_from(FQL_PIECES)).map(
            lambda cut: text[: cut[0]] + cut[1] + text[cut[0] + 1 :]
        )
    )
    | st.text(max_size=20)
)
def test_parser_never_crashes(text: str) -> None:
    """Any text either parses (and prints back to the same tree) or is a located syntax error."""
    try:
        trigger = parse(text)
    except TriggerSyntaxError as error:
        assert 0 <= error.offset <= len(text)
        assert error.message
        assert 1 <= error.line <= text.count("\n") + 1
        return
    assert parse(to_text(trigger)) == trigger


# --------------------------------------------------------------------------- the runtime helpers


@settings(max_examples=300)
@given(json_values, st.lists(keys(), min_size=1, max_size=4))
def test_runtime_get_matches_interpreter(value: Any, path_keys: list[str]) -> None:
    path = Path(("properties", *path_keys))
    event = {"properties": value}
    expected = triggers._resolve(path, event)
    actual = fql.get(value, path.parts[1:])
    assert (
        actual is expected or actual == expected or (actual != actual and expected != expected)
    ), (value, path_keys)


@given(st.integers() | st.floats() | st.sampled_from([10**400, -(10**400), 2**53 + 1, True]))
def test_runtime_numbers_are_javascript_doubles(value: int | float) -> None:
    expected = triggers._js_number(value)
    actual = fql.js_number(value)
    if expected is None:
        assert actual is None
    else:
        assert actual is not None
        assert actual == expected or (math.isnan(actual) and math.isnan(expected))


# --------------------------------------------------------------------------- laws of the operators
# Segment's operators, stated independently of how evaluate() is written.


@settings(max_examples=300)
@given(paths(ALL_FIELDS), events)
def test_null_tests_are_complementary(path: Path, event: dict[str, Any]) -> None:
    if path.head in ("type", "event"):
        return  # `= null` is not allowed there
    present = evaluate(Comparison(path, "!=", Null()), event)
    assert present is not evaluate(Comparison(path, "=", Null()), event)
    assert present is not evaluate(Not(Comparison(path, "!=", Null())), event)


@settings(max_examples=300)
@given(paths(triggers.OBJECT_FIELDS), numbers(), events)
def test_numeric_operators_need_a_number(path: Path, number: float, event: dict[str, Any]) -> None:
    verdicts = {op: evaluate(Comparison(path, op, Number(number)), event) for op in ("=", "!=")}
    value = triggers._resolve(path, event)
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    assert (verdicts["="] or verdicts["!="]) is is_number
    assert not (verdicts["="] and verdicts["!="])
    below = evaluate(Comparison(path, "<", Number(number)), event)
    above = evaluate(Comparison(path, ">=", Number(number)), event)
    assert (below or above) is is_number


@settings(max_examples=300)
@given(calls(), events)
def test_negated_functions_need_a_string(call: Call, event: dict[str, Any]) -> None:
    plain = evaluate(Call(call.function, call.path, call.argument), event)
    negated = evaluate(Call(call.function, call.path, call.argument, negated=True), event)
    is_string = isinstance(triggers._resolve(call.path, event), str)
    assert (plain or negated) is is_string
    assert not (plain and negated)
