"""Rewrite tests/golden/kitchen_sink/ from tests/specs/kitchen_sink/ (run after intended changes).

    .venv/bin/python tests/update_golden.py

The tree is the package generated with the import name `kitchen_sink_pkg`, exactly as
tests/test_generator_golden.py generates it; review `git diff tests/golden` before committing.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from actionspec.config import Config
from actionspec.generate import load_specs, plan, render_files, write

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
SPECS = TESTS / "specs" / "kitchen_sink"
GOLDEN = TESTS / "golden" / "kitchen_sink"
PACKAGE = "kitchen_sink_pkg"


def golden_config(output: Path) -> Config:
    # The root is the repository, so generated files name tests/specs/kitchen_sink/kitchen_sink.yaml.
    return Config(
        root=REPO,
        specs=SPECS,
        output=output,
        package=PACKAGE,
        distribution="kitchen-sink-pkg",
        version="0.1.0",
    )


def render_golden() -> dict[str, str]:
    """The golden tree as it should be: relative path -> text."""
    with tempfile.TemporaryDirectory() as tmp:
        config = golden_config(Path(tmp) / "out")
        return render_files(config, load_specs(config))


def golden_view(files: dict[str, str]) -> dict[str, str]:
    """What the golden tree holds: everything but the runtime modules, which are copied verbatim
    from generator/actionspec/runtime/ (the drift check already compares generated/ with them)."""
    runtime = f"{PACKAGE}/_runtime/"
    return {name: text for name, text in files.items() if not name.startswith(runtime)}


def golden_files(folder: Path = GOLDEN) -> dict[str, bytes]:
    """The committed tree: relative path -> bytes."""
    if not folder.is_dir():
        return {}
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def main() -> int:
    files = golden_view(render_golden())
    changes = plan(GOLDEN, files)
    write(GOLDEN, files, changes)  # also removes files that are no longer generated
    for change in changes:
        print(f"  {change.kind:8} {change.path}")
    print(f"{GOLDEN.relative_to(REPO)}/: {len(changes)} file(s) changed, {len(files)} in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
