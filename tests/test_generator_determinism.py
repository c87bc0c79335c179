"""Generation is deterministic: the same specs give byte-identical trees whatever the hash seed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from conftest import CLAY_SPEC, KITCHEN_SINK_SPECS

SEEDS = ("0", "1", "12345")
PYPROJECT = """\
[tool.actionspec]
specs = "specs"
output = "generated"
package = "determinism_pkg"
distribution = "determinism-pkg"
version = "0.1.0"
"""


def _project(folder: Path) -> Path:
    (folder / "specs").mkdir(parents=True)
    shutil.copy(KITCHEN_SINK_SPECS / "kitchen_sink.yaml", folder / "specs" / "kitchen_sink.yaml")
    shutil.copy(CLAY_SPEC, folder / "specs" / "clay.yaml")
    (folder / "pyproject.toml").write_text(PYPROJECT, "utf-8")
    return folder


def _generate(folder: Path, seed: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "actionspec.cli", "--root", str(folder), "-q", "generate"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_generated_tree_is_identical_for_every_hash_seed(tmp_path: Path) -> None:
    projects = [_project(tmp_path / f"seed-{seed}") for seed in SEEDS]
    with ThreadPoolExecutor(len(SEEDS)) as pool:
        results = list(pool.map(_generate, projects, SEEDS))
    for seed, result in zip(SEEDS, results, strict=True):
        assert result.returncode == 0, f"PYTHONHASHSEED={seed}:\n{result.stdout}\n{result.stderr}"
    trees = [_tree(project / "generated") for project in projects]
    assert len(trees[0]) > 20
    assert any(name.startswith("determinism_pkg/clay/") for name in trees[0])
    assert any(name.startswith("determinism_pkg/kitchen_sink/") for name in trees[0])
    for seed, tree in zip(SEEDS[1:], trees[1:], strict=True):
        assert set(tree) == set(trees[0]), f"file sets differ between seeds 0 and {seed}"
        differing = sorted(name for name in tree if tree[name] != trees[0][name])
        assert not differing, f"PYTHONHASHSEED=0 and {seed} generate different bytes in {differing}"


def test_generated_files_do_not_name_the_project_folder(tmp_path: Path) -> None:
    """Generated text must not depend on where the project is (temporary folders differ)."""
    project = _project(tmp_path / "somewhere")
    result = _generate(project, "0")
    assert result.returncode == 0, result.stderr
    for name, data in _tree(project / "generated").items():
        assert str(tmp_path).encode() not in data, f"{name} names the project folder {tmp_path}"
