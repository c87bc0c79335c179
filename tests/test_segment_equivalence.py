"""Our generated destinations against what Segment's published code did (tests/segment_reference).

Every Clay case and every `probe` case of cases.jsonl runs through our runtime and is compared with
expected.jsonl (recorded by tools/segment_reference from Segment's npm packages): method, URL, the
authorization and content-type headers, and the JSON body including key order; for errors, the
error class (PayloadValidationError / SettingsError) and Segment's exact message.

`probe` cases use a synthetic Segment definition (tools/segment_reference/probe-definition.cjs);
tests/specs/probe/probe.yaml is the same definition as a spec, generated here into a temporary
package `probe_pkg`.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "segment_reference"
PROBE_SPECS = ROOT / "tests" / "specs" / "probe"
OURS = {"clay", "probe"}


def _load(name: str) -> list[dict[str, Any]]:
    with open(REFERENCE / name, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


CASES = [c for c in _load("cases.jsonl") if c["destination"] in OURS]
EXPECTED = {e["case"]: e for e in _load("expected.jsonl")}

# Cases whose difference from Segment is deliberate or cannot be reproduced: id -> reason.
XFAIL: dict[str, str] = {}


def _skip_reason(case: dict[str, Any]) -> str | None:
    if case["action"].startswith("__"):
        return f"{case['action']} needs an HTTP response (the runtime builds requests, it sends nothing)"
    if "response" in case:
        return "needs an HTTP response (the runtime builds requests, it sends nothing)"
    if case.get("validateSettings") is False:
        return "Segment ran it without settings validation; ours always validates settings"
    return None


def _params() -> Iterator[Any]:
    for case in CASES:
        marks: list[Any] = []
        reason = _skip_reason(case)
        if reason:
            marks.append(pytest.mark.skip(reason=reason))
        elif case["id"] in XFAIL:
            marks.append(pytest.mark.xfail(reason=XFAIL[case["id"]], strict=True))
        yield pytest.param(case, id=case["id"], marks=marks)


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`clay` from generated/, `probe` from probe.yaml generated into a temporary folder."""
    from actionspec import generate
    from actionspec.config import Config

    out = tmp_path_factory.mktemp("probe_out")
    config = Config(
        root=ROOT,
        specs=PROBE_SPECS,
        output=out,
        package="probe_pkg",
        distribution="probe_pkg",
        version="0.0.0",
    )
    files = generate.render_files(config, generate.load_specs(config))
    generate.write(out, files, generate.plan(out, files))
    added = [str(ROOT / "generated"), str(out)]
    sys.path[:0] = added
    try:
        destinations = importlib.import_module("destinations")
        probe_pkg = importlib.import_module("probe_pkg")
        yield {
            "clay": (destinations, destinations.get("clay")),
            "probe": (probe_pkg, probe_pkg.get("probe")),
        }
    finally:
        for entry in added:
            sys.path.remove(entry)


def ordered(value: Any) -> Any:
    """A comparable form that keeps dict key order (lists of items, recursively)."""
    if isinstance(value, dict):
        return [("{}", [(k, ordered(v)) for k, v in value.items()])]
    if isinstance(value, list):
        return [ordered(v) for v in value]
    return value


def _header(headers: dict[str, str], name: str) -> str | None:
    found = [v for k, v in headers.items() if k.lower() == name]
    return found[0] if found else None


def run_case(packages: dict[str, Any], case: dict[str, Any]) -> tuple[str, Any]:
    """("requests", [...]) or ("error", {"type", "message"}) for a case, from our runtime."""
    package, dest = packages[case["destination"]]
    action = dest.actions[case["action"]]
    mapping: Callable[[Any], Any] | None = None
    if "mapping" in case:
        evaluate = importlib.import_module(package.__name__ + "._runtime.mapping").evaluate
        spec = case["mapping"]

        def mapping(event: Any) -> Any:
            return evaluate(spec, event)

    try:
        requests = action.requests(case["event"], case["settings"], mapping=mapping)
    except (package.PayloadValidationError, package.SettingsError) as exc:
        return "error", {"type": type(exc).__name__, "message": exc.message}
    return "requests", [
        {
            "method": r.method,
            "url": r.url,
            "authorization": _header(r.headers, "authorization"),
            "content-type": _header(r.headers, "content-type"),
            "json": ordered(r.json),
        }
        for r in requests
    ]


def expected_result(case: dict[str, Any]) -> tuple[str, Any]:
    expected = EXPECTED[case["id"]]
    if "error" in expected:
        error = expected["error"]
        assert error["type"] == "AggregateAjvError", error
        # Settings validation errors carry status 400; payload errors have no status.
        kind = "SettingsError" if error.get("status") == 400 else "PayloadValidationError"
        return "error", {"type": kind, "message": error["message"]}
    return "requests", [
        {
            "method": r["method"],
            "url": r["url"],
            "authorization": r["headers"].get("authorization"),
            "content-type": r["headers"].get("content-type"),
            "json": ordered(r["json"]),
        }
        for r in expected["requests"]
    ]


@pytest.mark.parametrize("case", list(_params()))
def test_matches_segment(packages: dict[str, Any], case: dict[str, Any]) -> None:
    assert run_case(packages, case) == expected_result(case)


def test_every_clay_and_probe_case_is_covered() -> None:
    assert sum(c["destination"] == "clay" for c in CASES) == 83
    assert sum(c["destination"] == "probe" for c in CASES) == 101
    assert all(c["id"] in EXPECTED for c in CASES)
    assert not set(XFAIL) - {c["id"] for c in CASES}
