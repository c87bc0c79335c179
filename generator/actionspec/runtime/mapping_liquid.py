"""@liquid: Liquid templates with Segment's restrictions, rendered by python-liquid.

Segment renders @liquid with liquidjs, limited to 1000 characters and without the tags and filters
below (no loops, no includes). actionspec uses the maintained PyPI engine `python-liquid` with the
same limits; it is an optional dependency of the generated package (the `liquid` extra), imported
only when a @liquid mapping runs. python-liquid follows Shopify's Liquid where liquidjs differs
(numbers print as Python does, `divided_by` on integers rounds down), and it lacks some liquidjs
filters (`json`, `slugify`, ...): those are reported as unknown filters.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any, Final

from .jsvalues import utf16_length

LENGTH_LIMIT: Final = 1000  # characters (UTF-16 units) of one template
DISABLED_TAGS: Final = frozenset({"case", "for", "include", "layout", "render", "tablerow"})
DISABLED_FILTERS: Final = frozenset(
    {
        "array_to_sentence_string", "concat", "find", "find_exp", "find_index", "find_index_exp",
        "group_by", "group_by_exp", "has", "has_exp", "map", "newline_to_br", "reject",
        "reject_exp", "reverse", "sort", "sort_natural", "uniq", "where_exp", "type",
    }
)  # fmt: skip
# python-liquid tags and filters that liquidjs does not have (Segment would reject them).
_NOT_IN_LIQUIDJS: Final = frozenset(
    {"ifchanged", "doc", "base64_url_safe_decode", "base64_url_safe_encode", "escapejs", "safe"}
)
_SIZE_LIMIT: Final = 1_000_000  # characters of output and of assigned variables


class LiquidError(ValueError):
    """A template that is too long, does not parse, uses a disabled feature or fails to render."""


@functools.cache
def _environment() -> Any:
    try:
        liquid = importlib.import_module("liquid")
    except ImportError:
        raise LiquidError(
            "@liquid needs the python-liquid package: install this package's 'liquid' extra "
            "(pip install 'python-liquid>=2,<3')"
        ) from None

    class Restricted(liquid.Environment):  # type: ignore[misc,name-defined]
        output_stream_limit = _SIZE_LIMIT
        local_namespace_limit = _SIZE_LIMIT

    environment = Restricted()
    for name in DISABLED_TAGS | _NOT_IN_LIQUIDJS:
        environment.tags.pop(name, None)
    for name in DISABLED_FILTERS | _NOT_IN_LIQUIDJS:
        environment.filters.pop(name, None)
    return environment


def _first_line(error: Exception) -> str:
    message = getattr(error, "message", None) or str(error)
    return str(message).splitlines()[0]


@functools.lru_cache(maxsize=256)
def _parse(source: str) -> Any:
    if utf16_length(source) > LENGTH_LIMIT:
        raise LiquidError(f"a template is limited to {LENGTH_LIMIT} characters")
    environment = _environment()
    try:
        template = environment.from_string(source)
        unknown = sorted(set(template.analyze().filters) - set(environment.filters))
    except Exception as exc:  # python-liquid's syntax errors
        raise LiquidError(_disabled_hint(_first_line(exc))) from None
    if unknown:
        name = unknown[0]
        reason = "disabled (as in Segment)" if name in DISABLED_FILTERS else "unknown"
        raise LiquidError(f"filter '{name}' is {reason}")
    return template


def _disabled_hint(message: str) -> str:
    for tag in sorted(DISABLED_TAGS):
        if f"unexpected tag '{tag}'" in message:
            return f"tag '{tag}' is disabled (as in Segment)"
    return message


def problem(source: str) -> str | None:
    """Why `source` cannot be used as a @liquid template, or None (for checks)."""
    try:
        _parse(source)
    except LiquidError as exc:
        return str(exc)
    return None


def render(source: str, data: Any) -> str:
    """The template rendered with the fields of `data` as its variables."""
    if source == "":
        return ""
    template = _parse(source)
    try:
        return str(template.render(**data) if isinstance(data, dict) else template.render())
    except Exception as exc:  # python-liquid's render errors (bad filter arguments, limits)
        raise LiquidError(_first_line(exc)) from None
