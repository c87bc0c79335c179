"""Compile the generated package's hot modules with mypyc: the same code as C extensions.

The generated package is plain Python that passes `mypy --strict`, so mypyc (part of mypy) can
compile it unchanged. Compiled are the modules an event goes through: each destination's module
(compiled mappings, payload and body functions, triggers) and the runtime they call (mapping,
payload, core, request building). The rest (CLI, HTTP service, queues) stays Python; it waits on
I/O, not on the CPU. Nothing in `generated/` changes: the compiled tree is written elsewhere, and
`nox -s bench` and the tests build it to measure and check it.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

# The runtime modules on the path of an event (`_runtime/<name>.py`).
RUNTIME_MODULES = ("jsvalues", "mapping", "payload", "request_builder", "event_json", "core")


class AccelerateError(RuntimeError):
    """mypyc is missing or could not compile the package (the message says what to do)."""


def modules(package: Path) -> list[Path]:
    """The modules of `package` to compile, relative to its parent folder."""
    found = [package / "_runtime" / f"{name}.py" for name in RUNTIME_MODULES]
    found += sorted(p for p in package.glob("*/__init__.py") if p.parent.name != "_runtime")
    missing = [p for p in found if not p.is_file()]
    if missing:
        raise AccelerateError(f"not a generated package: {missing[0]} is missing")
    return [p.relative_to(package.parent) for p in found]


def accelerate(package: Path, out: Path, say: Callable[[str], None] = lambda _: None) -> Path:
    """Copy `package` into `out` (replacing an earlier copy) and compile its hot modules there.

    Returns `out`, the folder to put on `sys.path` (it also holds mypyc's shared library).
    """
    if importlib.util.find_spec("mypyc") is None:  # (not imported here: mypy is large)
        raise AccelerateError("mypyc is part of mypy: pip install 'actionspec[accelerate]'")
    target = out / package.name
    if target.resolve().is_relative_to(package.resolve()):
        raise AccelerateError(
            f"--out {out} would overwrite the package itself: choose another folder"
        )
    out.mkdir(parents=True, exist_ok=True)
    if target.exists():
        shutil.rmtree(target)
    own_build = not (out / "build").exists()  # mypyc's intermediate C files go to out/build
    shutil.copytree(package, target, ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    files = [str(m) for m in modules(target)]
    say(f"compiling {len(files)} modules with mypyc (about 20 s) into {out}")
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "mypyc", *files],
        cwd=out,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
        raise AccelerateError(f"mypyc failed (a C compiler and Python headers are needed):\n{tail}")
    if own_build:  # (a build folder that was there before is someone else's)
        shutil.rmtree(out / "build", ignore_errors=True)
    say(f"compiled in {time.perf_counter() - started:.0f} s")
    return out
