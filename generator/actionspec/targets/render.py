"""The Jinja environment shared by the targets. Spec values reach Python only through `py`."""

from __future__ import annotations

import functools
import json
from typing import Any

import jinja2


def py(value: Any) -> str:
    """A Python literal for a JSON-like value (repr escapes quotes, backslashes, newlines)."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        raise ValueError(f"{value} cannot be written as a literal")
    if isinstance(value, tuple):
        return pytuple(value)
    return repr(value)


def pytuple(values: Any) -> str:
    items = [py(v) for v in values]
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def md(text: Any) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip()


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("actionspec", "templates"),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )
    env.filters.update(
        py=py, pytuple=pytuple, md=md, tojson=lambda v: json.dumps(v, ensure_ascii=False)
    )
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
