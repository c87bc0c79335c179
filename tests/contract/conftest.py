"""Contract suite set-up: which specs it covers, their generated packages, the matrix printout.

Covered by default: every spec in `specs/` (against the committed `generated/` package) and the
hostile-name specs `tests/specs/kitchen_sink` and `tests/specs/probe` (generated once per run
into a temporary folder). `ACTIONSPEC_CONTRACT_SPECS=dir[:dir...]` adds spec folders;
with `ACTIONSPEC_CONTRACT_ONLY=1` only those run. `ACTIONSPEC_CONTRACT_EXAMPLES` sets the
hypothesis examples per property (default 60).
"""

from __future__ import annotations

import importlib
import importlib.resources
import json
import os
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from actionspec import ir
from actionspec.generate import load_specs
from conftest import KITCHEN_SINK_SPECS, REPO, TESTS, generate_into, imported, make_config
from contract.matrix import MATRIX, Row

EXAMPLES = int(os.environ.get("ACTIONSPEC_CONTRACT_EXAMPLES", "60"))


@dataclass
class Target:
    """A folder of specs and the generated package the suite runs them against."""

    name: str
    specs: Path
    package: str
    committed: bool = False  # True: the committed generated/ package (importable as is)
    destinations: list[ir.Destination] = field(default_factory=list)


def _targets() -> list[Target]:
    found: list[Target] = []
    if os.environ.get("ACTIONSPEC_CONTRACT_ONLY") != "1":
        found += [
            Target("specs", REPO / "specs", "destinations", committed=True),
            Target("kitchen_sink", KITCHEN_SINK_SPECS, "contract_kitchen_sink"),
            Target("probe", TESTS / "specs" / "probe", "contract_probe"),
        ]
    extra = os.environ.get("ACTIONSPEC_CONTRACT_SPECS", "")
    for i, folder in enumerate(p for p in extra.split(os.pathsep) if p):
        found.append(Target(f"extra{i + 1}", Path(folder).resolve(), f"contract_extra_{i + 1}"))
    for target in found:
        config = make_config(REPO, target.specs, target.package)
        target.destinations = load_specs(config)  # a broken spec fails collection, located
    return found


TARGETS = _targets()


@dataclass
class Subject:
    """One action of one destination: its spec (IR) and its generated code."""

    target: Target
    dest: ir.Destination
    action: ir.Action | None  # None: the destination as a whole
    package: ModuleType

    @property
    def row(self) -> Row:
        return (self.target.name, self.dest.slug, self.action.key if self.action else "*")

    @property
    def runtime(self) -> Any:
        return self.package.get(self.dest.slug)

    @property
    def runtime_action(self) -> Any:
        assert self.action is not None
        return self.runtime.actions[self.action.key]

    def resource(self, *parts: str) -> Any:
        folder = importlib.resources.files(self.package.__name__).joinpath(self.dest.module)
        return json.loads(folder.joinpath(*parts).read_text("utf-8"))


# Problems the suite found in the hostile test specs, kept visible: each must still fail
# (strict xfail), so a fix shows up. (spec folder, destination, action, property) -> why.
KNOWN_ISSUES = {
    ("kitchen_sink", "kitchen-sink", "1st", "openapi"): (
        "the optional field 'from' fills a URL path segment: without it the request goes to"
        " /first/, which is not the described DELETE /first/{from}"
    ),
}


def expect_known_issue(request: pytest.FixtureRequest, subject: Subject, prop: str) -> None:
    key = (subject.target.specs.name, subject.dest.slug, subject.row[2], prop)
    if key in KNOWN_ISSUES:
        MATRIX.cell(subject.row, prop).note = "KNOWN"
        request.applymarker(pytest.mark.xfail(reason=KNOWN_ISSUES[key], strict=True))


def subject_params(kind: str) -> list[Any]:
    """pytest params over every action (`kind="action"`) or destination (`"destination"`)."""
    params = []
    for target in TARGETS:
        prefix = "" if target.name == "specs" else f"{target.name}:"
        for dest in target.destinations:
            if kind == "destination":
                params.append(pytest.param((target, dest, None), id=f"{prefix}{dest.slug}"))
                continue
            for action in dest.actions:
                params.append(
                    pytest.param((target, dest, action), id=f"{prefix}{dest.slug}/{action.key}")
                )
    return params


@pytest.fixture(scope="session")
def contract_packages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ModuleType]]:
    """Each target's generated package by target name, imported (generated on first use)."""
    with ExitStack() as stack:

        class Packages(dict[str, ModuleType]):
            def __missing__(self, name: str) -> ModuleType:
                target = next(t for t in TARGETS if t.name == name)
                if target.committed:
                    module = importlib.import_module(target.package)
                else:
                    folder = tmp_path_factory.mktemp(target.name)
                    out = generate_into(folder, target.specs, target.package, root=REPO)
                    module = stack.enter_context(imported(out, target.package))
                self[name] = module
                return module

        yield Packages()


@pytest.fixture
def subject(request: pytest.FixtureRequest, contract_packages: dict[str, ModuleType]) -> Subject:
    target, dest, action = request.param
    return Subject(target, dest, action, contract_packages[target.name])


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.failed:
        MATRIX.mark_failed(report.nodeid)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not MATRIX.rows:
        return
    terminalreporter.section("contract matrix (examples/accepted per property)")
    for line in MATRIX.render():
        terminalreporter.write_line(line)
    terminalreporter.write_line(
        "examples: generated events a property checked; accepted: how many the action turned"
        " into requests; FAIL: the property failed; -: does not apply."
    )
