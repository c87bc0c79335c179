"""The mapping language: the reference interpreter (the definition of its meaning).

A mapping is JSON-like data. Plain objects and arrays are evaluated item by item; an object with
exactly one key starting with `@` is a directive. A result of MISSING ("undefined" in Segment's
mapping-kit) drops the key it was assigned to; `None` is kept. Generated code compiles spec
mappings into straight-line Python that must give the same results; this interpreter runs
mappings that only exist at run time (a workspace's own mappings).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final


class _Missing:
    """The single "no value" marker (JavaScript's undefined)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Missing()

_PATH_PART = re.compile(r"\[(\d+)\]|\.?([^.\[\]]+)")


def parse_path(path: str) -> tuple[str | int, ...]:
    """`$.context.page.url` -> ("context", "page", "url"); `a[0].b` -> ("a", 0, "b")."""
    text = path.strip()
    offset = len(path) - len(path.lstrip())  # errors count characters of the path as written
    if text.startswith("$."):
        text = text[2:]
        offset += 2
    elif text == "$":
        return ()
    parts: list[str | int] = []
    position = 0
    while position < len(text):
        match = _PATH_PART.match(text, position)
        if match is None or match.end() == position:
            raise ValueError(f"invalid path {path!r} at character {position + offset + 1}")
        index, name = match.groups()
        parts.append(int(index) if index is not None else name)
        position = match.end()
    return tuple(parts)


def get_path(data: Any, parts: tuple[str | int, ...]) -> Any:
    """The value at `parts` inside `data`, or MISSING."""
    value = data
    for part in parts:
        if isinstance(value, dict):
            value = value.get(part, MISSING) if isinstance(part, str) else MISSING
        elif isinstance(value, list) and isinstance(part, int):
            value = value[part] if part < len(value) else MISSING
        else:
            return MISSING
    return value


def defined(value: Any) -> Any:
    """MISSING inside a list becomes null, as JSON.stringify does with undefined."""
    return None if value is MISSING else value


def template_text(value: Any) -> str:
    """How a value prints inside a @template (JavaScript String() of JSON values)."""
    if value is MISSING or value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict):
        return "[object Object]"
    if isinstance(value, list):
        return ",".join("" if v is None else template_text(v) for v in value)
    return str(value)


_TEMPLATE_SLOT = re.compile(r"{{\s*([^{}]*?)\s*}}")


def render_template(template: str, data: Any) -> str:
    """`{{a.b}}` is replaced by the value at that path; a missing value becomes ""."""
    return _TEMPLATE_SLOT.sub(
        lambda m: template_text(get_path(data, parse_path(m.group(1)))), template
    )


def is_directive(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)).startswith("@")


def _is_blank(value: Any) -> bool:
    return value is MISSING or value is None or value == ""


def evaluate(mapping: Any, data: Any) -> Any:
    """Evaluate `mapping` against `data` (an event, or a {payload, settings} context)."""
    if isinstance(mapping, dict):
        if is_directive(mapping):
            name, argument = next(iter(mapping.items()))
            return _DIRECTIVES[name](argument, data)
        result: dict[str, Any] = {}
        for key, sub in mapping.items():
            value = evaluate(sub, data)
            if value is not MISSING:
                result[key] = value
        return result
    if isinstance(mapping, list):
        return [None if (v := evaluate(item, data)) is MISSING else v for item in mapping]
    return mapping


def _path(argument: Any, data: Any) -> Any:
    return get_path(data, parse_path(argument))


def _literal(argument: Any, data: Any) -> Any:
    return argument


def _template(argument: Any, data: Any) -> Any:
    return render_template(argument, data)


def _if(argument: Mapping[str, Any], data: Any) -> Any:
    if "exists" in argument:
        value = evaluate(argument["exists"], data)
        condition = value is not MISSING and value is not None
    else:
        condition = _is_blank(evaluate(argument["blank"], data))
    branch = "then" if condition else "else"
    if branch not in argument:
        return MISSING
    return evaluate(argument[branch], data)


def _merge(argument: Mapping[str, Any], data: Any) -> Any:
    objects = [evaluate(item, data) for item in argument["objects"]]
    dicts = [o for o in objects if isinstance(o, dict)]
    if argument.get("direction", "right") == "left":
        dicts.reverse()
    result: dict[str, Any] = {}
    for item in dicts:
        result.update(item)
    return result


_DIRECTIVES: Final[dict[str, Any]] = {
    "@path": _path,
    "@literal": _literal,
    "@template": _template,
    "@if": _if,
    "@merge": _merge,
}

DIRECTIVES: Final = frozenset(_DIRECTIVES)
