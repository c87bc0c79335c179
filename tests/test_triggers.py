"""Triggers (Segment's FQL subset): the AST and API, syntax errors, the documented guide, code safety.

Agreement with Segment's recorded verdicts is in test_triggers_reference.py, the random
(hypothesis) tests in test_triggers_properties.py and error positions inside a spec file in
test_triggers_spec_errors.py.
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

from actionspec.languages import triggers
from actionspec.languages.triggers import (
    And,
    Boolean,
    Call,
    Comparison,
    Not,
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


def run_compiled(trigger: Trigger, event: Mapping[str, Any]) -> bool:
    code = compile_expression(trigger)
    result = eval(code, {"_fql": fql, "__builtins__": {}}, {"event": event})
    assert isinstance(result, bool), code
    return result


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


def test_not_binds_tighter_than_and_or_and_nests() -> None:
    a = Comparison(Path(("type",)), "=", String("a"))
    b = Comparison(Path(("event",)), "=", String("b"))
    assert parse('not type = "a" and event = "b"') == And((Not(a), b))
    assert parse('not (type = "a" and event = "b")') == Not(And((a, b)))
    assert parse('not not type = "a"') == Not(Not(a))
    assert parse('not(type = "a")') == Not(a)
    assert parse('(type = "a" or (event = "b" and not type = "a"))') == Or((a, And((b, Not(a)))))


def test_numbers_are_read_as_javascript_doubles() -> None:
    def number(text: str) -> int | float:
        trigger = parse(f"properties.n = {text}")
        assert isinstance(trigger, Comparison) and isinstance(trigger.value, Number)
        return trigger.value.value

    assert number("03") == 3 and number("+3") == 3 and number("-0") == 0
    assert number("1.50") == 1.5
    # Beyond 2**53 the literal is rounded to a double, as JavaScript's Number() does.
    assert number("9007199254740993") == 2**53
    assert number("1" + "0" * 30) == 1e30


def test_strings_keep_backslashes_except_before_a_quote() -> None:
    def string(text: str) -> str:
        trigger = parse(f"event = {text}")
        assert isinstance(trigger, Comparison) and isinstance(trigger.value, String)
        return trigger.value.value

    assert string('"C:\\dir\\n"') == "C:\\dir\\n"  # Segment's reading: no escapes
    assert string('"say \\"hi\\""') == 'say "hi"'  # the extension
    assert string('"a\\\\"b"') == 'a\\"b'  # a backslash, then an escaped quote
    assert string('"line\nbreak\ttab"') == "line\nbreak\ttab"


def test_keyword_keys_need_escapes_only_where_segment_reads_a_keyword() -> None:
    assert parse("properties.and.b = 1") == parse("properties.\\and.b = 1")
    assert parse("properties.not = 1") == Comparison(Path(("properties", "not")), "=", Number(1))
    assert parse("properties.x.true = 1").path.parts[-1] == "true"  # type: ignore[union-attr]


def test_compiled_code_reads_naturally() -> None:
    def compiled(text: str) -> str:
        return compile_expression(parse(text))

    assert compiled('type = "track"') == "event.get('type') == 'track'"
    assert (
        compiled('type = "track" and (event = "A" or name = null)')
        == "event.get('type') == 'track' and (event.get('event') == 'A' or event.get('name') is None)"
    )
    assert compiled("properties.total > 40") == (
        "_fql.gt(_fql.get(event.get('properties'), ('total',)), 40)"
    )
    # `not` becomes the inverse operator where there is one (ruff's SIM201 style), else `not`.
    assert compiled('not type = "track"') == "event.get('type') != 'track'"
    assert compiled("not userId = null") == "event.get('userId') is not None"
    assert compiled("not traits.vip = true") == (
        "_fql.get(event.get('traits'), ('vip',)) is not True"
    )
    assert compiled('not contains(event, "x")') == "not _fql.contains(event.get('event'), 'x')"
    assert compiled('not (type = "a" or type = "b")') == (
        "not (event.get('type') == 'a' or event.get('type') == 'b')"
    )
    assert compiled('not not type = "a"') == "event.get('type') == 'a'"
    assert compiled('type = "a" and not not (type = "b" or type = "c")') == (
        "event.get('type') == 'a' and (event.get('type') == 'b' or event.get('type') == 'c')"
    )


def test_fields_used() -> None:
    trigger = parse(
        'type = "track" and (context.device.type = "ios" or not contains(properties.plan, "p"))'
    )
    assert fields_used(trigger) == {"type", "properties.plan", "context.device.type"}


def test_to_text_is_canonical() -> None:
    text = '  type="track"   and(event = "A"\nor event != "B")'.replace("and(", "and (")
    assert to_text(parse(text)) == 'type = "track" and (event = "A" or event != "B")'
    assert to_text(parse("properties.n = 1.50")) == "properties.n = 1.5"
    assert to_text(parse('not(type = "a")')) == 'not type = "a"'
    assert to_text(Comparison(Path(("properties", "n")), "=", Number(1e-7))) == (
        "properties.n = 0.0000001"
    )
    assert to_text(Comparison(Path(("properties", "and", "1x")), "=", String('a"\n'))) == (
        'properties.\\and.\\1x = "a\\"\n"'
    )


INVALID_TREES: list[tuple[Any, tuple[Any, ...]]] = [
    (String, ("ends with \\",)),
    (String, ("lone \ud800",)),
    (Number, (float("inf"),)),
    (Number, (True,)),
    (Number, (2**53 + 1,)),  # not a double: it would print as another number
    (Number, (10**400,)),
    (Path, (("foo",),)),
    (Path, (("properties",),)),
    (Path, (("type", "x"),)),
    (Path, (("properties", "a.b"),)),
    (Path, (("properties", "toString"),)),
    (And, ((Comparison(Path(("type",)), "=", String("a")),),)),
    (Or, ((),)),
]


@pytest.mark.parametrize(("node", "arguments"), INVALID_TREES)
def test_trees_check_themselves(node: Any, arguments: tuple[Any, ...]) -> None:
    with pytest.raises(ValueError):
        node(*arguments)


def test_comparisons_and_calls_check_themselves() -> None:
    event, plan = Path(("event",)), Path(("properties", "plan"))
    with pytest.raises(ValueError, match="can only be compared with a string"):
        Comparison(event, "=", Number(5))
    with pytest.raises(ValueError, match="needs a number"):
        Comparison(plan, "<", String("5"))
    with pytest.raises(ValueError, match="does not work in Segment"):
        Comparison(plan, "!=", Boolean(True))
    with pytest.raises(ValueError, match="cannot test 'type'"):
        Call("contains", Path(("type",)), "x")
    with pytest.raises(ValueError, match="patterns are"):
        Call("match", event, "abc")


# --------------------------------------------------------------------------- syntax errors

NOT_LAST = (
    "inside parentheses a function call must be the last condition "
    "(Segment's parser ends the group at its ')')"
)
MIXED = (
    "cannot mix 'and' and 'or' without parentheses (Segment would apply the last one to the "
    "whole group); write e.g. a and (b or c)"
)
FIELDS = "known: type, event, name, userId, properties.*, traits.*, context.*"
OBJECT_MEMBER = (
    "cannot be tested: every JavaScript object has it, so Segment finds it even when the "
    "event has no such key"
)
BANG = "'!' can only negate contains(...) or match(...); to negate a condition write not (...)"
PATTERN = """match() patterns are "prefix*" or "*suffix" (one '*', at the start or end)"""
ESCAPED_QUOTE = 'unterminated string (\\" is a quote inside the string, so it does not end it)'

# (trigger, offset of the offending character, message)
SYNTAX_ERRORS = [
    ("", 0, "empty trigger"),
    ("   ", 0, "empty trigger"),
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
    ('type = "a" and event = "b" or event = "c"', 27, MIXED),
    ('type = "a" or (event = "b" and event = "c" or type = "d")', 43, MIXED),
    ("()", 0, "empty parentheses"),
    ('type = "a" and ()', 15, "empty parentheses"),
    ('(contains(event, "a") or type = "b")', 1, NOT_LAST),
    ('(not !contains(event, "a") and type = "b")', 1, NOT_LAST),
    ('type = "a" and (match(name, "x*") or type = "b")', 16, NOT_LAST),
    ('foo = "x"', 0, f"unknown field 'foo'; {FIELDS}"),
    ('anonymousId = "x"', 0, f"unknown field 'anonymousId'; {FIELDS}"),
    ('Type = "x"', 0, f"unknown field 'Type'; {FIELDS} (fields are case-sensitive: write 'type')"),
    ('!(type = "x")', 0, BANG),
    ('!type = "x"', 0, BANG),
    ('! contains(event, "x")', 1, "expected '=' or a function name right after '!'"),
    ('type = "a" AND event = "b"', 11, "FQL keywords are lowercase: write 'and'"),
    ('type = "a" Or event = "b"', 11, "FQL keywords are lowercase: write 'or'"),
    ('NOT type = "a"', 0, "FQL keywords are lowercase: write 'not'"),
    ("properties.flag = TRUE", 18, "FQL keywords are lowercase: write 'true'"),
    ("properties.x = Null", 15, "FQL keywords are lowercase: write 'null'"),
    (
        'CONTAINS(event, "a")',
        0,
        "unknown function 'CONTAINS'; known: contains, match "
        "(function names are lowercase: write contains)",
    ),
    (
        "exists(properties.a)",
        0,
        "unknown function 'exists'; known: contains, match (for presence write field != null)",
    ),
    ("properties.a exists", 13, "FQL has no 'exists': write properties.a != null"),
    ('type = "a" event = "b"', 11, "expected 'and', 'or' or the end of the trigger, found 'event'"),
    ('type = "a" or', 13, "expected a condition after 'or', found the end of the trigger"),
    ('type = "a" and not', 18, "expected a condition after 'not', found the end of the trigger"),
    ("not", 3, "expected a condition after 'not', found the end of the trigger"),
    ('and type = "a"', 0, "expected a condition before 'and'"),
    ('type = "a" and not and event = "b"', 19, "expected a condition before 'and'"),
    ('"track" = type', 0, 'expected a condition such as type = "track", found a string'),
    ("properties.n>5", 12, "put a space before '>'"),
    ('event !="x"', 8, "put a space after '!='"),
    ("properties.n >=5", 15, "put a space after '>='"),
    ('type = "a"and event = "b"', 10, "put a space after the string"),
    ('type = "a" or(event = "b")', 13, "put a space after 'or'"),
    ('not!contains(event, "a")', 3, "put a space after 'not'"),
    ('event == "x"', 6, "compare with '=', not '=='"),
    (
        "event = 'x'",
        8,
        "strings use double quotes (Segment keeps single quotes as part of the text)",
    ),
    ('event = "x', 8, "unterminated string"),
    ('event = "x\\"', 8, ESCAPED_QUOTE),
    ('contains(event, "\\")', 16, ESCAPED_QUOTE),
    ('event = "x\\" or type = "a"', 24, "put a space after the string"),
    ("properties.n = 1.", 17, "expected a digit after '.'"),
    ("properties.n = -x", 16, "expected a digit after '-'"),
    ("properties.n = +", 16, "expected a digit after '+'"),
    ("properties.n = 5x", 16, "unexpected character 'x' after a number"),
    ("properties.n = 1e5", 16, "unexpected character 'e' after a number"),
    ("properties.n = " + "9" * 400, 15, "number too large"),
    ('type = "a" & event = "b"', 11, "unexpected character '&'"),
    ('type = "a"\r\nand event = "b"', 10, "put a space after the string"),
    ('type = "a" \rand event = "b"', 11, "unexpected character '\\r'"),
    ("properties.and = 1", 11, "'and' is a keyword here; write \\and to use it as a key"),
    ("properties.a.or = 1", 13, "'or' is a keyword here; write \\or to use it as a key"),
    ("properties.a.null", 13, "'null' is a keyword here; write \\null to use it as a key"),
    ("properties. = 1", 11, "expected a key after '.' (escape a leading digit: \\0)"),
    ("properties.0 = 1", 11, "expected a key after '.' (escape a leading digit: \\0)"),
    ('properties.a\\.b = "x"', 12, "a key cannot contain '.'"),
    ("properties.a[0] = 1", 12, "unexpected character '[' after a name"),
    ('properties = "x"', 0, "'properties' needs a key, e.g. properties.plan"),
    ('type.x = "a"', 0, "'type' has no keys: write just type"),
    ('type "a"', 5, "expected an operator (=, !=, <, <=, >, >=) after 'type', found a string"),
    ("properties.toString = null", 11, f"'toString' {OBJECT_MEMBER}"),
    ("traits.a.constructor != null", 9, f"'constructor' {OBJECT_MEMBER}"),
    ("context.__proto__ = 1", 8, f"'__proto__' {OBJECT_MEMBER}"),
    ('properties.n > "5"', 15, "'>' needs a number (it matches numbers only)"),
    ("properties.n < null", 15, "'<' needs a number (it matches numbers only)"),
    (
        "event = null",
        8,
        """'event' can only be compared with a string (Segment would compare it with the text "null")""",
    ),
    (
        "type = 5",
        7,
        """'type' can only be compared with a string (Segment would compare it with the text "5")""",
    ),
    (
        "name = true",
        7,
        "'name' can only be compared with a string or null "
        """(Segment would compare it with the text "true")""",
    ),
    (
        "userId = 5",
        9,
        "'userId' can only be compared with a string, null, true or false "
        """(Segment would compare it with the text "5")""",
    ),
    (
        "properties.flag != true",
        16,
        """'!= true' does not work in Segment (it compares with the text "true"); """
        """test "= false" instead""",
    ),
    (
        "userId != false",
        7,
        """'!= false' does not work in Segment (it compares with the text "false"); """
        """test "= true" instead""",
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
    ('contains(properties, "x")', 9, "'properties' needs a key, e.g. properties.plan"),
    ('match(event, "abc")', 13, PATTERN),
    ('match(event, "*a*")', 13, PATTERN),
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


# --------------------------------------------------------------------------- the documentation


@pytest.mark.parametrize("entry", triggers.GUIDE, ids=[e.form for e in triggers.GUIDE])
def test_guide_examples_mean_what_they_say(entry: triggers.GuideEntry) -> None:
    trigger = parse(entry.example)
    assert to_text(trigger) == entry.example  # examples are written canonically
    assert "|" not in entry.example  # they sit in a Markdown table
    assert evaluate(trigger, entry.matches) and run_compiled(trigger, entry.matches)
    assert not evaluate(trigger, entry.misses) and not run_compiled(trigger, entry.misses)


def test_guide_covers_every_form_of_the_language() -> None:
    trees = [parse(entry.example) for entry in triggers.GUIDE]
    kinds: set[str] = set()
    literals: set[type] = set()
    operators: set[str] = set()

    def visit(tree: Trigger) -> None:
        kinds.add(type(tree).__name__)
        if isinstance(tree, And | Or):
            for term in tree.terms:
                visit(term)
        elif isinstance(tree, Not):
            visit(tree.operand)
        elif isinstance(tree, Comparison):
            literals.add(type(tree.value))
            operators.add(tree.op)
        else:
            kinds.add(tree.function + ("!" if tree.negated else ""))

    for tree in trees:
        visit(tree)
    assert kinds >= {"And", "Or", "Not", "Comparison", "Call", "contains", "contains!", "match"}
    assert literals == {String, Number, Boolean, Null}
    assert operators >= {"=", "!=", ">="}
    extension_forms = [e for e in triggers.GUIDE if "(extension)" in e.form]
    assert len(extension_forms) == len(triggers.EXTENSIONS)


@pytest.mark.parametrize(("text", "why"), triggers.REJECTED)
def test_documented_rejections_are_rejected(text: str, why: str) -> None:
    with pytest.raises(TriggerSyntaxError):
        parse(text)


# --------------------------------------------------------------------------- code injection

PAYLOADS = [
    "'); import os; ('",
    "'); __import__('os').system('true'); ('",
    "apostrophe ' backslash \\ newline \n tab \t nul \x00 quote \"",
    "\\'; raise SystemExit #",
    "{event} %s {0}",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_literals_cannot_inject_code(payload: str) -> None:
    shapes: list[Trigger] = [
        Comparison(Path(("properties", "plan")), "=", String(payload)),
        Comparison(Path(("event",)), "!=", String(payload)),
        Call(
            "contains",
            Path(("properties", payload.replace(".", "").replace("[", "").replace("]", ""))),
            payload,
        ),
        Call("match", Path(("name",)), payload.replace("*", "") + "*"),
        Not(Comparison(Path(("userId",)), "=", String(payload))),
    ]
    for trigger in shapes:
        code = compile_expression(trigger)
        tree = ast.parse(code, mode="eval")
        # Only comparisons, helper calls and constants: no statement can hide in there.
        allowed = (
            ast.Expression, ast.Compare, ast.Call, ast.Attribute, ast.Name, ast.Constant,
            ast.Tuple, ast.Load, ast.Eq, ast.NotEq, ast.UnaryOp, ast.Not,
        )  # fmt: skip
        assert all(isinstance(node, allowed) for node in ast.walk(tree)), code
        assert {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} <= {"event", "_fql"}
        assert parse(to_text(trigger)) == trigger
    matching = {"event": payload, "name": payload + "!", "properties": {"plan": payload}}
    assert run_compiled(shapes[0], matching) is True
    assert run_compiled(shapes[1], matching) is False
    assert run_compiled(shapes[3], matching) is True
    assert run_compiled(shapes[4], {"userId": payload}) is False
    assert run_compiled(shapes[0], {"properties": {"plan": "other"}}) is False


# --------------------------------------------------------------------------- generated code


def _tool(module: str) -> list[str] | None:
    if importlib.util.find_spec(module) is not None:
        return [sys.executable, "-m", module]
    path = shutil.which(module)
    return [path] if path else None


def test_generated_module_is_ruff_clean_and_mypy_strict(tmp_path: FilePath) -> None:
    """Compiled triggers inside a module shaped like the generator's pass ruff and mypy --strict."""
    texts = {entry.example for entry in triggers.GUIDE}
    for line in FIXTURE.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        accepted = "extension" in record or "matches" in record
        if "trigger" in record and accepted and "actionspec_rejects" not in record:
            texts.add(record["trigger"])
    functions = [
        f"def trigger_{i}(event: Mapping[str, Any]) -> bool:\n"
        f"    return {compile_expression(parse(text))}\n"
        for i, text in enumerate(sorted(texts))
    ]
    header = (
        "from collections.abc import Mapping\nfrom typing import Any\n\nimport fql as _fql\n\n\n"
    )
    runtime = FilePath(fql.__file__).read_text(encoding="utf-8")
    (tmp_path / "fql.py").write_text(runtime, encoding="utf-8")
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
