"""Shared helpers of the generator tests: generate a package into a folder, import it, clean up."""

from __future__ import annotations

import importlib
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import settings

from actionspec.config import Config
from actionspec.generate import load_specs, plan, render_files, write

# Property tests draw the same examples on every run, so a run fails only on a change: CI is
# never red on a draw no run made before. `nox -s fuzz` explores: fresh random draws, and more
# of them (ACTIONSPEC_EXPLORE=1); what it finds becomes a fix and, where useful, a pinned case.
EXPLORE = os.environ.get("ACTIONSPEC_EXPLORE") == "1"
settings.register_profile("fixed", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile("explore" if EXPLORE else "fixed")

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
KITCHEN_SINK_SPECS = TESTS / "specs" / "kitchen_sink"
KITCHEN_SINK_GOLDEN = TESTS / "golden" / "kitchen_sink"
KITCHEN_SINK_PACKAGE = "kitchen_sink_pkg"
CLAY_SPEC = REPO / "specs" / "clay.yaml"


def ordered(value: Any) -> Any:
    """A comparable form of JSON that keeps dict key order: `==` on it also compares order."""
    if isinstance(value, dict):
        return [("{}", [(k, ordered(v)) for k, v in value.items()])]
    if isinstance(value, list):
        return [ordered(v) for v in value]
    return value


def make_config(root: Path, specs_dir: Path, package: str, output: Path | None = None) -> Config:
    return Config(
        root=root,
        specs=specs_dir,
        output=output or root / "out",
        package=package,
        distribution=package.replace("_", "-"),
        version="0.1.0",
    )


def generate_into(
    tmp_path: Path, specs_dir: Path, package: str = "pkgname", *, root: Path | None = None
) -> Path:
    """Generate the package of the specs in `specs_dir` into `tmp_path/out`; return that folder.

    The project root is `tmp_path` unless `root` is given; generated files name their spec
    relative to it (pass root=REPO to get `tests/specs/...` instead of an absolute path).
    """
    output = tmp_path / "out"
    config = make_config(root or tmp_path, specs_dir, package, output)
    files = render_files(config, load_specs(config))
    write(config.output, files, plan(config.output, files))
    return output


def _forget(package: str) -> None:
    for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        del sys.modules[name]


@contextmanager
def imported(out_dir: Path, package: str) -> Iterator[ModuleType]:
    """Import `package` from `out_dir`; afterwards sys.path and sys.modules are as before."""
    _forget(package)
    sys.path.insert(0, str(out_dir))
    importlib.invalidate_caches()
    try:
        yield importlib.import_module(package)
    finally:
        sys.path.remove(str(out_dir))
        _forget(package)


@pytest.fixture
def import_generated() -> Iterator[Callable[[Path, str], ModuleType]]:
    """`import_generated(out_dir, package)` -> the imported package; forgotten when the test ends.

    Use a package name of your own per test (not `destinations`): modules stay in sys.modules
    until teardown so that lazily imported destinations can still load.
    """
    with ExitStack() as stack:
        yield lambda out_dir, package: stack.enter_context(imported(out_dir, package))


@pytest.fixture(scope="module")
def package() -> Iterator[ModuleType]:
    """The committed generated package, `destinations` (imported from generated/)."""
    sys.path.insert(0, str(REPO / "generated"))
    try:
        yield importlib.import_module("destinations")
    finally:
        sys.path.remove(str(REPO / "generated"))


@pytest.fixture(scope="session")
def kitchen_sink_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The kitchen sink package generated once per session (as in the golden tree).

    Treat the folder as read-only; copy it before changing anything.
    """
    return generate_into(
        tmp_path_factory.mktemp("kitchen-sink"), KITCHEN_SINK_SPECS, KITCHEN_SINK_PACKAGE, root=REPO
    )


# --- shared by tests/delivery and tests/cluster -------------------------------------------------


@pytest.fixture(scope="session")
def delivery_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The catalog (Clay, Loops, CleverTap) plus the synthetic `relay` (rate-limited) and `bulk`
    (batching through a registered collector) destinations, generated once per session."""
    from delivery.harness import SPECS, TEST_PACKAGE

    root = tmp_path_factory.mktemp("delivery-package")
    specs = root / "specs"
    specs.mkdir()
    catalog = (CLAY_SPEC, REPO / "specs" / "loops.yaml", REPO / "specs" / "clevertap.yaml")
    for spec in (*catalog, SPECS / "relay.yaml", SPECS / "bulk.yaml"):
        shutil.copy(spec, specs)
    return generate_into(root, specs, TEST_PACKAGE)


@pytest.fixture
def fake() -> Iterator[Any]:
    """The fake destination APIs (`delivery/fake_destination.py`), serving for one test."""
    from delivery.conftest import CLEVERTAP_ACCOUNT, SECRETS
    from delivery.fake_destination import FakeDestination

    server = FakeDestination(
        SECRETS["CLAY_SECRET_KEY"],
        SECRETS["RELAY_API_KEY"],
        SECRETS["BULK_PASSCODE"],
        loops_key=SECRETS["LOOPS_API_KEY"],
        clevertap_account=(CLEVERTAP_ACCOUNT, SECRETS["CLEVERTAP_PASSCODE"]),
    )
    server.start()
    yield server
    server.stop()


class Figures:
    """(test, figure, value) rows a test folder prints in the terminal summary."""

    def __init__(self, title: str, width: int) -> None:
        self.title, self.width = title, width
        self.rows: list[tuple[str, str, Any]] = []

    def report(self, test: str, **figures: Any) -> None:
        self.rows.extend((test, name, value) for name, value in figures.items())

    def print(self, terminalreporter: Any) -> None:
        if not self.rows:
            return
        terminalreporter.section(self.title)
        for test, name, value in self.rows:
            shown = f"{value:.2f}" if isinstance(value, float) else str(value)
            terminalreporter.write_line(f"{test:28} {name:{self.width}} {shown}")
