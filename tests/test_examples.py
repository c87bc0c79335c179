"""Every worked example of every spec in specs/ runs as a test against the generated package.

An example with `action` runs that action with its default mapping; without it the event is routed
through the destination's presets. Expected requests are compared on method, url, the headers the
example lists (a subset check, header names case-insensitive), the JSON body including key order,
and the action when given; an expected error on its type name, field and message (when given).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import ordered

ROOT = Path(__file__).resolve().parents[1]
SPECS = sorted(ROOT.joinpath("specs").glob("*.y*ml"))


def _examples() -> Iterator[Any]:
    for path in SPECS:
        spec = yaml.safe_load(path.read_text("utf-8"))
        for number, example in enumerate(spec.get("examples") or [], start=1):
            name = example.get("name", f"example {number}")
            yield pytest.param(spec["slug"], example, id=f"{path.stem}:{number}:{name}")


@pytest.fixture(scope="module")
def package() -> Iterator[Any]:
    generated = str(ROOT / "generated")
    sys.path.insert(0, generated)
    try:
        yield importlib.import_module("destinations")
    finally:
        sys.path.remove(generated)


def run_example(package: Any, slug: str, example: dict[str, Any]) -> list[Any]:
    dest = package.get(slug)
    if example.get("action"):
        return list(dest.action(example["action"]).requests(example["event"], example["settings"]))
    return list(dest.route(example["event"], example["settings"]))


def check_requests(actual: list[Any], expected: list[dict[str, Any]]) -> None:
    assert len(actual) == len(expected), [r.to_dict() for r in actual]
    for got, want in zip(actual, expected, strict=True):
        assert got.method == want["method"]
        assert got.url == want["url"]
        if "action" in want:
            assert got.action == want["action"]
        headers = {k.lower(): v for k, v in got.headers.items()}
        for name, value in (want.get("headers") or {}).items():
            assert headers.get(name.lower()) == value, f"header {name}"
        if "json" in want:
            assert ordered(got.json) == ordered(want["json"])


def check_error(exc: BaseException, expected: dict[str, Any]) -> None:
    assert type(exc).__name__ == expected["type"], exc
    if "field" in expected:
        assert getattr(exc, "field", None) == expected["field"]
    if "message" in expected:
        assert getattr(exc, "message", str(exc)) == expected["message"]


def test_specs_have_examples() -> None:
    assert SPECS, "no spec in specs/"
    assert list(_examples())


@pytest.mark.parametrize(("slug", "example"), list(_examples()))
def test_example(package: Any, slug: str, example: dict[str, Any]) -> None:
    if "error" in example:
        with pytest.raises((package.DestinationError, package.PayloadValidationError)) as caught:
            run_example(package, slug, example)
        check_error(caught.value, example["error"])
    else:
        check_requests(run_example(package, slug, example), example["requests"])


# --- the runner itself -------------------------------------------------------------------------


class _FakeRequest:
    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def test_runner_detects_key_order_and_header_differences() -> None:
    got = [
        _FakeRequest(
            method="POST",
            url="u",
            action="a",
            headers={"Authorization": "x"},
            json={"a": 1, "b": 2},
        )
    ]
    check_requests(
        got,
        [
            {
                "method": "POST",
                "url": "u",
                "headers": {"authorization": "x"},
                "json": {"a": 1, "b": 2},
            }
        ],
    )
    with pytest.raises(AssertionError):
        check_requests(got, [{"method": "POST", "url": "u", "json": {"b": 2, "a": 1}}])
    with pytest.raises(AssertionError):
        check_requests(got, [{"method": "POST", "url": "u", "headers": {"Authorization": "y"}}])
    with pytest.raises(AssertionError):
        check_requests(got, [{"method": "POST", "url": "u", "action": "b"}])
    with pytest.raises(AssertionError):
        check_requests(got, [])
