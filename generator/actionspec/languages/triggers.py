r"""Triggers: Segment's FQL subset for action subscriptions -- parse, evaluate, compile, print.

A trigger decides whether an event reaches an action, e.g.

    type = "track" and (event = "Order Completed" or event = "Order Refunded")

Segment evaluates triggers with `@segment/destination-subscriptions` (`parseFql` + `validate`);
that package defines the meaning here, and `tests/fixtures/fql_reference.jsonl` records its
answers. Its parser is lenient in ways that silently change a trigger's meaning, so this
module accepts a strict *subset* of what Segment accepts -- and on everything it accepts it
agrees with Segment. What Segment rejects, this module rejects too. Facts about Segment that
shape the grammar:

* There is no operator precedence: a group (the whole trigger, or one pair of parentheses)
  joins all its conditions with the *last* `and`/`or` in it. Mixing them without parentheses
  is therefore rejected here.
* Only one level of parentheses parses; inside parentheses a `contains()`/`match()` call
  must come last (Segment's parser ends the group at the call's own `)`).
* There is no `not`: `!` negates only `contains(...)`/`match(...)`, and `!contains(f, "x")`
  means "f is a string without x" (a missing field matches neither form).
* Fields: `type`, `event`, `name`, `userId` (no sub-fields) and `properties.*`, `traits.*`,
  `context.*`; nested keys follow JavaScript's `a && a[key]` (see `_resolve`). Unknown
  fields are silently dropped by Segment and rejected here.
* Comparisons are strict and case-sensitive: `= "1"` matches only the string "1", `= 1` only
  numbers, `= true` only booleans. `= null` means missing-or-null, `!= null` means present.
  `!= "x"` matches a missing field, `!= 1` does not (it needs a number). `<`, `<=`, `>`, `>=`
  match numbers only.
* `match(f, "abc*")` is "starts with", `match(f, "*abc")` "ends with"; nothing else.
* Strings: Segment reads backslashes literally and cannot express `"` inside a string; here
  the JSON escapes (`\"`, `\\`, `\n`, `\t`, `\uXXXX`, ...) apply. Strings without a backslash
  mean the same in both. In field names a backslash escapes any character
  (`properties.first\ name`), as in Segment.

`evaluate` is the reference interpreter; `compile_expression` emits an equivalent Python
expression over `event` that calls helpers from `actionspec/runtime/fql.py` (imported as `_fql`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Literal, TypeAlias, cast

__all__ = [
    "OBJECT_FIELDS",
    "SCALAR_FIELDS",
    "And",
    "Boolean",
    "Call",
    "Comparison",
    "Function",
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
    "to_text",
]

# --------------------------------------------------------------------------- the AST


@dataclass(frozen=True)
class String:
    value: str


@dataclass(frozen=True)
class Number:
    value: int | float

    def __post_init__(self) -> None:
        if isinstance(self.value, bool) or not math.isfinite(self.value):
            raise ValueError(f"not a finite number: {self.value!r}")


@dataclass(frozen=True)
class Boolean:
    value: bool


@dataclass(frozen=True)
class Null:
    pass


Value: TypeAlias = String | Number | Boolean | Null

Operator: TypeAlias = Literal["=", "!=", "<", "<=", ">", ">="]
Function: TypeAlias = Literal["contains", "match"]

# Top-level fields compared directly, and the objects whose nested keys a trigger can test.
SCALAR_FIELDS: Final = ("type", "event", "name", "userId")
OBJECT_FIELDS: Final = ("properties", "traits", "context")


@dataclass(frozen=True)
class Path:
    """A field: `("properties", "plan")` for `properties.plan`."""

    parts: tuple[str, ...]

    def __post_init__(self) -> None:
        # Segment splits keys on '.', '[' and ']', so no key can contain them.
        if not self.parts or any(not p or any(c in p for c in ".[]") for p in self.parts):
            raise ValueError(f"invalid field path: {self.parts!r}")

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


@dataclass(frozen=True)
class Call:
    """`contains(path, "text")` or `match(path, "prefix*" | "*suffix")`, maybe `!`-negated."""

    function: Function
    path: Path
    argument: str
    negated: bool = False


@dataclass(frozen=True)
class And:
    terms: tuple[Trigger, ...]


@dataclass(frozen=True)
class Or:
    terms: tuple[Trigger, ...]


Trigger: TypeAlias = Comparison | Call | And | Or


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


# --------------------------------------------------------------------------- the lexer

_WHITESPACE: Final = " \t\n"  # Segment's lexer knows no other (a '\r' is an error there)
_AFTER_VALUE: Final = " \t\n,)"  # what may follow a keyword, number or '!=' in Segment
_AFTER_NAME: Final = " \t\n,)(=!"  # what may follow a field or function name in Segment
_KEYWORDS: Final = ("and", "or", "null", "true", "false")
_ESCAPES: Final = {
    '"': '"',
    "\\": "\\",
    "/": "/",
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "b": "\b",
    "f": "\f",
}


def _name_start(c: str) -> bool:
    return c.isascii() and (c.isalpha() or c == "_")


def _name_char(c: str) -> bool:
    return c.isascii() and (c.isalnum() or c in "_-")


def _digit(c: str) -> bool:
    return len(c) == 1 and c in "0123456789"


@dataclass(frozen=True)
class _Token:
    # kind: "name" (a field or function name), a keyword ("and", "or", "null", "true",
    # "false"), "string", "number", "op", "!", "(", ")", "," or "eof".
    kind: str
    start: int
    end: int
    value: object = None  # name: tuple of parts; string: str; number: int|float; op: str


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
            elif _digit(c) or c == "-":
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
        while True:
            part, plain = self.name_part()
            if parts and plain and part in ("and", "or", "null"):
                # Segment's lexer would read these as keywords, not as a key.
                raise self.error(
                    f"'{part}' is a keyword; write \\{part} to use it as a field name",
                    self.pos - len(part),
                )
            parts.append(part)
            if self.peek() != ".":
                break
            if not (_name_start(self.peek(1)) or self.peek(1) == "\\"):
                raise self.error("expected a field name after '.'", self.pos + 1)
            self.pos += 1
        end = self.pos
        after = self.peek()
        if after and after not in _AFTER_NAME:
            if after in "<>":
                raise self.error(f"put a space before '{after}'", self.pos)
            raise self.error(f"unexpected character {after!r} after a field name", self.pos)
        if len(parts) == 1 and self.text[start:end] in _KEYWORDS:
            keyword = parts[0]
            if after and after not in _AFTER_VALUE:
                raise self.error(f"put a space after '{keyword}'", self.pos)
            return _Token(keyword, start, end)
        return _Token("name", start, end, tuple(parts))

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
                    raise self.error(f"a field name cannot contain '{escaped}'", self.pos)
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
        if self.peek() == "-":
            self.pos += 1
        if not _digit(self.peek()):
            raise self.error("expected a digit after '-'", self.pos)
        self.digits()
        if self.peek() == ".":
            self.pos += 1
            if not _digit(self.peek()):
                raise self.error("expected a digit after '.'", self.pos)
            self.digits()
        if self.peek() and self.peek() not in _AFTER_VALUE:
            raise self.error(f"unexpected character {self.peek()!r} after a number", self.pos)
        text = self.text[start : self.pos]
        value: int | float = float(text) if "." in text else int(text)
        return _Token("number", start, self.pos, value)

    def digits(self) -> None:
        while _digit(self.peek()):
            self.pos += 1

    def string(self) -> _Token:
        start = self.pos
        self.pos += 1
        chars: list[str] = []
        while (c := self.peek()) != '"':
            if not c:
                raise self.error("unterminated string", start)
            if c == "\\":
                chars.append(self.escape())
            else:
                chars.append(c)
                self.pos += 1
        self.pos += 1
        if self.peek() and self.peek() not in _AFTER_VALUE:
            # Segment's lexer would reopen a string at this quote ("a"b" is "a" then "b").
            raise self.error("put a space after the string", self.pos)
        return _Token("string", start, self.pos, "".join(chars))

    def escape(self) -> str:
        code = self.peek(1)
        if code in _ESCAPES:
            self.pos += 2
            return _ESCAPES[code]
        if code == "u":
            digits = self.text[self.pos + 2 : self.pos + 6]
            if len(digits) == 4 and all(d in "0123456789abcdefABCDEF" for d in digits):
                self.pos += 6
                return chr(int(digits, 16))
            raise self.error("expected 4 hex digits after '\\u'", self.pos)
        raise self.error(
            f"unknown escape '\\{code}' in string (write \\\\ for a backslash)", self.pos
        )

    def operator(self) -> _Token:
        start = self.pos
        c, after = self.peek(), self.peek(1)
        if c == "!" and after != "=":
            if _name_start(after):
                self.pos += 1
                return _Token("!", start, self.pos)
            if after == "(":
                raise self.error("'!' can only negate contains(...) or match(...)", start)
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

_FUNCTIONS: Final = ("contains", "match")
_LITERALS: Final = ("string", "number", "true", "false", "null")


def parse(text: str) -> Trigger:
    """Parse a trigger; raises TriggerSyntaxError with the offset of the first problem."""
    return _Parser(text).trigger()


class _Parser:
    """Recursive descent over the tokens:

    trigger    = group EOF
    group      = term { ("and" | "or") term }      -- one connective per group
    term       = "(" group ")" | ["!"] call | comparison   -- no nested parentheses
    call       = ("contains" | "match") "(" name "," string ")"
    comparison = name op (string | number | "true" | "false" | "null")
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
        if token.kind == "name" and word in ("AND", "OR"):
            return f"FQL keywords are lowercase: write '{word.lower()}'"
        return f"expected 'and', 'or' or {or_else}, found {self.describe(token)}"

    def group(self, nested: bool) -> Trigger:
        first = self.token
        terms = [self.term(nested)]
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
            if nested and isinstance(terms[-1], Call):
                raise self.error(
                    "inside parentheses a function call must be the last condition "
                    "(Segment's parser ends the group at its ')')",
                    first.start,
                )
            self.advance()
            first = self.token
            terms.append(self.term(nested))
        if connective is None:
            return terms[0]
        return And(tuple(terms)) if connective.kind == "and" else Or(tuple(terms))

    def term(self, nested: bool) -> Trigger:
        token = self.token
        if token.kind == "(":
            if nested:
                raise self.error(
                    "nested parentheses are not supported (Segment's parser reads one level)",
                    token.start,
                )
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
                raise self.error("'!' can only negate contains(...) or match(...)", token.start)
            return self.call(negated=True)
        if token.kind == "name":
            if self.source(token) == "not":
                raise self.error(
                    "FQL has no 'not': use '!=', '= null' or !contains(...)/!match(...)",
                    token.start,
                )
            if self.at(self.index + 1).kind == "(":
                return self.call(negated=False)
            return self.comparison()
        if token.kind in ("and", "or"):
            raise self.error(f"expected a condition before '{token.kind}'", token.start)
        before = self.tokens[self.index - 1] if self.index else None
        if before is not None and before.kind in ("and", "or"):
            where = f"after '{before.kind}'"
        else:
            where = 'such as type = "track"'
        raise self.error(f"expected a condition {where}, found {self.describe(token)}", token.start)

    def path(self, token: _Token, allowed: tuple[str, ...]) -> Path:
        assert isinstance(token.value, tuple)
        parts: tuple[str, ...] = token.value
        head, text = parts[0], self.source(token)
        if head in OBJECT_FIELDS and head in allowed:
            if len(parts) == 1:
                raise self.error(f"'{head}' needs a key, e.g. {head}.plan", token.start)
        elif head in SCALAR_FIELDS and head in allowed:
            if len(parts) > 1:
                raise self.error(f"'{head}' has no keys: write just {head}", token.start)
        elif head in _FUNCTIONS and len(parts) == 1:
            raise self.error(f"expected '(' after '{head}'", self.token.start)
        else:
            fields = ", ".join(f for f in allowed if f in SCALAR_FIELDS)
            objects = ", ".join(f"{f}.*" for f in OBJECT_FIELDS)
            raise self.error(f"unknown field '{text}'; known: {fields}, {objects}", token.start)
        return Path(parts)

    def comparison(self) -> Comparison:
        name = self.advance()
        path = self.path(name, SCALAR_FIELDS + OBJECT_FIELDS)
        op_token = self.token
        if op_token.kind != "op":
            raise self.error(
                f"expected an operator (=, !=, <, <=, >, >=) after '{self.source(name)}', "
                f"found {self.describe(op_token)}",
                op_token.start,
            )
        self.advance()
        op = cast(Operator, op_token.value)
        token = self.token
        if token.kind not in _LITERALS:
            message = f"expected a string, number, true, false or null after '{op}'"
            if token.kind == "name":
                message += f' (for text write "{self.source(token)}")'
            raise self.error(message, token.start)
        self.advance()
        value = _literal(token)
        self.check_comparison(path, op_token, token, value)
        return Comparison(path, op, value)

    def check_comparison(self, path: Path, op: _Token, token: _Token, value: Value) -> None:
        """Reject the forms whose meaning in Segment differs from how they read."""
        head, symbol = path.head, op.value
        if symbol in ("<", "<=", ">", ">="):
            if head in SCALAR_FIELDS:
                raise self.error(f"'{symbol}' compares numbers; '{head}' is text", op.start)
            if not isinstance(value, Number):
                raise self.error(f"'{symbol}' needs a number", token.start)
        elif head in ("type", "event") and not isinstance(value, String):
            # Segment compares these with the literal's text: `event = null` means "null".
            raise self.error(f"'{head}' can only be compared with a string", token.start)
        elif head in ("name", "userId") and not isinstance(value, String | Null):
            raise self.error(f"'{head}' can only be compared with a string or null", token.start)
        elif symbol == "!=" and isinstance(value, Boolean):
            # Segment's `!= true` compares with the string "true", so `true != true` matches.
            raise self.error(
                f"'!= {self.source(token)}' does not work in Segment (it compares with the "
                f'text "{self.source(token)}"); test "= {str(not value.value).lower()}" instead',
                op.start,
            )

    def call(self, negated: bool) -> Call:
        name = self.advance()
        assert isinstance(name.value, tuple)
        function = self.source(name)
        if function not in _FUNCTIONS:
            raise self.error(
                f"unknown function '{function}'; known: {', '.join(_FUNCTIONS)}", name.start
            )
        self.advance()  # the '(' seen by the caller
        if self.token.kind != "name":
            raise self.error(
                f"expected a field as the 1st argument of {function}(), found "
                f"{self.describe(self.token)}",
                self.token.start,
            )
        field = self.advance()
        if field.value == ("type",):
            raise self.error(f"{function}() cannot test 'type' (Segment ignores it)", field.start)
        path = self.path(field, ("event", "name", "userId", *OBJECT_FIELDS))
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
        text = argument.value
        assert isinstance(text, str)
        if function == "match" and not _is_pattern(text):
            raise self.error(
                'match() patterns are "prefix*" or "*suffix" (one \'*\', at the start or end)',
                argument.start,
            )
        if self.token.kind != ")":
            if self.token.kind == "eof":
                raise self.error(
                    f"unbalanced parenthesis: '{function}(' is never closed", name.start
                )
            raise self.error(f"expected ')' to close {function}()", self.token.start)
        self.advance()
        return Call(cast(Function, function), path, text, negated)


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


def _is_pattern(pattern: str) -> bool:
    return pattern.count("*") == 1 and (pattern.endswith("*") or pattern.startswith("*"))


# --------------------------------------------------------------------------- the meaning


def evaluate(trigger: Trigger, event: Mapping[str, object]) -> bool:
    """Whether `event` matches `trigger`, as Segment's `validate` decides it."""
    if isinstance(trigger, And):
        return all(evaluate(term, event) for term in trigger.terms)
    if isinstance(trigger, Or):
        return any(evaluate(term, event) for term in trigger.terms)
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
    return _is_number(value) and (value == 0 or value != value)


def _member(value: object, key: str) -> object:
    """JavaScript's `value[key]` for JSON values (prototype members are not modelled)."""
    if isinstance(value, Mapping):
        return value.get(key)
    if isinstance(value, list | str):
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
    return None


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _compare(actual: object, op: Operator, value: Value) -> bool:
    if isinstance(value, Null):
        return (actual is None) == (op == "=")
    if isinstance(value, Boolean):  # only '=' (the parser rejects '!= true')
        return actual is value.value
    if isinstance(value, String):  # strict: "1" is not 1
        return (actual == value.value) == (op == "=")
    # Numbers: every numeric operator needs an actual number, '!=' included.
    if not _is_number(actual):
        return False
    number = value.value
    assert isinstance(actual, int | float)
    return _NUMERIC[op](actual, number)


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

    The expression calls helpers of the runtime module `fql.py`, which generated code must
    import as `_fql`. Literals are emitted with repr(), so no input can inject code.
    """
    if isinstance(trigger, And | Or):
        joiner = " and " if isinstance(trigger, And) else " or "
        return joiner.join(_compile_term(term) for term in trigger.terms)
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
    op, literal = trigger.op, trigger.value
    if isinstance(literal, Null):
        return f"{value} is None" if op == "=" else f"{value} is not None"
    if isinstance(literal, Boolean):
        return f"{value} is {literal.value!r}"
    if isinstance(literal, String):
        return f"{value} {'==' if op == '=' else '!='} {literal.value!r}"
    return f"_fql.{_RUNTIME_NUMERIC[op]}({value}, {literal.value!r})"


def _compile_term(trigger: Trigger) -> str:
    code = compile_expression(trigger)
    return f"({code})" if isinstance(trigger, And | Or) else code


def _compile_path(path: Path) -> str:
    if len(path.parts) == 1:
        return f"event.get({path.head!r})"
    return f"_fql.get(event, {path.parts!r})"


# --------------------------------------------------------------------------- utilities


def fields_used(trigger: Trigger) -> set[str]:
    """The dotted paths the trigger reads, e.g. {"type", "properties.plan"}."""
    if isinstance(trigger, And | Or):
        used: set[str] = set()
        for term in trigger.terms:
            used |= fields_used(term)
        return used
    return {trigger.path.dotted()}


def to_text(trigger: Trigger) -> str:
    """Canonical FQL for a trigger; `parse(to_text(t)) == t` for every `t` that parse returns."""
    if isinstance(trigger, And | Or):
        joiner = " and " if isinstance(trigger, And) else " or "
        return joiner.join(
            f"({to_text(t)})" if isinstance(t, And | Or) else to_text(t) for t in trigger.terms
        )
    path = ".".join(_name_text(part) for part in trigger.path.parts)
    if isinstance(trigger, Call):
        bang = "!" if trigger.negated else ""
        return f"{bang}{trigger.function}({path}, {_string_text(trigger.argument)})"
    return f"{path} {trigger.op} {_value_text(trigger.value)}"


def _name_text(part: str) -> str:
    chars = [
        c if (_name_char(c) if i else _name_start(c)) else "\\" + c for i, c in enumerate(part)
    ]
    if part in ("and", "or", "null"):
        chars[0] = "\\" + chars[0]
    return "".join(chars)


def _string_text(text: str) -> str:
    out = ['"']
    for c in text:
        if c in '"\\':
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif c == "\r":
            out.append("\\r")
        elif ord(c) < 0x20 or c == "\x7f":
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


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
