"""YAML loading that remembers where every value came from.

PyYAML's composer gives a node tree with positions; we build plain Python data from it and keep
a side table from each value's path (a tuple of keys and indexes) to its location. Duplicate keys
are errors here, never last-one-wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from actionspec.diagnostics import Diagnostics, Location

PathKey = tuple[str | int, ...]


@dataclass
class LocatedDocument:
    """Plain data plus the location of every value (and of every mapping key)."""

    file: str
    data: Any
    value_locations: dict[PathKey, Location] = field(default_factory=dict)
    key_locations: dict[PathKey, Location] = field(default_factory=dict)
    # Quote style of scalars ('"', "'", None for plain, '|' or '>' for blocks): lets errors
    # inside a string (a trigger's syntax error) point at the exact column.
    scalar_styles: dict[PathKey, str | None] = field(default_factory=dict)

    def locate(self, path: PathKey, *, key: bool = False) -> Location:
        """Where `path` is; falls back to the nearest located ancestor."""
        table = self.key_locations if key else self.value_locations
        probe = tuple(path)
        while probe:
            if probe in table:
                return table[probe]
            if probe in self.value_locations:
                return self.value_locations[probe]
            probe = probe[:-1]
        return self.value_locations.get((), Location(self.file, 1, 1))

    def locate_in_string(self, path: PathKey, offset: int) -> Location:
        """Where character `offset` of the single-line string at `path` is."""
        start = self.locate(path)
        style = self.scalar_styles.get(path)
        if path not in self.value_locations or style in ("|", ">"):
            return start
        return Location(start.file, start.line, start.column + offset + (1 if style else 0))


def _loc(file: str, node: yaml.Node) -> Location:
    return Location(file, node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self, file: str, diagnostics: Diagnostics) -> None:
        self.file = file
        self.diagnostics = diagnostics
        self.doc = LocatedDocument(file, None)
        # A plain SafeLoader constructor turns scalar nodes into ints, bools, dates...
        self._scalars = yaml.SafeLoader("")

    def build(self, node: yaml.Node, path: PathKey) -> Any:
        self.doc.value_locations[path] = _loc(self.file, node)
        if isinstance(node, yaml.MappingNode):
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                # Checked before constructing: SafeLoader cannot construct a bare `<<` key.
                if key_node.tag == "tag:yaml.org,2002:merge":
                    self.diagnostics.add(
                        _loc(self.file, key_node),
                        "YAML merge keys (<<) are not supported",
                        "repeat the keys, or reuse a whole value with an anchor (&name) and alias (*name)",
                    )
                    continue
                if not isinstance(key_node, yaml.ScalarNode):
                    self.diagnostics.add(
                        _loc(self.file, key_node),
                        "a mapping key must be a plain value, not a list or object",
                    )
                    continue
                key = self._scalars.construct_object(key_node)
                if not isinstance(key, str):
                    key = str(key)
                if key in result:
                    first = self.doc.key_locations[(*path, key)]
                    self.diagnostics.add(
                        _loc(self.file, key_node),
                        f"duplicate key '{key}' (first defined at line {first.line})",
                        "remove or rename one of them; duplicate keys are never merged",
                    )
                    continue
                self.doc.key_locations[(*path, key)] = _loc(self.file, key_node)
                result[key] = self.build(value_node, (*path, key))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        self.doc.scalar_styles[path] = getattr(node, "style", None)
        value = self._scalars.construct_object(node)
        # Dates and times stay strings: specs and examples compare them as text.
        if not isinstance(value, str | int | float | bool | type(None)):
            value = str(node.value)
        return value


def _syntax_message(exc: yaml.MarkedYAMLError) -> str:
    """PyYAML's problem, with its context ("while parsing a flow sequence") and where that began."""
    problem, context = exc.problem or "", exc.context or ""
    if not problem:
        return context or str(exc)
    if not context:
        return problem
    if problem.startswith(
        "but "
    ):  # "expected a single document in the stream, but found another document"
        return f"{context}, {problem}"
    mark = exc.context_mark
    started = ""
    if (
        mark is not None
        and exc.problem_mark is not None
        and (mark.line, mark.column) != (exc.problem_mark.line, exc.problem_mark.column)
    ):
        started = f" started at line {mark.line + 1}, column {mark.column + 1}"
    return f"{problem} ({context}{started})"


def _syntax_hint(exc: yaml.MarkedYAMLError) -> str:
    problem = exc.problem or ""
    if "'\\t'" in problem:
        return "indent with spaces: YAML does not allow tabs there"
    if "another document" in problem:
        return "one spec per file: remove the `---` and what follows, or move it to its own file"
    return ""


def load_yaml(text: str, file: str, diagnostics: Diagnostics) -> LocatedDocument | None:
    """Parse one YAML document; syntax and duplicate-key problems go to `diagnostics`."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        location = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
        diagnostics.add(location, f"YAML syntax: {_syntax_message(exc)}", _syntax_hint(exc))
        return None
    except yaml.YAMLError as exc:  # e.g. several documents in one file
        diagnostics.add(Location(file, 1, 1), f"YAML: {exc}")
        return None
    if node is None:
        diagnostics.add(Location(file, 1, 1), "the file is empty", "run `actionspec new NAME`")
        return None
    builder = _Builder(file, diagnostics)
    builder.doc.data = builder.build(node, ())
    return builder.doc


def load_file(
    path: Path, diagnostics: Diagnostics, display: str | None = None
) -> LocatedDocument | None:
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        diagnostics.add(Location(name), f"cannot read the file: {exc}")
        return None
    return load_yaml(text, name, diagnostics)
