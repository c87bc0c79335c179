"""Triggers (Segment's FQL subset): parser, reference interpreter, compiler, printer.

The meaning is Segment's: tests/fixtures/fql_reference.jsonl holds the verdicts of
@segment/destination-subscriptions (recorded by tools/fql_reference/record.mjs), and both the
interpreter and the compiled expressions must reproduce every one of them.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path as FilePath
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actionspec.languages import triggers
from actionspec.languages.triggers import (
    And,
    Boolean,
    Call,
    Comparison,
    Null,
    Number,
    Or,
    Path,
    String,
    Trigger,
    TriggerSyntaxError,
    compile_expression,
    evaluate,
    fields_used,
    parse,
    to_text,
)
from actionspec.runtime import fql

FIXTURE = FilePath(__file__).parent / "fixtures" / "fql_reference.jsonl"
RUNTIME_SOURCE = FilePath(fql.__file__)
REFERENCE = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]


def run_compiled(trigger: Trigger, event: Mapping[str, Any]) -> bool:
    code = compile_expression(trigger)
    result = eval(code, {"_fql": fql, "__builtins__": {}}, {"event": event})
    assert isinstance(result, bool), code
    return result


# --------------------------------------------------------------------------- Segment's verdicts


def test_fixture_is_substantial() -> None:
    accepted = [
        line for line in REFERENCE if "matches" in line and "actionspec_rejects" not in line
    ]
    assert len(REFERENCE) >= 200
    assert {line["matches"] for line in accepted} == {True, False}
    assert sum("error" in line for line in REFERENCE) >= 15


@pytest.mark.parametrize("line", REFERENCE, ids=[f"line{i + 1}" for i in range(len(REFERENCE))])
def test_agrees_with_segment(line: dict[str, Any]) -> None:
    text = line["trigger"]
    if line.get("error") or "actionspec_rejects" in line:
        # Segment cannot parse it, or reads it differently from how it looks: refuse it.
        with pytest.raises(TriggerSyntaxError):
            parse(text)
        return
    trigger = parse(text)
    assert evaluate(trigger, line["event"]) is line["matches"]
    assert run_compiled(trigger, line["event"]) is line["matches"]
    assert parse(to_text(trigger)) == trigger


# --------------------------------------------------------------------------- random triggers

KEYS = ["a", "b", "plan", "0", "1", "length", "first name", "and", "x-y", "é", "_k"]
TEXTS = ["", "pro", "Pro", "track", "Order Completed", "x", "a*b", 'q"uote', "back\\slash", "😀"]


def strings() -> st.SearchStrategy[str]:
    return st.sampled_from(TEXTS) | st.text(max_size=6)


def numbers() -> st.SearchStrategy[int | float]:
    return (
        st.sampled_from([0, 1, 3, -1, 42.5, -1.5, 0.5, 1e-7, 1e22, 2**60])
        | st.integers(-1000, 1000)
        | st.floats(allow_nan=False, allow_infinity=False)
    )


def paths(heads: tuple[str, ...]) -> st.SearchStrategy[Path]:
    def build(head: str) -> st.SearchStrategy[Path]:
        if head in triggers.SCALAR_FIELDS:
            return st.just(Path((head,)))
        keys = st.lists(st.sampled_from(KEYS), min_size=1, max_size=3)
        return keys.map(lambda k: Path((head, *k)))

    return st.sampled_from(heads).flatmap(build)


@st.composite
def comparisons(draw: st.DrawFn) -> Comparison:
    path = draw(paths(triggers.SCALAR_FIELDS + triggers.OBJECT_FIELDS))
    values: st.SearchStrategy[Any]
    ops: list[triggers.Operator]
    if path.head in ("type", "event"):
        ops, values = ["=", "!="], strings().map(String)
    elif path.head in ("name", "userId"):
        ops, values = ["=", "!="], strings().map(String) | st.just(Null())
    else:
        ops = ["=", "!=", "<", "<=", ">", ">="]
    op: triggers.Operator = draw(st.sampled_from(ops))
    if path.head in triggers.OBJECT_FIELDS:
        if op == "=":
            values = st.one_of(
                strings().map(String), numbers().map(Number), st.booleans().map(Boolean)
            ) | st.just(Null())
        elif op == "!=":
            values = st.one_of(strings().map(String), numbers().map(Number), st.just(Null()))
        else:
            values = numbers().map(Number)
    return Comparison(path, op, draw(values))


@st.composite
def calls(draw: st.DrawFn) -> Call:
    path = draw(paths(("event", "name", "userId", *triggers.OBJECT_FIELDS)))
    function: triggers.Function = draw(st.sampled_from(["contains", "match"]))
    argument = draw(strings())
    if function == "match":
        argument = argument.replace("*", "")
        argument = argument + "*" if draw(st.booleans()) else "*" + argument
    return Call(function, path, argument, draw(st.booleans()))


leaves = comparisons() | calls()


@st.composite
def groups(draw: st.DrawFn, items: st.SearchStrategy[Trigger], nested: bool) -> Trigger:
    terms = draw(st.lists(items, min_size=2, max_size=4))
    if nested:
        # Segment ends a parenthesised group at a call's ')': calls may only come last there.
        leading: list[Trigger] = [t for t in terms[:-1] if not isinstance(t, Call)]
        terms = [*leading, terms[-1]]
        if len(terms) < 2:
            terms.insert(0, draw(comparisons()))
    if draw(st.booleans()):
        return And(tuple(terms))
    return Or(tuple(terms))


trigger_trees = leaves | groups(leaves | groups(leaves, nested=True), nested=False)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([0, 1, 3, -1, 42.5, -1.5, 0.0, 2**60]),
    st.integers(-5, 5),
    st.floats(allow_nan=False),
    st.sampled_from(TEXTS),
    st.text(max_size=4),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner),
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


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(trigger_trees, events)
def test_compiled_matches_interpreter(trigger: Trigger, event: dict[str, Any]) -> None:
    assert run_compiled(trigger, event) is evaluate(trigger, event)


@settings(max_examples=400)
@given(trigger_trees)
def test_printing_round_trips(trigger: Trigger) -> None:
    text = to_text(trigger)
    assert parse(text) == trigger
    assert to_text(parse(text)) == text


FQL_PIECES = [
    " ",
    "(",
    ")",
    "!",
    '"',
    "and ",
    "or ",
    ",",
    "=",
    "!= ",
    " > ",
    "<= ",
    "*",
    ".",
    "\\",
    "null",
    "true",
    "1.5",
    "-",
    "type",
    "properties.a",
    "contains(",
    "match(",
]


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
        return
    assert parse(to_text(trigger)) == trigger


@settings(max_examples=200)
@given(json_values, st.lists(st.sampled_from(KEYS), min_size=1, max_size=4))
def test_runtime_get_matches_interpreter(value: Any, keys: list[str]) -> None:
    path = Path(("properties", *keys))
    event = {"properties": value}
    expected = triggers._resolve(path, event)
    actual = fql.get(event, path.parts)
    assert actual == expected or (actual != actual and expected != expected)  # NaN


# --------------------------------------------------------------------------- the AST and API


def test_parse_builds_the_expected_tree() -> None:
    text = 'type = "track" and (event = "A" or !contains(properties.plan, "pro"))'
    assert parse(text) == And(
        (
            Comparison(Path(("type",)), "=", String("track")),
            Or(
                (
                    Comparison(Path(("event",)), "=", String("A")),
                    Call("contains", Path(("properties", "plan")), "pro", negated=True),
                )
            ),
        )
    )
    assert parse("properties.n >= -1.5") == Comparison(
        Path(("properties", "n")), ">=", Number(-1.5)
    )
    assert parse("traits.vip = true") == Comparison(Path(("traits", "vip")), "=", Boolean(True))
    assert parse("properties.first\\ name != null") == Comparison(
        Path(("properties", "first name")), "!=", Null()
    )
    assert parse("properties.items.\\0.sku = 3") == Comparison(
        Path(("properties", "items", "0", "sku")), "=", Number(3)
    )


def test_compiled_code_reads_naturally() -> None:
    assert compile_expression(parse('type = "track"')) == "event.get('type') == 'track'"
    assert (
        compile_expression(parse('type = "track" and (event = "A" or name = null)'))
        == "event.get('type') == 'track' and (event.get('event') == 'A' or event.get('name') is None)"
    )
    assert (
        compile_expression(parse("properties.total > 40"))
        == "_fql.gt(_fql.get(event, ('properties', 'total')), 40)"
    )


def test_fields_used() -> None:
    trigger = parse(
        'type = "track" and (context.device.type = "ios" or contains(properties.plan, "p"))'
    )
    assert fields_used(trigger) == {"type", "properties.plan", "context.device.type"}


def test_to_text_is_canonical() -> None:
    text = '  type="track"   and(event = "A"\nor event != "B")'.replace("and(", "and (")
    assert to_text(parse(text)) == 'type = "track" and (event = "A" or event != "B")'
    assert to_text(parse("properties.n = 1.50")) == "properties.n = 1.5"
    assert to_text(Comparison(Path(("properties", "n")), "=", Number(1e-7))) == (
        "properties.n = 0.0000001"
    )
    assert to_text(Comparison(Path(("properties", "and", "1x")), "=", String('a"\n'))) == (
        'properties.\\and.\\1x = "a\\"\\n"'
    )


# --------------------------------------------------------------------------- syntax errors

SYNTAX_ERRORS = [
    ("", 0, "empty trigger"),
    ("type = ", 7, "expected a string, number, true, false or null after '='"),
    (
        "type = track",
        7,
        """expected a string, number, true, false or null after '=' (for text write "track")""",
    ),
    ('foo(event, "x")', 0, "unknown function 'foo'; known: contains, match"),
    ('(type = "a"', 0, "unbalanced parenthesis: '(' is never closed"),
    ('type = "a")', 10, "unbalanced parenthesis: ')' without a matching '('"),
    ('contains(event, "a"', 0, "unbalanced parenthesis: 'contains(' is never closed"),
    (
        'type = "a" and event = "b" or event = "c"',
        27,
        "cannot mix 'and' and 'or' without parentheses (Segment would apply the last one "
        "to the whole group); write e.g. a and (b or c)",
    ),
    (
        '((type = "a"))',
        1,
        "nested parentheses are not supported (Segment's parser reads one level)",
    ),
    ("()", 0, "empty parentheses"),
    (
        '(contains(event, "a") or type = "b")',
        1,
        "inside parentheses a function call must be the last condition "
        "(Segment's parser ends the group at its ')')",
    ),
    (
        'foo = "x"',
        0,
        "unknown field 'foo'; known: type, event, name, userId, properties.*, traits.*, context.*",
    ),
    (
        'anonymousId = "x"',
        0,
        "unknown field 'anonymousId'; known: type, event, name, userId, properties.*, traits.*, context.*",
    ),
    ('not type = "x"', 0, "FQL has no 'not': use '!=', '= null' or !contains(...)/!match(...)"),
    ('!(type = "x")', 0, "'!' can only negate contains(...) or match(...)"),
    ('!type = "x"', 0, "'!' can only negate contains(...) or match(...)"),
    ('! contains(event, "x")', 1, "expected '=' or a function name right after '!'"),
    ('type = "a" AND event = "b"', 11, "FQL keywords are lowercase: write 'and'"),
    ('type = "a" event = "b"', 11, "expected 'and', 'or' or the end of the trigger, found 'event'"),
    ('type = "a" or', 13, "expected a condition after 'or', found the end of the trigger"),
    ('and type = "a"', 0, "expected a condition before 'and'"),
    ('"track" = type', 0, 'expected a condition such as type = "track", found a string'),
    ("properties.n>5", 12, "put a space before '>'"),
    ('event !="x"', 8, "put a space after '!='"),
    ("properties.n >=5", 15, "put a space after '>='"),
    ('type = "a"and event = "b"', 10, "put a space after the string"),
    ('type = "a" or(event = "b")', 13, "put a space after 'or'"),
    ('event == "x"', 6, "compare with '=', not '=='"),
    (
        "event = 'x'",
        8,
        "strings use double quotes (Segment keeps single quotes as part of the text)",
    ),
    ('event = "x', 8, "unterminated string"),
    ('event = "\\q"', 9, "unknown escape '\\q' in string (write \\\\ for a backslash)"),
    ('event = "\\u12"', 9, "expected 4 hex digits after '\\u'"),
    ("properties.n = 1.", 17, "expected a digit after '.'"),
    ("properties.n = -x", 16, "expected a digit after '-'"),
    ("properties.n = 5x", 16, "unexpected character 'x' after a number"),
    ('type = "a" & event = "b"', 11, "unexpected character '&'"),
    ('type = "a"\r\nand event = "b"', 10, "put a space after the string"),
    ('type = "a" \rand event = "b"', 11, "unexpected character '\\r'"),
    ("properties.and = 1", 11, "'and' is a keyword; write \\and to use it as a field name"),
    ("properties. = 1", 11, "expected a field name after '.'"),
    ('properties.a\\.b = "x"', 12, "a field name cannot contain '.'"),
    ('properties = "x"', 0, "'properties' needs a key, e.g. properties.plan"),
    ('type.x = "a"', 0, "'type' has no keys: write just type"),
    ('type "a"', 5, "expected an operator (=, !=, <, <=, >, >=) after 'type', found a string"),
    ("type < 5", 5, "'<' compares numbers; 'type' is text"),
    ('properties.n > "5"', 15, "'>' needs a number"),
    ("event = null", 8, "'event' can only be compared with a string"),
    ("userId = true", 9, "'userId' can only be compared with a string or null"),
    (
        "properties.flag != true",
        16,
        """'!= true' does not work in Segment (it compares with the text "true"); """
        """test "= false" instead""",
    ),
    ('contains(type, "x")', 9, "contains() cannot test 'type' (Segment ignores it)"),
    ("contains(event, 5)", 16, "contains() needs a string as its 2nd argument, found a number"),
    (
        'contains("x", event)',
        9,
        "expected a field as the 1st argument of contains(), found a string",
    ),
    ('contains(event "x")', 15, "expected ',' after the 1st argument of contains()"),
    ('contains(event, "x" and', 20, "expected ')' to close contains()"),
    (
        'match(event, "abc")',
        13,
        """match() patterns are "prefix*" or "*suffix" (one '*', at the start or end)""",
    ),
    (
        'match(event, "*a*")',
        13,
        """match() patterns are "prefix*" or "*suffix" (one '*', at the start or end)""",
    ),
    ("contains = 1", 9, "expected '(' after 'contains'"),
]


@pytest.mark.parametrize(("text", "offset", "message"), SYNTAX_ERRORS)
def test_syntax_errors(text: str, offset: int, message: str) -> None:
    with pytest.raises(TriggerSyntaxError) as caught:
        parse(text)
    assert (caught.value.message, caught.value.offset) == (message, offset)


def test_syntax_error_positions() -> None:
    with pytest.raises(TriggerSyntaxError) as caught:
        parse('type = "track"\n  and event = ')
    error = caught.value
    assert (error.offset, error.line, error.column) == (29, 2, 15)
    assert str(error).endswith("after '=' at line 2, column 15")
    assert str(TriggerSyntaxError("bad", 7, "type = ")) == "bad at column 8"


# --------------------------------------------------------------------------- code injection

PAYLOADS = [
    '"); import os; ("',
    "'); __import__('os').system('true'); ('",
    "quote \" apostrophe ' backslash \\ newline \n tab \t nul \x00",
    '\\"; raise SystemExit #',
    "{event} %s {0}",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_literals_cannot_inject_code(payload: str) -> None:
    shapes: list[Trigger] = [
        Comparison(Path(("properties", "plan")), "=", String(payload)),
        Comparison(Path(("event",)), "!=", String(payload)),
        Call(
            "contains",
            Path(("properties", payload.replace(".", "").replace("[", "") or "k")),
            payload,
        ),
        Call("match", Path(("name",)), payload.replace("*", "") + "*"),
    ]
    for trigger in shapes:
        code = compile_expression(trigger)
        tree = ast.parse(code, mode="eval")
        # Only comparisons, helper calls and constants: no statement can hide in there.
        allowed = (
            ast.Expression, ast.Compare, ast.Call, ast.Attribute, ast.Name, ast.Constant,
            ast.Tuple, ast.Load, ast.Eq, ast.NotEq,
        )  # fmt: skip
        assert all(isinstance(node, allowed) for node in ast.walk(tree)), code
        assert {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} <= {"event", "_fql"}
        assert parse(to_text(trigger)) == trigger
    matching = {"event": payload, "name": payload + "!", "properties": {"plan": payload}}
    assert run_compiled(shapes[0], matching) is True
    assert run_compiled(shapes[1], matching) is False
    assert run_compiled(shapes[3], matching) is True
    assert run_compiled(shapes[0], {"properties": {"plan": "other"}}) is False


# --------------------------------------------------------------------------- generated code


def _tool(module: str) -> list[str] | None:
    if importlib.util.find_spec(module) is not None:
        return [sys.executable, "-m", module]
    path = shutil.which(module)
    return [path] if path else None


def test_generated_module_is_ruff_clean_and_mypy_strict(tmp_path: FilePath) -> None:
    """Compiled triggers inside a module shaped like the generator's pass ruff and mypy --strict."""
    texts = sorted(
        {
            line["trigger"]
            for line in REFERENCE
            if "matches" in line and "actionspec_rejects" not in line
        }
    )
    functions = [
        f"def trigger_{i}(event: Mapping[str, Any]) -> bool:\n"
        f"    return {compile_expression(parse(text))}\n"
        for i, text in enumerate(texts)
    ]
    header = (
        "from collections.abc import Mapping\nfrom typing import Any\n\nimport fql as _fql\n\n\n"
    )
    (tmp_path / "fql.py").write_text(RUNTIME_SOURCE.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "generated.py").write_text(header + "\n\n".join(functions), encoding="utf-8")
    config = FilePath(__file__).parents[1] / "pyproject.toml"
    ruff = _tool("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed")
    for step in (["format"], ["check"], ["format", "--check"]):
        done = subprocess.run(
            [*ruff, *step, "--config", str(config), "--no-cache", "generated.py", "fql.py"],
            cwd=tmp_path, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    mypy = _tool("mypy")
    if mypy is None:
        pytest.skip("mypy is not installed")
    done = subprocess.run(
        [*mypy, "--strict", "--no-incremental", "generated.py", "fql.py"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
