r"""Triggers: Segment's FQL subset for action subscriptions -- parse, evaluate, compile, print.

A trigger decides whether an event reaches an action, e.g.

    type = "track" and (event = "Order Completed" or event = "Order Refunded")

Segment evaluates triggers with `@segment/destination-subscriptions` (`parseFql` + `validate`);
that package defines the meaning here, and `tests/fixtures/fql_reference.jsonl` records its
answers (`tools/fql_reference/record.mjs`). Its parser is lenient in ways that silently change a
trigger's meaning, so this module follows three rules:

1. What Segment reads the way it looks, this module accepts with the same meaning.
2. What Segment accepts but reads differently from how it looks, this module rejects with a
   located error that says why (e.g. `a and b or c`: Segment applies the last connective to
   the whole group, so that means `a or b or c` there).
3. Three forms Segment cannot express are accepted as documented *extensions* (`EXTENSIONS`):
   nested parentheses (Segment rejects them), `not` (Segment skips the word) and `\"` inside
   strings (Segment ends the string at that quote). A trigger using the last two means
   something else in Segment, so it must not be copied there.

Facts about Segment that shape the grammar (each is a case in the fixture):

* No precedence: a group (the trigger, or one pair of parentheses) joins all its conditions with
  its *last* `and`/`or`. Mixing them without parentheses is rejected here.
* Segment's parser reads one level of parentheses, and a group ends at the first `)`: inside
  parentheses a `contains()`/`match()` call must come last (its `)` would end the group).
* No `not`, no `exists`: `!` negates only `contains(...)`/`match(...)` (Segment ignores it
  elsewhere), and `!contains(f, "x")` means "f is a string without x". `= null` means
  missing-or-null, `!= null` present.
* Fields: `type`, `event`, `name`, `userId` and dotted paths into `properties`, `traits` and
  `context`; keys are followed with JavaScript's `value && value[key]` (see `_resolve`). Segment
  drops unknown fields silently; they are rejected here, and so are keys every JavaScript object
  has (`toString`, `constructor`, ...), which Segment finds even when the event has no such key.
* Comparisons are strict and case-sensitive: `= "1"` matches only the string "1", `= 1` only
  numbers, `= true` only booleans. `!= "x"` matches a missing field, `!= 1` does not (it needs a
  number); `<`, `<=`, `>`, `>=` match numbers only. `type` and `event` compare text only (Segment
  turns `event = 5` into `event = "5"`), `name` text or null, `userId` also true/false.
  Numbers are doubles, as in JavaScript (`9007199254740993` is rounded on both sides).
* `match(f, "abc*")` is "starts with", `match(f, "*abc")` "ends with"; nothing else.
* Strings have no escapes in Segment: a backslash is itself and the next `"` ends the string.
  Here too, except `\"` (an extension: a quote inside the string). Field names escape any
  character with a backslash (`properties.first\ name`), as in Segment; `and`, `or` and `null`
  ending a path must be escaped (Segment's lexer reads them as keywords there).
* Keywords are lowercase (Segment reads `AND` as an unknown word and drops it).

`evaluate` is the reference interpreter; `compile_expression` emits an equivalent Python
expression over `event` that calls helpers from `actionspec/runtime/fql.py` (imported as `_fql`).
`GUIDE` and `REJECTED` document the language (rendered into docs/spec-reference.md, and tested).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, Literal, TypeAlias, cast

from actionspec.runtime.fql import ARRAY_METHODS, BUILTIN, NUMBER_METHODS, STRING_METHODS

__all__ = [
    "EXTENSIONS",
    "GUIDE",
    "OBJECT_FIELDS",
    "OBJECT_MEMBERS",
    "REJECTED",
    "SCALAR_FIELDS",
    "And",
    "Boolean",
    "Call",
    "Comparison",
    "Function",
    "GuideEntry",
    "Not",
    "Null",
    "Number",
    "Operator",
    "Or",
    "Path",
    "String",
    "Trigger",
    "TriggerSyntaxError",
    "Value",
    "compile_expression",
    "evaluate",
    "fields_used",
    "parse",
    "paths_used",
    "to_text",
]

# Top-level fields compared directly, and the objects whose nested keys a trigger can test.
SCALAR_FIELDS: Final = ("type", "event", "name", "userId")
OBJECT_FIELDS: Final = ("properties", "traits", "context")
# Object.prototype's members (Node 20): `properties.toString` is a function in Segment even
# when the event has no `toString` key, so a trigger cannot name them.
# fmt: off
OBJECT_MEMBERS: Final = frozenset({
    "__defineGetter__", "__defineSetter__", "__lookupGetter__", "__lookupSetter__", "__proto__",
    "constructor", "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable", "toLocaleString",
    "toString", "valueOf"
})
# fmt: on
_RELATIONAL: Final = ("<", "<=", ">", ">=")

# --------------------------------------------------------------------------- the AST
# Every node checks itself on construction, so any tree that exists prints to a trigger that
# parses back to it (`parse(to_text(t)) == t`).


@dataclass(frozen=True)
class String:
    value: str

    def __post_init__(self) -> None:
        if problem := _string_problem(self.value):
            raise ValueError(problem)


@dataclass(frozen=True)
class Number:
    value: int | float

    def __post_init__(self) -> None:
        try:
            double = float(self.value)
        except OverflowError:
            double = math.inf
        if isinstance(self.value, bool) or not math.isfinite(double):
            raise ValueError(f"not a finite number: {self.value!r}")
        if double != self.value:
            # Segment reads every number as a double: this integer would silently change.
            raise ValueError(f"{self.value} is not exact as a double; write {double!r}")


@dataclass(frozen=True)
class Boolean:
    value: bool


@dataclass(frozen=True)
class Null:
    pass


Value: TypeAlias = String | Number | Boolean | Null

Operator: TypeAlias = Literal["=", "!=", "<", "<=", ">", ">="]
Function: TypeAlias = Literal["contains", "match"]


@dataclass(frozen=True)
class Path:
    """A field: `("properties", "plan")` for `properties.plan`."""

    parts: tuple[str, ...]

    def __post_init__(self) -> None:
        if problem := _path_problem(self.parts):
            raise ValueError(problem[0])

    @property
    def head(self) -> str:
        return self.parts[0]

    def dotted(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Comparison:
    path: Path
    op: Operator
    value: Value

    def __post_init__(self) -> None:
        if problem := _comparison_problem(self.path, self.op, self.value):
            raise ValueError(problem[0])


@dataclass(frozen=True)
class Call:
    """`contains(path, "text")` or `match(path, "prefix*" | "*suffix")`, maybe `!`-negated."""

    function: Function
    path: Path
    argument: str
    negated: bool = False

    def __post_init__(self) -> None:
        if problem := _call_problem(self.function, self.path, self.argument):
            raise ValueError(problem[0])


@dataclass(frozen=True)
class Not:
    """`not <condition>` (an actionspec extension: Segment's parser skips the word)."""

    operand: Trigger


@dataclass(frozen=True)
class And:
    terms: tuple[Trigger, ...]

    def __post_init__(self) -> None:
        if len(self.terms) < 2:
            raise ValueError("'and' joins at least two conditions")


@dataclass(frozen=True)
class Or:
    terms: tuple[Trigger, ...]

    def __post_init__(self) -> None:
        if len(self.terms) < 2:
            raise ValueError("'or' joins at least two conditions")


Trigger: TypeAlias = Comparison | Call | Not | And | Or


class TriggerSyntaxError(ValueError):
    """A trigger that does not parse: `offset` is 0-based; `line`/`column` are 1-based."""

    def __init__(self, message: str, offset: int, text: str = "") -> None:
        self.message = message
        self.offset = offset
        self.text = text
        before = text[:offset]
        self.line = before.count("\n") + 1
        self.column = offset - (before.rfind("\n") + 1) + 1
        where = f"column {self.column}"
        if self.line > 1:
            where = f"line {self.line}, {where}"
        super().__init__(f"{message} at {where}")


# --------------------------------------------------------------------------- rules
# Shared by the parser (which reports them at a position) and the AST constructors.


def _string_problem(text: str) -> str | None:
    if text.endswith("\\"):
        return "a string cannot end with '\\' (\\\" is a quote inside the string)"
    if any("\ud800" <= c <= "\udfff" for c in text):
        # JavaScript would match a lone surrogate against half of a character.
        return "a string cannot contain a lone surrogate (U+D800 to U+DFFF)"
    return None


def _path_problem(parts: tuple[str, ...]) -> tuple[str, int] | None:
    """What is wrong with a field path, and the index of the part at fault."""
    if not parts:
        return "a field path needs at least one part", 0
    head, keys = parts[0], parts[1:]
    if head in OBJECT_FIELDS:
        if not keys:
            return f"'{head}' needs a key, e.g. {head}.plan", 0
    elif head in SCALAR_FIELDS:
        if keys:
            return f"'{head}' has no keys: write just {head}", 0
    else:
        fields = ", ".join((*SCALAR_FIELDS, *(f"{f}.*" for f in OBJECT_FIELDS)))
        message = f"unknown field '{head}'; known: {fields}"
        same = [f for f in (*SCALAR_FIELDS, *OBJECT_FIELDS) if f.lower() == head.lower()]
        if same:
            message += f" (fields are case-sensitive: write '{same[0]}')"
        return message, 0
    for index, key in enumerate(keys, start=1):
        # Segment splits keys on '.', '[' and ']', so no key can contain them.
        if not key or any(c in key for c in ".[]"):
            return f"invalid key {key!r}: keys are non-empty and contain no '.', '[' or ']'", index
        if key in OBJECT_MEMBERS:
            return (
                f"'{key}' cannot be tested: every JavaScript object has it, so Segment finds "
                "it even when the event has no such key",
                index,
            )
    return None


# What `=`/`!=` may compare each top-level field with: Segment compares `type` and `event` with
# the literal's text (`event = 5` means "5"), `name` also handles null, `userId` booleans too.
_SCALAR_LITERALS: Final[dict[str, tuple[tuple[type, ...], str]]] = {
    "type": ((String,), "a string"),
    "event": ((String,), "a string"),
    "name": ((String, Null), "a string or null"),
    "userId": ((String, Null, Boolean), "a string, null, true or false"),
}


def _comparison_problem(path: Path, op: Operator, value: Value) -> tuple[str, str] | None:
    """What is wrong with a comparison, and whether to point at its "op" or its "value"."""
    head = path.head
    if op in _RELATIONAL:
        if not isinstance(value, Number):
            return f"'{op}' needs a number (it matches numbers only)", "value"
        return None
    if head in _SCALAR_LITERALS and not isinstance(value, _SCALAR_LITERALS[head][0]):
        return (
            f"'{head}' can only be compared with {_SCALAR_LITERALS[head][1]} (Segment would "
            f'compare it with the text "{_value_text(value)}")',
            "value",
        )
    if op == "!=" and isinstance(value, Boolean):
        word = _value_text(value)
        return (
            f"'!= {word}' does not work in Segment (it compares with the text \"{word}\"); "
            f'test "= {_value_text(Boolean(not value.value))}" instead',
            "op",
        )
    return None


def _call_problem(function: str, path: Path, argument: str) -> tuple[str, str] | None:
    """What is wrong with a call, and whether to point at its "path" or its "argument"."""
    if path.head == "type":
        return f"{function}() cannot test 'type' (Segment ignores it)", "path"
    if problem := _string_problem(argument):
        return problem, "argument"
    if function == "match" and not _is_pattern(argument):
        return (
            'match() patterns are "prefix*" or "*suffix" (one \'*\', at the start or end)',
            "argument",
        )
    return None


def _is_pattern(pattern: str) -> bool:
    return pattern.count("*") == 1 and (pattern.endswith("*") or pattern.startswith("*"))


# --------------------------------------------------------------------------- the lexer

_WHITESPACE: Final = " \t\n"  # Segment's lexer knows no other (a '\r' is an error there)
_AFTER_VALUE: Final = " \t\n,)"  # what may follow a keyword, number or '!=' in Segment
_AFTER_NAME: Final = " \t\n,)(=!"  # what may follow a field or function name in Segment
# Words read as keywords when they stand alone (Segment: and/or/null; true/false as values).
_KEYWORDS: Final = ("and", "or", "not", "null", "true", "false")
_FUNCTIONS: Final = ("contains", "match")
_BANG_ONLY_FOR_CALLS: Final = (
    "'!' can only negate contains(...) or match(...); to negate a condition write not (...)"
)


def _name_start(c: str) -> bool:
    return c.isascii() and (c.isalpha() or c == "_")


def _name_char(c: str) -> bool:
    return c.isascii() and (c.isalnum() or c in "_-")


def _digit(c: str) -> bool:
    return len(c) == 1 and c in "0123456789"


@dataclass(frozen=True)
class _Token:
    # kind: "name" (a field or function name), a keyword (see _KEYWORDS), "string", "number",
    # "op", "!", "(", ")", "," or "eof".
    kind: str
    start: int
    end: int
    value: object = None  # name: tuple of parts; string: str; number: int|float; op: str
    part_starts: tuple[int, ...] = ()  # name: where each part begins


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, message: str, offset: int) -> TriggerSyntaxError:
        return TriggerSyntaxError(message, offset, self.text)

    def peek(self, ahead: int = 0) -> str:
        i = self.pos + ahead
        return self.text[i] if i < len(self.text) else ""

    def tokens(self) -> Iterator[_Token]:
        while True:
            while self.peek() and self.peek() in _WHITESPACE:
                self.pos += 1
            c = self.peek()
            if not c:
                yield _Token("eof", self.pos, self.pos)
                return
            if _name_start(c) or c == "\\":
                yield self.name()
            elif _digit(c) or c in "-+":
                yield self.number()
            elif c == '"':
                yield self.string()
            elif c in "=!<>":
                yield self.operator()
            elif c in "(),":
                self.pos += 1
                yield _Token(c, self.pos - 1, self.pos)
            elif c == "'":
                raise self.error(
                    "strings use double quotes (Segment keeps single quotes as part of the text)",
                    self.pos,
                )
            else:
                raise self.error(f"unexpected character {c!r}", self.pos)

    def name(self) -> _Token:
        """A field or function name: dotted parts, where '\\' escapes any character."""
        start = self.pos
        parts: list[str] = []
        starts: list[int] = []
        while True:
            starts.append(self.pos)
            part, plain = self.name_part()
            ends_word = not self.peek() or self.peek() in " \t\n,)"
            if parts and plain and part in ("and", "or", "null") and ends_word:
                # Segment's lexer reads these as keywords when a terminator follows.
                raise self.error(
                    f"'{part}' is a keyword here; write \\{part} to use it as a key", starts[-1]
                )
            parts.append(part)
            if self.peek() != ".":
                break
            if not (_name_start(self.peek(1)) or self.peek(1) == "\\"):
                raise self.error(
                    "expected a key after '.' (escape a leading digit: \\0)", self.pos + 1
                )
            self.pos += 1
        end = self.pos
        after = self.peek()
        if after and after not in _AFTER_NAME:
            if after in "<>":
                raise self.error(f"put a space before '{after}'", self.pos)
            raise self.error(f"unexpected character {after!r} after a name", self.pos)
        if len(parts) == 1 and self.text[start:end] in _KEYWORDS:
            keyword = parts[0]
            allowed_after = _AFTER_VALUE + ("(" if keyword == "not" else "")
            if after and after not in allowed_after:
                raise self.error(f"put a space after '{keyword}'", self.pos)
            return _Token(keyword, start, end)
        return _Token("name", start, end, tuple(parts), tuple(starts))

    def name_part(self) -> tuple[str, bool]:
        """One part of a name and whether it was written without escapes."""
        chars: list[str] = []
        plain = True
        while c := self.peek():
            if c == "\\":
                escaped = self.peek(1)
                if not escaped:
                    raise self.error("expected a character after '\\'", self.pos)
                if escaped in ".[]":
                    raise self.error(f"a key cannot contain '{escaped}'", self.pos)
                chars.append(escaped)
                plain = False
                self.pos += 2
            elif _name_char(c) if chars else _name_start(c):
                chars.append(c)
                self.pos += 1
            else:
                break
        return "".join(chars), plain

    def number(self) -> _Token:
        start = self.pos
        if self.peek() in ("-", "+"):
            self.pos += 1
        if not _digit(self.peek()):
            raise self.error(f"expected a digit after '{self.text[start]}'", self.pos)
        self.digits()
        if self.peek() == ".":
            self.pos += 1
            if not _digit(self.peek()):
                raise self.error("expected a digit after '.'", self.pos)
            self.digits()
        if self.peek() and self.peek() not in _AFTER_VALUE:
            raise self.error(f"unexpected character {self.peek()!r} after a number", self.pos)
        text = self.text[start : self.pos]
        # Segment reads every number as a double (`03` is 3, big integers are rounded).
        value: int | float = float(text)
        if not math.isfinite(value):
            raise self.error("number too large", start)
        if "." not in text and abs(value) <= 2**53:
            value = int(value)  # exact: prints and compiles as written
        return _Token("number", start, self.pos, value)

    def digits(self) -> None:
        while _digit(self.peek()):
            self.pos += 1

    def string(self) -> _Token:
        """A double-quoted string: every character is itself, except `\\"` (a quote)."""
        start = self.pos
        self.pos += 1
        chars: list[str] = []
        while (c := self.peek()) != '"':
            if not c:
                message = "unterminated string"
                if '"' in chars:
                    message += ' (\\" is a quote inside the string, so it does not end it)'
                raise self.error(message, start)
            if c == "\\" and self.peek(1) == '"':
                chars.append('"')
                self.pos += 2
                continue
            if "\ud800" <= c <= "\udfff":
                raise self.error("a string cannot contain a lone surrogate", self.pos)
            chars.append(c)
            self.pos += 1
        self.pos += 1
        if self.peek() and self.peek() not in _AFTER_VALUE:
            # Segment's lexer would reopen a string at this quote ("a"b" is "a" then "b").
            raise self.error("put a space after the string", self.pos)
        return _Token("string", start, self.pos, "".join(chars))

    def operator(self) -> _Token:
        start = self.pos
        c, after = self.peek(), self.peek(1)
        if c == "!" and after != "=":
            if _name_start(after):
                self.pos += 1
                return _Token("!", start, self.pos)
            if after == "(":
                raise self.error(_BANG_ONLY_FOR_CALLS, start)
            raise self.error("expected '=' or a function name right after '!'", start + 1)
        if c == "=":
            if after == "=":
                raise self.error("compare with '=', not '=='", start)
            self.pos += 1
            return _Token("op", start, self.pos, "=")
        op = c + "=" if after == "=" else c
        self.pos += len(op)
        # Segment's lexer needs a space after '!=', '<=' and '>=' (it reads '<=5' as '<' '=5').
        if len(op) == 2 and self.peek() and self.peek() not in _AFTER_VALUE:
            raise self.error(f"put a space after '{op}'", self.pos)
        return _Token("op", start, self.pos, op)


# --------------------------------------------------------------------------- the parser

_LITERALS: Final = ("string", "number", "true", "false", "null")


def parse(text: str) -> Trigger:
    """Parse a trigger; raises TriggerSyntaxError with the offset of the first problem."""
    return _Parser(text).trigger()


def _lowercase_keyword(word: str) -> str | None:
    """'and' for "AND" or "And": a keyword written in the wrong case."""
    lower = word.lower()
    return lower if lower in _KEYWORDS and word != lower else None


def _ends_with_call(trigger: Trigger) -> bool:
    """Whether the trigger's text ends with a call's ')' (`not !contains(...)` too)."""
    while isinstance(trigger, Not):
        trigger = trigger.operand
    return isinstance(trigger, Call)


class _Parser:
    """Recursive descent over the tokens:

    trigger    = group EOF
    group      = unary { ("and" | "or") unary }       -- one connective per group
    unary      = "not" unary | primary
    primary    = "(" group ")" | ["!"] call | comparison
    call       = ("contains" | "match") "(" name "," string ")"
    comparison = name op (string | number | "true" | "false" | "null")

    plus Segment's restrictions (see the module docstring), checked where they apply.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        # Tokens are read lazily so that the first problem in the text is the one reported.
        self.stream = _Lexer(text).tokens()
        self.tokens: list[_Token] = []
        self.index = 0

    def error(self, message: str, offset: int) -> TriggerSyntaxError:
        return TriggerSyntaxError(message, offset, self.text)

    def at(self, index: int) -> _Token:
        while len(self.tokens) <= index:
            if self.tokens and self.tokens[-1].kind == "eof":
                return self.tokens[-1]
            self.tokens.append(next(self.stream))
        return self.tokens[index]

    @property
    def token(self) -> _Token:
        return self.at(self.index)

    def advance(self) -> _Token:
        token = self.token
        if token.kind != "eof":
            self.index += 1
        return token

    def source(self, token: _Token) -> str:
        return self.text[token.start : token.end]

    def describe(self, token: _Token) -> str:
        if token.kind == "eof":
            return "the end of the trigger"
        if token.kind == "string":
            return "a string"
        if token.kind == "number":
            return "a number"
        return f"'{self.source(token)}'"

    def trigger(self) -> Trigger:
        if self.token.kind == "eof":
            raise self.error("empty trigger", 0)
        result = self.group(nested=False)
        token = self.token
        if token.kind == ")":
            raise self.error("unbalanced parenthesis: ')' without a matching '('", token.start)
        if token.kind != "eof":
            raise self.error(self.expected_connective(token, "the end of the trigger"), token.start)
        return result

    def expected_connective(self, token: _Token, or_else: str) -> str:
        word = self.source(token)
        if token.kind == "name" and (keyword := _lowercase_keyword(word)):
            return f"FQL keywords are lowercase: write '{keyword}'"
        return f"expected 'and', 'or' or {or_else}, found {self.describe(token)}"

    def group(self, nested: bool) -> Trigger:
        first = self.token
        terms = [self.unary(nested)]
        connective: _Token | None = None
        while self.token.kind in ("and", "or"):
            if connective is None:
                connective = self.token
            elif self.token.kind != connective.kind:
                raise self.error(
                    "cannot mix 'and' and 'or' without parentheses (Segment would apply "
                    f"the last one to the whole group); write e.g. "
                    f"a {connective.kind} (b {self.token.kind} c)",
                    self.token.start,
                )
            if nested and _ends_with_call(terms[-1]):
                raise self.error(
                    "inside parentheses a function call must be the last condition "
                    "(Segment's parser ends the group at its ')')",
                    first.start,
                )
            self.advance()
            first = self.token
            terms.append(self.unary(nested))
        if connective is None:
            return terms[0]
        return And(tuple(terms)) if connective.kind == "and" else Or(tuple(terms))

    def unary(self, nested: bool) -> Trigger:
        if self.token.kind == "not":
            self.advance()
            return Not(self.unary(nested))
        return self.primary(nested)

    def primary(self, nested: bool) -> Trigger:
        token = self.token
        if token.kind == "(":
            self.advance()
            if self.token.kind == ")":
                raise self.error("empty parentheses", token.start)
            inner = self.group(nested=True)
            if self.token.kind == "eof":
                raise self.error("unbalanced parenthesis: '(' is never closed", token.start)
            if self.token.kind != ")":
                raise self.error(self.expected_connective(self.token, "')'"), self.token.start)
            self.advance()
            return inner
        if token.kind == "!":
            self.advance()
            if self.token.kind != "name" or self.at(self.index + 1).kind != "(":
                raise self.error(_BANG_ONLY_FOR_CALLS, token.start)
            return self.call(negated=True)
        if token.kind == "name":
            if keyword := _lowercase_keyword(self.source(token)):
                raise self.error(f"FQL keywords are lowercase: write '{keyword}'", token.start)
            if self.at(self.index + 1).kind == "(":
                return self.call(negated=False)
            return self.comparison()
        if token.kind in ("and", "or"):
            raise self.error(f"expected a condition before '{token.kind}'", token.start)
        before = self.tokens[self.index - 1] if self.index else None
        if before is not None and before.kind in ("and", "or", "not"):
            where = f"after '{before.kind}'"
        else:
            where = 'such as type = "track"'
        raise self.error(f"expected a condition {where}, found {self.describe(token)}", token.start)

    def path(self, token: _Token) -> Path:
        assert isinstance(token.value, tuple)
        parts: tuple[str, ...] = token.value
        if parts[0] in _FUNCTIONS and len(parts) == 1:
            raise self.error(f"expected '(' after '{parts[0]}'", self.token.start)
        if problem := _path_problem(parts):
            message, part = problem
            raise self.error(message, token.part_starts[part])
        return Path(parts)

    def comparison(self) -> Comparison:
        name = self.advance()
        path = self.path(name)
        op_token = self.token
        if op_token.kind != "op":
            message = (
                f"expected an operator (=, !=, <, <=, >, >=) after '{self.source(name)}', "
                f"found {self.describe(op_token)}"
            )
            if self.source(op_token) == "exists":
                message = f"FQL has no 'exists': write {self.source(name)} != null"
            raise self.error(message, op_token.start)
        self.advance()
        op = cast(Operator, op_token.value)
        token = self.token
        if token.kind not in _LITERALS:
            message = f"expected a string, number, true, false or null after '{op}'"
            if token.kind == "name" and (keyword := _lowercase_keyword(self.source(token))):
                message = f"FQL keywords are lowercase: write '{keyword}'"
            elif token.kind == "name":
                message += f' (for text write "{self.source(token)}")'
            raise self.error(message, token.start)
        self.advance()
        value = _literal(token)
        if problem := _comparison_problem(path, op, value):
            message, where = problem
            raise self.error(message, op_token.start if where == "op" else token.start)
        return Comparison(path, op, value)

    def call(self, negated: bool) -> Call:
        name = self.advance()
        assert isinstance(name.value, tuple)
        function = self.source(name)
        if function not in _FUNCTIONS:
            hint = " (for presence write field != null)" if function == "exists" else ""
            if function.lower() in _FUNCTIONS:
                hint = f" (function names are lowercase: write {function.lower()})"
            raise self.error(
                f"unknown function '{function}'; known: {', '.join(_FUNCTIONS)}{hint}",
                name.start,
            )
        self.advance()  # the '(' seen by the caller
        if self.token.kind != "name":
            raise self.error(
                f"expected a field as the 1st argument of {function}(), found "
                f"{self.describe(self.token)}",
                self.token.start,
            )
        field = self.advance()
        path = self.path(field)
        if self.token.kind != ",":
            raise self.error(
                f"expected ',' after the 1st argument of {function}()", self.token.start
            )
        self.advance()
        argument = self.token
        if argument.kind != "string":
            raise self.error(
                f"{function}() needs a string as its 2nd argument, found {self.describe(argument)}",
                argument.start,
            )
        self.advance()
        assert isinstance(argument.value, str)
        if problem := _call_problem(function, path, argument.value):
            message, where = problem
            raise self.error(message, field.start if where == "path" else argument.start)
        if self.token.kind != ")":
            if self.token.kind == "eof":
                raise self.error(
                    f"unbalanced parenthesis: '{function}(' is never closed", name.start
                )
            raise self.error(f"expected ')' to close {function}()", self.token.start)
        self.advance()
        return Call(cast(Function, function), path, argument.value, negated)


def _literal(token: _Token) -> Value:
    if token.kind == "string":
        assert isinstance(token.value, str)
        return String(token.value)
    if token.kind == "number":
        assert isinstance(token.value, int | float)
        return Number(token.value)
    if token.kind == "null":
        return Null()
    return Boolean(token.kind == "true")


# --------------------------------------------------------------------------- the meaning


def evaluate(trigger: Trigger, event: Mapping[str, object]) -> bool:
    """Whether `event` matches `trigger`, as Segment's `validate` decides it."""
    if isinstance(trigger, And):
        return all(evaluate(term, event) for term in trigger.terms)
    if isinstance(trigger, Or):
        return any(evaluate(term, event) for term in trigger.terms)
    if isinstance(trigger, Not):
        return not evaluate(trigger.operand, event)
    actual = _resolve(trigger.path, event)
    if isinstance(trigger, Call):
        if not isinstance(actual, str):  # both the plain and the negated form need a string
            return False
        return _call(trigger.function, trigger.argument, actual) != trigger.negated
    return _compare(actual, trigger.op, trigger.value)


def _resolve(path: Path, event: Mapping[str, object]) -> object:
    """The value at `path`; None when missing (Segment treats missing and null alike)."""
    value = event.get(path.head)
    for key in path.parts[1:]:
        # Segment walks with JavaScript's `value && value[key]`: a falsy value stops the
        # walk and is itself the result (so `properties.a.b` is 0 when `properties.a` is 0).
        if _falsy(value):
            return value
        value = _member(value, key)
    return value


def _falsy(value: object) -> bool:
    """JavaScript's falsiness for JSON values: null, false, 0, NaN and "" (not [] or {})."""
    if value is None or value is False or value == "":
        return True
    number = _js_number(value)
    return number is not None and (number == 0 or number != number)


def _member(value: object, key: str) -> object:
    """JavaScript's `value[key]` for JSON values, including the built-in methods it finds."""
    if isinstance(value, Mapping):
        return value.get(key)
    methods: frozenset[str] = frozenset()
    if isinstance(value, list | str):
        methods = ARRAY_METHODS if isinstance(value, list) else STRING_METHODS
        if isinstance(value, str):
            # JavaScript indexes and measures strings in UTF-16 code units.
            units = value.encode("utf-16-le", "surrogatepass")
            value = [
                units[i : i + 2].decode("utf-16-le", "surrogatepass")
                for i in range(0, len(units), 2)
            ]
        if key == "length":
            return len(value)
        if key.isascii() and key.isdigit() and (key == "0" or not key.startswith("0")):
            index = int(key)
            return value[index] if index < len(value) else None
    elif _js_number(value) is not None:
        methods = NUMBER_METHODS
    return BUILTIN if key in methods else None


def _js_number(value: object) -> float | None:
    """The JavaScript number for a JSON number (every number is a double there), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return float(value)
    except OverflowError:  # an integer beyond the double range: JSON.parse gives Infinity
        return math.inf if value > 0 else -math.inf


def _compare(actual: object, op: Operator, value: Value) -> bool:
    if isinstance(value, Null):
        return (actual is None) == (op == "=")
    if isinstance(value, Boolean):  # only '=' (the parser rejects '!= true')
        return actual is value.value
    if isinstance(value, String):  # strict: "1" is not 1
        return (actual == value.value) == (op == "=")
    # Numbers: every numeric operator needs an actual number, '!=' included.
    number = _js_number(actual)
    if number is None:
        return False
    return _NUMERIC[op](number, float(value.value))


_NUMERIC: Final[dict[str, Callable[[float, float], bool]]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _call(function: Function, argument: str, actual: str) -> bool:
    if function == "contains":
        return argument in actual
    if argument.endswith("*"):
        return actual.startswith(argument[:-1])
    return actual.endswith(argument[1:])


# --------------------------------------------------------------------------- the compiler

_RUNTIME_NUMERIC: Final = {
    "=": "num_eq",
    "!=": "num_ne",
    "<": "lt",
    "<=": "le",
    ">": "gt",
    ">=": "ge",
}


def compile_expression(trigger: Trigger) -> str:
    """A Python expression over `event` (a Mapping[str, Any]) computing `evaluate(trigger, event)`.

    The expression is a bool, calls helpers of the runtime module `fql.py` (which generated code
    must import as `_fql`), and passes ruff's simplification rules. Literals are emitted with
    repr(), so no input can inject code.
    """
    if isinstance(trigger, And | Or):
        joiner = " and " if isinstance(trigger, And) else " or "
        return joiner.join(_compile_term(term) for term in trigger.terms)
    if isinstance(trigger, Not):
        return _compile_not(trigger.operand)
    return _compile_condition(trigger, negated=False)


def _compile_term(trigger: Trigger) -> str:
    code = compile_expression(trigger)
    return f"({code})" if isinstance(trigger, And | Or) else code


def _compile_not(operand: Trigger) -> str:
    if isinstance(operand, Not):  # both are bools, so `not not x` is x (kept in parentheses)
        return _compile_term(operand.operand)
    if isinstance(operand, Comparison) and not isinstance(operand.value, Number):
        return _compile_condition(operand, negated=True)  # `x != 'a'`, not `not x == 'a'`
    return f"not {_compile_term(operand)}"


def _compile_condition(trigger: Comparison | Call, negated: bool) -> str:
    value = _compile_path(trigger.path)
    if isinstance(trigger, Call):
        if trigger.function == "contains":
            helper, argument = "contains", trigger.argument
        elif trigger.argument.endswith("*"):
            helper, argument = "starts_with", trigger.argument[:-1]
        else:
            helper, argument = "ends_with", trigger.argument[1:]
        if trigger.negated:
            helper = "not_" + helper
        return f"_fql.{helper}({value}, {argument!r})"
    # Non-numeric comparisons are plain Python operators, which `negated` inverts.
    positive, literal = trigger.op == "=", trigger.value
    if negated:
        positive = not positive
    if isinstance(literal, Null):
        return f"{value} is None" if positive else f"{value} is not None"
    if isinstance(literal, Boolean):
        return f"{value} {'is' if positive else 'is not'} {literal.value!r}"
    if isinstance(literal, String):
        return f"{value} {'==' if positive else '!='} {literal.value!r}"
    return f"_fql.{_RUNTIME_NUMERIC[trigger.op]}({value}, {literal.value!r})"


def _compile_path(path: Path) -> str:
    if len(path.parts) == 1:
        return f"event.get({path.head!r})"
    return f"_fql.get(event.get({path.head!r}), {path.parts[1:]!r})"


# --------------------------------------------------------------------------- utilities


def paths_used(trigger: Trigger) -> set[tuple[str, ...]]:
    """The paths the trigger reads, e.g. {("type",), ("properties", "plan")}."""
    if isinstance(trigger, And | Or):
        used: set[tuple[str, ...]] = set()
        for term in trigger.terms:
            used |= paths_used(term)
        return used
    if isinstance(trigger, Not):
        return paths_used(trigger.operand)
    return {trigger.path.parts}


def fields_used(trigger: Trigger) -> set[str]:
    """The dotted paths the trigger reads, e.g. {"type", "properties.plan"}."""
    return {".".join(parts) for parts in paths_used(trigger)}


def to_text(trigger: Trigger) -> str:
    """Canonical FQL for a trigger; `parse(to_text(t)) == t` for every tree `t`."""
    if isinstance(trigger, And | Or):
        joiner = " and " if isinstance(trigger, And) else " or "
        return joiner.join(_term_text(t) for t in trigger.terms)
    if isinstance(trigger, Not):
        return "not " + _term_text(trigger.operand)
    path = ".".join(_name_text(part) for part in trigger.path.parts)
    if isinstance(trigger, Call):
        bang = "!" if trigger.negated else ""
        return f"{bang}{trigger.function}({path}, {_string_text(trigger.argument)})"
    return f"{path} {trigger.op} {_value_text(trigger.value)}"


def _term_text(trigger: Trigger) -> str:
    return f"({to_text(trigger)})" if isinstance(trigger, And | Or) else to_text(trigger)


def _name_text(part: str) -> str:
    chars = [
        c if (_name_char(c) if i else _name_start(c)) else "\\" + c for i, c in enumerate(part)
    ]
    if part in ("and", "or", "null"):
        chars[0] = "\\" + chars[0]
    return "".join(chars)


def _string_text(text: str) -> str:
    return '"' + text.replace('"', '\\"') + '"'


def _value_text(value: Value) -> str:
    if isinstance(value, String):
        return _string_text(value.value)
    if isinstance(value, Boolean):
        return "true" if value.value else "false"
    if isinstance(value, Null):
        return "null"
    if isinstance(value.value, int):
        return str(value.value)
    # Plain decimal notation (FQL has no exponents) that reads back as the same float.
    text = format(Decimal(repr(value.value)), "f")
    return text if "." in text else text + ".0"


# --------------------------------------------------------------------------- documentation


@dataclass(frozen=True)
class GuideEntry:
    """One form of the language in docs/spec-reference.md. The tests check that `example`
    matches the event `matches` and not the event `misses` (here, and in Segment unless the
    form is an extension)."""

    form: str
    example: str
    meaning: str
    matches: dict[str, Any]
    misses: dict[str, Any]


EXTENSIONS: Final = (
    "nested parentheses: Segment's parser reads one level and rejects more",
    '`not`: Segment\'s parser skips the word, so there `not type = "track"` means `type = "track"`',
    '`\\"` inside a string: Segment has no escapes and ends the string at that quote, '
    'keeping the backslash (there `"a\\"b"` is the text `a\\`)',
)

_ORDER: Final[dict[str, Any]] = {"type": "track", "event": "Order Completed"}
_G = GuideEntry
# fmt: off
GUIDE: Final = (
    _G("Message type", 'type = "track"',
       "`type` is the message type: track, identify, page, screen, group or alias.",
       _ORDER, {"type": "identify"}),
    _G("Equals (text)", 'event = "Order Completed"',
       "Exact, case-sensitive text. `type`, `event` compare text only; `name` also `null`, `userId` "
       "also `null`, `true`, `false`.",
       _ORDER, {"type": "track", "event": "order completed"}),
    _G("Not equal", 'event != "Order Completed"',
       "Also matches when the field is missing or not a string.",
       {"type": "track"}, _ORDER),
    _G("Field path", 'context.device.type = "ios"',
       "Dotted keys into `properties`, `traits` or `context`; a key of a missing value is missing.",
       {"context": {"device": {"type": "ios"}}}, {"context": {"device": "ios"}}),
    _G("Escaped key", 'properties.first\\ name = "Ann"',
       "A backslash makes the next character part of the key: a space, a leading digit "
       "(`items.\\0` is the first item) or a keyword ending the path (`\\and`). Arrays and "
       "strings also have `length`.",
       {"properties": {"first name": "Ann"}}, {"properties": {"first": "Ann"}}),
    _G("Number", "properties.total >= 100",
       "`=`, `!=`, `<`, `<=`, `>`, `>=` with a number match numbers only (`!= 5` matches neither "
       'a missing field nor "5"). Numbers are doubles, as in JavaScript.',
       {"properties": {"total": 120.5}}, {"properties": {"total": "120.5"}}),
    _G("Boolean", "traits.vip = true",
       "Matches the boolean only (not `1` or `\"true\"`). For `!= true` write `= false`.",
       {"traits": {"vip": True}}, {"traits": {"vip": "true"}}),
    _G("Null", "properties.coupon = null",
       "Missing or null. `!= null` means present (any value, even `false` or `\"\"`).",
       {"properties": {"coupon": None}}, {"properties": {"coupon": ""}}),
    _G("Contains", 'contains(event, "Order")',
       "The field is a string containing the text (case-sensitive); any field but `type`.",
       _ORDER, {"type": "track", "event": "Signed Up"}),
    _G("Starts / ends with", 'match(properties.email, "*@example.com")',
       '`"prefix*"` or `"*suffix"`: one `*`, at the start or the end.',
       {"properties": {"email": "ann@example.com"}}, {"properties": {"email": "a@example.org"}}),
    _G("Negated function", '!contains(properties.plan, "trial")',
       "The field is a string *without* the text: a missing field matches neither `contains` "
       "nor `!contains`. Only functions take `!`.",
       {"properties": {"plan": "pro"}}, {"properties": {}}),
    _G("And / or", 'type = "identify" or type = "group"',
       "Lowercase `and`, `or`. A group uses one of them; mix them with parentheses.",
       {"type": "group"}, {"type": "track"}),
    _G("Parentheses", 'type = "track" and (event = "Order Completed" or event = "Order Refunded")',
       "Group conditions. Inside parentheses `contains()`/`match()` must be the last condition.",
       _ORDER, {"type": "track", "event": "Cart Viewed"}),
    _G("Not (extension)", 'not (type = "track" or type = "page")',
       "Negates a condition. Segment's parser skips `not`: do not copy such a trigger there.",
       {"type": "identify"}, _ORDER),
    _G("Nested parentheses (extension)",
       'type = "track" and (event = "A" or (properties.total > 10 and properties.vip = true))',
       "Any depth; Segment accepts one level only.",
       {"type": "track", "event": "B", "properties": {"total": 12, "vip": True}},
       {"type": "track", "event": "B", "properties": {"total": 12}}),
    _G("Quote in a string (extension)", 'event = "Said \\"hi\\""',
       '`\\"` is a quote; any other backslash is itself, as in Segment (which cannot write a '
       "quote inside a string: do not copy such a trigger there).",
       {"event": 'Said "hi"'}, {"event": "Said hi"}),
)

# Triggers Segment accepts with another meaning than they show, or cannot parse: each is a
# located syntax error here. (trigger, why)
REJECTED: Final = (
    ('type = "a" and event = "b" or event = "c"', "mixed `and`/`or`: Segment applies the last"),
    ('!(type = "track")', "Segment ignores `!` before anything but a function"),
    ('type = "a" AND event = "b"', "Segment drops uppercase `AND`/`OR` as unknown words"),
    ('anonymousId = "x"', "Segment drops unknown fields without a word"),
    ("properties.sku exists", "there is no `exists`: write `properties.sku != null`"),
    ("properties.flag != true", 'Segment compares with the text "true"'),
    ('properties.total > "5"', "`<`, `>` ... compare numbers: write 5"),
    ("event = 5", 'Segment compares `event` with the text "5"'),
    ('match(event, "Order")', "a pattern without `*` means `*rder` in Segment"),
    ('(contains(event, "a") or type = "b")', "Segment ends the group at the call's `)`"),
    ('event == "x"', "FQL compares with `=`"),
    ("event = 'x'", "Segment keeps single quotes as part of the text"),
    ("properties.toString = null", "every JavaScript object has `toString`"),
)
# fmt: on
