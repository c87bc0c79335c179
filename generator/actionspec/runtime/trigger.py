"""Triggers (Segment's FQL subset) parsed at run time, for a workspace's own mappings.

Spec triggers are compiled by the generator (`actionspec.languages.triggers`); a workspace file
is only read when the service starts, so its triggers are parsed here into a predicate that calls
the same helpers as compiled code (`fql.py`). This parser accepts a *subset* of the generator's
language: what it accepts means the same there and in Segment (the tests check both), and what
it refuses gets an error naming the column. Not accepted here: `not`, backslashes in strings,
keys every JavaScript object has (`constructor`, ...). The grammar:

    trigger    = group EOF
    group      = term { ("and" | "or") term }      -- one connective per group
    term       = "(" group ")" | ["!"] call | comparison   -- one level of parentheses
    call       = ("contains" | "match") "(" field "," string ")"
    comparison = field op (string | number | true | false | null)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from . import fql

Predicate = Callable[[Mapping[str, Any]], bool]

SCALAR_FIELDS: Final = ("type", "event", "name", "userId")
OBJECT_FIELDS: Final = ("properties", "traits", "context")
_KEYWORDS: Final = ("and", "or", "null", "true", "false")
# Keys every JavaScript object has: Segment finds them even in events without them.
_OBJECT_MEMBERS: Final = frozenset(
    {
        "__defineGetter__", "__defineSetter__", "__lookupGetter__", "__lookupSetter__",
        "__proto__", "constructor", "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable",
        "toLocaleString", "toString", "valueOf",
    }
)  # fmt: skip
_SAFE_INTEGER: Final = 2**53  # JavaScript numbers are doubles: larger integers are rounded
_WHITESPACE: Final = " \t\n"
_AFTER_VALUE: Final = " \t\n,)"
_AFTER_NAME: Final = " \t\n,)(=!"
_NUMERIC: Final = {
    "=": fql.num_eq,
    "!=": fql.num_ne,
    "<": fql.lt,
    "<=": fql.le,
    ">": fql.gt,
    ">=": fql.ge,
}


class TriggerError(ValueError):
    """A trigger that does not parse; `column` is 1-based within the trigger text."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} at column {offset + 1}")
        self.message = message
        self.column = offset + 1


@dataclass(frozen=True)
class _Token:
    kind: str  # name, and, or, null, true, false, string, number, op, !, (, ), ",", eof
    start: int
    value: Any = None


def _name_start(c: str) -> bool:
    return c.isascii() and (c.isalpha() or c == "_")


def _name_char(c: str) -> bool:
    return c.isascii() and (c.isalnum() or c in "_-")


def _tokens(text: str) -> Iterator[_Token]:
    pos = 0

    def at(i: int) -> str:
        return text[i] if i < len(text) else ""

    while True:
        while at(pos) and at(pos) in _WHITESPACE:
            pos += 1
        c, start = at(pos), pos
        if not c:
            yield _Token("eof", pos)
            return
        if _name_start(c) or c == "\\":
            parts: list[str] = []
            while True:
                chars: list[str] = []
                plain = True
                while (ch := at(pos)) and (
                    ch == "\\" or (_name_char(ch) if chars else _name_start(ch))
                ):
                    if ch == "\\":
                        if not at(pos + 1) or at(pos + 1) in ".[]":
                            raise TriggerError("invalid escape in a field name", pos)
                        chars.append(at(pos + 1))
                        plain = False
                        pos += 2
                    else:
                        chars.append(ch)
                        pos += 1
                part = "".join(chars)
                if parts and plain and part in ("and", "or", "null"):
                    raise TriggerError(f"'{part}' is a keyword; write \\{part}", pos - len(part))
                parts.append(part)
                if at(pos) != ".":
                    break
                if not (_name_start(at(pos + 1)) or at(pos + 1) == "\\"):
                    raise TriggerError("expected a field name after '.'", pos + 1)
                pos += 1
            if at(pos) and at(pos) not in _AFTER_NAME:
                raise TriggerError(f"unexpected character {at(pos)!r} after a name", pos)
            if len(parts) == 1 and text[start:pos] in _KEYWORDS:
                if at(pos) and at(pos) not in _AFTER_VALUE:
                    raise TriggerError(f"put a space after '{parts[0]}'", pos)
                yield _Token(parts[0], start)
            else:
                yield _Token("name", start, tuple(parts))
        elif (c.isdigit() and c.isascii()) or c == "-":
            pos += c == "-"
            digits_start = pos
            while at(pos) and at(pos) in "0123456789":
                pos += 1
            if pos == digits_start:
                raise TriggerError("expected a digit", pos)
            if at(pos) == ".":
                pos += 1
                fraction_start = pos
                while at(pos) and at(pos) in "0123456789":
                    pos += 1
                if pos == fraction_start:
                    raise TriggerError("expected a digit after '.'", pos)
            if at(pos) and at(pos) not in _AFTER_VALUE:
                raise TriggerError(f"unexpected character {at(pos)!r} after a number", pos)
            number = text[start:pos]
            value: int | float = float(number) if "." in number else int(number)
            if abs(value) > _SAFE_INTEGER:
                value = float(number)
            yield _Token("number", start, value)
        elif c == '"':
            pos += 1
            chars = []
            while (ch := at(pos)) != '"':
                if not ch:
                    raise TriggerError("unterminated string", start)
                if ch == "\\":  # Segment reads them literally, and cannot escape '"'
                    raise TriggerError("backslashes in strings are not supported here", pos)
                if "\ud800" <= ch <= "\udfff":
                    raise TriggerError("a string cannot contain a lone surrogate", pos)
                chars.append(ch)
                pos += 1
            pos += 1
            if at(pos) and at(pos) not in _AFTER_VALUE:
                raise TriggerError("put a space after the string", pos)
            yield _Token("string", start, "".join(chars))
        elif c in "=!<>":
            after = at(pos + 1)
            if c == "!" and after != "=":
                if not _name_start(after):
                    raise TriggerError("'!' can only negate contains(...) or match(...)", pos)
                pos += 1
                yield _Token("!", start)
                continue
            if c == "=" and after == "=":
                raise TriggerError("compare with '=', not '=='", pos)
            op = c + "=" if after == "=" and c != "=" else c
            pos += len(op)
            if len(op) == 2 and at(pos) and at(pos) not in _AFTER_VALUE:
                raise TriggerError(f"put a space after '{op}'", pos)
            yield _Token("op", start, op)
        elif c in "(),":
            pos += 1
            yield _Token(c, start)
        else:
            raise TriggerError(f"unexpected character {c!r}", pos)


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = list(_tokens(text))
        self.index = 0
        self.last_was_call = False  # whether the term just read is a contains()/match() call

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def peek(self, ahead: int) -> _Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def take(self, kind: str, what: str) -> _Token:
        token = self.token
        if token.kind != kind:
            raise TriggerError(f"expected {what}", token.start)
        self.index += token.kind != "eof"
        return token

    def trigger(self) -> Predicate:
        if self.token.kind == "eof":
            raise TriggerError("empty trigger", 0)
        result = self.group(nested=False)
        self.take("eof", "'and', 'or' or the end of the trigger")
        return result

    def group(self, nested: bool) -> Predicate:
        terms = [self.term(nested)]
        connective: str | None = None
        while self.token.kind in ("and", "or"):
            if connective is not None and self.token.kind != connective:
                raise TriggerError(
                    "cannot mix 'and' and 'or' without parentheses", self.token.start
                )
            if nested and self.last_was_call:
                # Segment's parser would end the group at the call's own ')'.
                raise TriggerError(
                    "inside parentheses a function call must be the last condition",
                    self.token.start,
                )
            connective = self.take(self.token.kind, "").kind
            terms.append(self.term(nested))
        if connective is None:
            return terms[0]
        if connective == "and":
            return lambda event: all(term(event) for term in terms)
        return lambda event: any(term(event) for term in terms)

    def term(self, nested: bool) -> Predicate:
        token = self.token
        self.last_was_call = False
        if token.kind == "(":
            if nested:
                raise TriggerError("nested parentheses are not supported", token.start)
            self.index += 1
            if self.token.kind == ")":
                raise TriggerError("empty parentheses", token.start)
            inner = self.group(nested=True)
            self.take(")", "')'")
            return inner
        if token.kind == "!":
            self.index += 1
            if self.token.kind != "name" or self.peek(1).kind != "(":
                raise TriggerError("'!' can only negate contains(...) or match(...)", token.start)
            return self.call(negated=True)
        if token.kind == "name" and self.peek(1).kind == "(":
            return self.call(negated=False)
        if token.kind == "name":
            return self.comparison()
        raise TriggerError('expected a condition such as type = "track"', token.start)

    def field(self, token: _Token, allowed: tuple[str, ...]) -> tuple[str, ...]:
        parts: tuple[str, ...] = token.value
        head = parts[0]
        if any(key in _OBJECT_MEMBERS for key in parts[1:]):
            raise TriggerError("keys every JavaScript object has cannot be tested", token.start)
        if head in OBJECT_FIELDS and head in allowed and len(parts) > 1:
            return parts
        if head in SCALAR_FIELDS and head in allowed and len(parts) == 1:
            return parts
        raise TriggerError(f"unknown or incomplete field '{'.'.join(parts)}'", token.start)

    def comparison(self) -> Predicate:
        name = self.take("name", "a field")
        parts = self.field(name, SCALAR_FIELDS + OBJECT_FIELDS)
        op_token = self.take("op", "an operator (=, !=, <, <=, >, >=)")
        op = op_token.value
        literal = self.token
        if literal.kind not in ("string", "number", "true", "false", "null"):
            raise TriggerError(
                f"expected a string, number, true, false or null after '{op}'", literal.start
            )
        self.index += 1
        head, kind = parts[0], literal.kind
        # The forms whose meaning in Segment differs from how they read are refused.
        if op in ("<", "<=", ">", ">="):
            if head in SCALAR_FIELDS or kind != "number":
                raise TriggerError(f"'{op}' compares a number field with a number", op_token.start)
        elif head in ("type", "event") and kind != "string":
            raise TriggerError(f"'{head}' can only be compared with a string", literal.start)
        elif head in ("name", "userId") and kind not in ("string", "null"):
            raise TriggerError(
                f"'{head}' can only be compared with a string or null", literal.start
            )
        elif op == "!=" and kind in ("true", "false"):
            raise TriggerError(f"'!= {kind}' does not work in Segment", op_token.start)
        value = _getter(parts)
        if kind == "null":
            return (lambda e: value(e) is None) if op == "=" else (lambda e: value(e) is not None)
        if kind in ("true", "false"):
            expected = kind == "true"
            return lambda e: value(e) is expected
        if kind == "string":
            text = literal.value
            return (lambda e: value(e) == text) if op == "=" else (lambda e: value(e) != text)
        compare, number = _NUMERIC[op], literal.value
        return lambda e: compare(value(e), number)

    def call(self, negated: bool) -> Predicate:
        name = self.take("name", "a function")
        function = ".".join(name.value)
        if function not in ("contains", "match"):
            raise TriggerError(f"unknown function '{function}'; known: contains, match", name.start)
        self.take("(", "'('")
        field_token = self.take("name", f"a field as the 1st argument of {function}()")
        parts = self.field(field_token, ("event", "name", "userId", *OBJECT_FIELDS))
        self.take(",", "','")
        text = self.take("string", f"a string as the 2nd argument of {function}()").value
        self.take(")", f"')' to close {function}()")
        if function == "contains":
            helper = fql.not_contains if negated else fql.contains
            argument = text
        elif text.count("*") == 1 and text.endswith("*"):
            helper, argument = (fql.not_starts_with if negated else fql.starts_with), text[:-1]
        elif text.count("*") == 1 and text.startswith("*"):
            helper, argument = (fql.not_ends_with if negated else fql.ends_with), text[1:]
        else:
            raise TriggerError('match() patterns are "prefix*" or "*suffix"', field_token.start)
        value = _getter(parts)
        self.last_was_call = True
        return lambda e: helper(value(e), argument)


def _getter(parts: tuple[str, ...]) -> Callable[[Mapping[str, Any]], object]:
    if len(parts) == 1:
        head = parts[0]
        return lambda event: event.get(head)
    return lambda event: fql.get(event, parts)


def parse(text: str) -> Predicate:
    """A predicate over events for the trigger `text`, or TriggerError naming the column."""
    if not isinstance(text, str):
        raise TriggerError("a trigger must be a string", 0)
    return _Parser(text).trigger()
