"""Project configuration: `[tool.actionspec]` in the root pyproject.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Config:
    root: Path
    specs: Path
    output: Path
    package: str  # import name of the generated package
    distribution: str  # its distribution (pip) name
    version: str

    @property
    def package_dir(self) -> Path:
        return self.output / self.package


def find_root(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and "[tool.actionspec]" in candidate.read_text("utf-8"):
            return folder
    return None


def load(start: Path | None = None, **overrides: str | None) -> Config:
    start = (start or Path.cwd()).resolve()
    root = find_root(start) or start
    table: dict[str, str] = {}
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        table = tomllib.loads(pyproject.read_text("utf-8")).get("tool", {}).get("actionspec", {})
    values = {**table, **{k: v for k, v in overrides.items() if v is not None}}
    return Config(
        root=root,
        specs=(root / values.get("specs", "specs")).resolve(),
        output=(root / values.get("output", "generated")).resolve(),
        package=values.get("package", "destinations"),
        distribution=values.get("distribution", values.get("package", "destinations")),
        version=values.get("version", "0.1.0"),
    )
