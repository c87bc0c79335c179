"""A small located YAML reader: plain data plus the line and column of every key and value.

Errors in a workspace file are reported as `file:line:column: error: message`, like spec errors,
so the reader keeps where each value was written. PyYAML is imported lazily: it is an optional
dependency of the package (the `serve` extra).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# A place in the data: the keys and list indexes leading to a value, e.g. ("sources", "web").
DataPath = tuple[str | int, ...]


@dataclass
class LocatedDocument:
    """The data of a YAML file and where each part of it was written (1-based positions)."""

    file: str
    data: Any
    values: dict[DataPath, tuple[int, int]] = field(default_factory=dict)
    keys: dict[DataPath, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: DataPath, key: bool = False) -> str:
        """`file:line:column` of the value at `path` (or of its key), else of its nearest parent."""
        table = self.keys if key and path in self.keys else self.values
        while path and path not in table:
            path = path[:-1]
        line, column = table.get(path, (1, 1))
        return f"{self.file}:{line}:{column}"


class LocatedYAMLError(ValueError):
    """The text is not YAML this reader accepts; the message starts with `file:line:column`."""


def _yaml() -> Any:
    try:
        import yaml
    except ImportError:  # pragma: no cover - depends on the installation
        raise LocatedYAMLError(
            "reading a workspace file needs PyYAML: pip install 'destinations[serve]'"
        ) from None
    return yaml


def load(text: str, file: str) -> LocatedDocument:
    """Parse one YAML document; duplicate keys and non-string keys are errors."""
    yaml = _yaml()
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark else file
        raise LocatedYAMLError(f"{where}: error: invalid YAML: {exc.problem}") from None
    document = LocatedDocument(file, None)
    if node is None:
        return document
    constructor = yaml.SafeLoader("")
    document.data = _convert(node, (), document, constructor, yaml)
    return document


def _position(node: Any) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _convert(node: Any, path: DataPath, doc: LocatedDocument, constructor: Any, yaml: Any) -> Any:
    doc.values[path] = _position(node)
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = constructor.construct_object(key_node)
            line, column = _position(key_node)
            if not isinstance(key, str):
                raise LocatedYAMLError(f"{doc.file}:{line}:{column}: error: keys must be text")
            if key in result:
                raise LocatedYAMLError(f"{doc.file}:{line}:{column}: error: duplicate key '{key}'")
            doc.keys[(*path, key)] = (line, column)
            result[key] = _convert(value_node, (*path, key), doc, constructor, yaml)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _convert(item, (*path, index), doc, constructor, yaml)
            for index, item in enumerate(node.value)
        ]
    return constructor.construct_object(node)
