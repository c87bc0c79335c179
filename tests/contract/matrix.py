"""The coverage matrix: destination x action x property, with example counts.

Contract tests count their examples here; the terminal summary (see conftest.py) prints it.
A cell reads `examples/accepted` (how many generated events the property saw, and how many of
them the action accepted), `FAIL` when the test failed, `-` when the property does not apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PROPERTIES = (
    "crash",
    "realistic",
    "paths",
    "schemas",
    "openapi",
    "presets",
    "invariants",
    "secrets",
    "json",
)
Row = tuple[str, str, str]  # (target, destination slug, action key)


@dataclass
class Cell:
    examples: int = 0
    accepted: int = 0
    failed: bool = False
    note: str = ""


@dataclass
class Matrix:
    cells: dict[tuple[Row, str], Cell] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    by_node: dict[str, list[tuple[Row, str]]] = field(default_factory=dict)

    def add_row(self, row: Row) -> None:
        if row not in self.rows:
            self.rows.append(row)

    def cell(self, row: Row, prop: str, node_id: str = "") -> Cell:
        self.add_row(row)
        found = self.cells.setdefault((row, prop), Cell())
        if node_id:
            keys = self.by_node.setdefault(node_id, [])
            if (row, prop) not in keys:
                keys.append((row, prop))
        return found

    def count(self, row: Row, prop: str, accepted: bool) -> None:
        found = self.cell(row, prop)
        found.examples += 1
        found.accepted += accepted

    def mark_failed(self, node_id: str) -> None:
        for row, prop in self.by_node.get(node_id, []):
            self.cells[row, prop].failed = True

    def render(self) -> list[str]:
        header = ["destination", "action", *PROPERTIES]
        table = [header]
        for target, slug, action in self.rows:
            name = slug if target == "specs" else f"{target}:{slug}"
            line = [name, action]
            for prop in PROPERTIES:
                cell = self.cells.get(((target, slug, action), prop))
                if cell is None:
                    line.append("-")
                elif cell.failed:
                    line.append("FAIL")
                else:
                    line.append(cell.note or f"{cell.examples}/{cell.accepted}")
            table.append(line)
        widths = [max(len(r[i]) for r in table) for i in range(len(header))]
        return ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in table]


MATRIX = Matrix()
