"""Turning names from specs into safe, unique Python identifiers (done once, in the IR)."""

from __future__ import annotations

import builtins
import keyword
import re
import unicodedata

_RESERVED = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins))


def _ascii_words(name: str) -> list[str]:
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", text)
    return [w for w in re.split(r"[^A-Za-z0-9]+", text) if w]


def snake(name: str) -> str:
    """`pageVisit` -> `page_visit`, `a-b` -> `a_b`, `1st` -> `n_1st`, `class` -> `class_`."""
    words = _ascii_words(name)
    result = "_".join(w.lower() for w in words) or "x"
    if result[0].isdigit():
        result = f"n_{result}"
    if result in _RESERVED or result.startswith("__"):
        result += "_"
    return result


def pascal(name: str) -> str:
    """`pageVisit` -> `PageVisit`, `1st` -> `N1st`."""
    result = "".join(w[:1].upper() + w[1:] for w in _ascii_words(name)) or "X"
    if result[0].isdigit():
        result = f"N{result}"
    return result


class UniqueNames:
    """Hands out names, suffixing `_2`, `_3`... when two spec names make the same identifier.

    PascalCase names (class names) get `2`, `3`... instead: a class name keeps no underscore,
    which is also how datamodel-code-generator names the model classes it writes.
    """

    def __init__(self, taken: set[str] | None = None) -> None:
        self._taken = set(taken or ())

    def claim(self, candidate: str) -> str:
        separator = "" if candidate[:1].isupper() and "_" not in candidate else "_"
        name, n = candidate, 1
        while name in self._taken:
            n += 1
            name = f"{candidate}{separator}{n}"
        self._taken.add(name)
        return name
