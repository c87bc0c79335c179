"""The generation pipeline: specs -> IR -> targets -> formatted files, written when changed."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from actionspec import hooks, ir
from actionspec.config import Config
from actionspec.diagnostics import Diagnostics, Location, SpecError
from actionspec.spec.loader import load_file
from actionspec.spec.validate import validate_document
from actionspec.targets import (
    code,
    docs,
    jsonschema,
    models,
    openapi,
    package,
    service_openapi,
    spec_reference,
)

Progress = Callable[[str], None]


class GenerationError(Exception):
    """Generated files could not be produced (not a problem of the specs)."""


_IGNORED_PARTS = {"__pycache__", ".mypy_cache", ".ruff_cache", "dist", "build", ".pytest_cache"}


def spec_files(config: Config) -> list[Path]:
    return sorted(config.specs.glob("*.yaml")) + sorted(config.specs.glob("*.yml"))


def display(path: Path, config: Config) -> str:
    try:
        return path.relative_to(config.root).as_posix()
    except ValueError:
        return path.as_posix()


def spec_path(config: Config, dest: ir.Destination) -> Path:
    """The spec file a destination was read from (`dest.source` is shown relative to the root)."""
    path = Path(dest.source)
    return path if path.is_absolute() else config.root / path


def _read_hooks(path: Path) -> str | None:
    return path.read_text("utf-8") if path.is_file() else None


def sync_hook_stubs(config: Config, destinations: list[ir.Destination], write: bool) -> list[Path]:
    """Append stubs for declared hooks a hooks module lacks; the modules changed (or to change)."""
    changed: list[Path] = []
    for dest in destinations:
        path = hooks.hooks_path(spec_path(config, dest))
        text = _checked(path, functools.partial(hooks.missing_stubs, dest), config)
        if text is not None:
            changed.append(path)
            if write:  # the user's file: written whole or not at all
                temporary = path.with_name(f".{path.name}.tmp")
                temporary.write_text(text, "utf-8")
                os.replace(temporary, path)
    return changed


def _checked(path: Path, use: Callable[[str | None], Any], config: Config) -> Any:
    """`use(source of the hooks module)`, a located SpecError when the module does not parse."""
    try:
        return use(_read_hooks(path))
    except hooks.HooksSyntaxError as exc:
        problems = Diagnostics()
        problems.add(
            Location(display(path, config), exc.line, exc.column),
            f"hooks module does not parse: {exc.message}",
            "fix the Python syntax; actionspec reads it to find the hooks already written",
        )
        raise SpecError(problems.sorted()) from None


def load_specs(
    config: Config, progress: Progress | None = None, require_hooks: bool = False
) -> list[ir.Destination]:
    """Validate every spec and build the IR; SpecError carries every problem found."""
    problems = Diagnostics()
    destinations: list[ir.Destination] = []
    files = spec_files(config)
    if not files:
        problems.add(
            Location(display(config.specs, config)),
            "no spec files (*.yaml) found",
            "create one with `actionspec new NAME`",
        )
    for path in files:
        shown = display(path, config)
        if progress:
            progress(f"checking {shown}")
        found = Diagnostics()
        doc = load_file(path, found, shown)
        if doc is not None:
            found.extend(validate_document(doc))
        problems.extend(found)
        if doc is not None and not found:
            dest = ir.build(doc.data, shown)
            destinations.append(dest)
            if require_hooks:  # `actionspec validate`: a declared hook must be written
                module = hooks.hooks_path(path)
                missing = _checked(module, functools.partial(hooks.unimplemented, dest), config)
                for hook in missing:
                    problems.add(
                        doc.locate(("actions", hook.action.key, "hooks", hook.point), key=True),
                        f"hook '{hook.point}' of action '{hook.action.key}' is not implemented",
                        f"write {hook.function}() in {display(module, config)} "
                        "(`actionspec generate` adds a stub)",
                    )
    seen: dict[str, str] = {}
    for dest in destinations:
        for name in (dest.slug, dest.module):
            if name in seen and seen[name] != dest.source:
                problems.add(
                    Location(dest.source),
                    f"slug '{dest.slug}' clashes with {seen[name]}",
                    "every destination needs its own slug",
                )
            seen[name] = dest.source
    if problems:
        raise SpecError(problems.sorted())
    return destinations


def render_files(
    config: Config, destinations: list[ir.Destination], progress: Progress | None = None
) -> dict[str, str]:
    """Every generated file, relative to the output folder, formatted."""
    pkg = config.package
    files: dict[str, str] = {}
    for dest in destinations:
        if progress:
            progress(f"generating {dest.slug}")
        files.update(jsonschema.generate(dest, pkg))
        files.update(models.generate_files(dest, pkg))
        files.update(code.generate(dest, pkg))
        files.update(openapi.generate(dest, pkg))
        files.update(docs.generate(dest))
        if hooks.declared(dest):  # the hand-written hooks module, stubs added in memory if missing
            module = hooks.hooks_path(spec_path(config, dest))
            source = _read_hooks(module)
            stubbed = _checked(module, functools.partial(hooks.missing_stubs, dest), config)
            text = stubbed or source or ""
            banner = (
                f"# Generated by actionspec: a copy of {display(module, config)}, written by hand; "
                "edit that file.\n"
            )
            files[f"{pkg}/{dest.module}/hooks.py"] = banner + text
    files.update(package.generate(config, destinations))
    files.update(service_openapi.generate(config, destinations))
    files.update(spec_reference.generate())
    return format_python(files)


def format_python(files: dict[str, str]) -> dict[str, str]:
    """`ruff check --fix-only` then `ruff format` on the generated Python, with its own config."""
    python = {name: text for name, text in files.items() if name.endswith(".py")}
    with tempfile.TemporaryDirectory(prefix="actionspec-") as tmp:
        folder = Path(tmp)
        (folder / "pyproject.toml").write_text(files["pyproject.toml"], "utf-8")
        for name, text in python.items():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, "utf-8")
        ruff = [sys.executable, "-m", "ruff"]
        env = {**os.environ, "RUFF_NO_CACHE": "true"}
        for command in (
            ["check", "--fix-only", "--quiet", "--exit-zero", "."],
            ["format", "--quiet", "."],
        ):
            result = subprocess.run(
                [*ruff, *command], cwd=folder, env=env, capture_output=True, text=True
            )
            if result.returncode != 0:
                raise GenerationError(
                    f"`ruff {command[0]}` failed on the generated code; this is a bug in actionspec "
                    f"(a spec value that a template does not escape?):\n{result.stderr.strip()}"
                )
        return {**files, **{name: (folder / name).read_text("utf-8") for name in python}}


@dataclass(frozen=True)
class Change:
    path: str
    kind: str  # "new", "changed" or "removed"


def _existing_files(output: Path) -> set[str]:
    if not output.is_dir():
        return set()
    found = set()
    for path in output.rglob("*"):
        relative = path.relative_to(output)
        if (
            path.is_file()
            and not (_IGNORED_PARTS & set(relative.parts))
            and not relative.parts[0].endswith(".egg-info")
        ):
            found.add(relative.as_posix())
    return found


def plan(output: Path, files: dict[str, str]) -> list[Change]:
    """What writing `files` into `output` would change."""
    changes = []
    for name, text in sorted(files.items()):
        target = output / name
        if not target.exists():
            changes.append(Change(name, "new"))
        elif target.read_bytes() != text.encode("utf-8"):
            changes.append(Change(name, "changed"))
    for name in sorted(_existing_files(output) - set(files)):
        changes.append(Change(name, "removed"))
    return changes


def write(output: Path, files: dict[str, str], changes: list[Change]) -> None:
    """Apply `changes`: each file is written to a temporary file and renamed into place."""
    for change in changes:
        target = output / change.path
        if change.kind == "removed":
            target.unlink()
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(files[change.path].encode("utf-8"))
        os.replace(tmp, target)
    for folder in sorted((p for p in output.rglob("*") if p.is_dir()), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
