"""Declared invariants (`actions.<key>.invariants`): validation, IR, and the checker itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from actionspec import ir
from actionspec.diagnostics import SpecError
from actionspec.generate import load_specs
from conftest import make_config
from contract.checks import invariant_problems, key_follows, values_at

SPEC = """\
spec_version: 1
name: Inv
slug: inv
description: Invariants.
settings: {}
base_url: https://api.example.com
actions:
  send:
    title: Send
    description: Send it.
    fields:
      data: {label: Data, type: object, default: {"@path": "$.properties"}}
    request:
      method: POST
      path: /e
      body: {d: [{evtData: {"@path": "$.payload.data"}}]}
    invariants:
INVARIANTS"""


def load(tmp_path: Path, invariants: str) -> list[ir.Destination]:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "inv.yaml").write_text(SPEC.replace("INVARIANTS", invariants), "utf-8")
    return load_specs(make_config(tmp_path, specs, "pkg"))


def problems(tmp_path: Path, invariants: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load(tmp_path, invariants)
    return [str(d) for d in caught.value.diagnostics]


def test_the_ir_carries_invariants(tmp_path: Path) -> None:
    dest = load(
        tmp_path,
        "      - {description: flat snake keys, in: body, path: '$.d[*].evtData',"
        " keys: snake_case, flat: true}\n"
        "      - {description: small, in: body, path: $.d, max_items: 1000}\n",
    )[0]
    first, second = dest.action("send").invariants
    assert first == ir.Invariant(
        "flat snake keys", "body", "$.d[*].evtData", ("d", None, "evtData"), "snake_case", True
    )
    assert (second.where, second.steps, second.max_items) == ("body", ("d",), 1000)


def test_bad_paths_are_reported_at_their_column(tmp_path: Path) -> None:
    found = problems(tmp_path, "      - {description: x, in: body, path: '$.d[x]', flat: true}\n")
    # line 18, the path string starts at column 42; the bad step `[x]` 3 characters in
    assert found[0].startswith("specs/inv.yaml:18:46: error: actions.send.invariants[0].path:")
    assert "steps are `.key`, `[n]` or `[*]`" in found[0]


def test_payload_paths_name_a_field(tmp_path: Path) -> None:
    found = problems(
        tmp_path, "      - {description: x, in: payload, path: $.dta, keys: lower_case}\n"
    )
    assert "the payload has no field 'dta'" in found[0] and "did you mean 'data'?" in found[0]


@pytest.mark.parametrize(
    ("invariant", "message"),
    [
        ("{description: x, in: body, path: $.d}", "promises nothing"),
        ("{description: x, in: wire, path: $.d, flat: true}", "'wire', which is not allowed"),
        ("{description: x, in: body, path: $.d, keys: camelCase}", "'camelCase'"),
        ("{description: x, in: body, path: $.d, max_items: -1}", "max_items"),
        ("{description: x, in: body, path: d, flat: true}", "starts with `$`"),
        ("{in: body, path: $.d, flat: true}", "missing the required key 'description'"),
    ],
)
def test_malformed_invariants_are_reported(tmp_path: Path, invariant: str, message: str) -> None:
    found = problems(tmp_path, f"      - {invariant}\n")
    assert any(message in line for line in found), found
    assert all(line.startswith("specs/inv.yaml:") for line in found)


def _invariant(**given: object) -> ir.Invariant:
    path = str(given.pop("path", "$.d[*].evtData"))
    return ir.Invariant(
        description="test",
        where="body",
        path=path,
        steps=ir.parse_invariant_path(path),
        **given,  # type: ignore[arg-type]
    )


def test_values_at_follows_wildcards_and_skips_absent_places() -> None:
    body = {"d": [{"evtData": {"a": 1}}, {"other": 1}, {"evtData": 2}], "x": [1]}
    found = list(values_at(body, ir.parse_invariant_path("$.d[*].evtData")))
    assert found == [("$.d[0].evtData", {"a": 1}), ("$.d[2].evtData", 2)]
    assert list(values_at(body, ir.parse_invariant_path("$.x[0]"))) == [("$.x[0]", 1)]
    assert list(values_at(body, ir.parse_invariant_path("$.missing[*].y"))) == []


@pytest.mark.parametrize(
    ("key", "snake", "lower"),
    [
        ("amount", True, True),
        ("order_id", True, True),
        ("ünïcode_2", True, True),
        ("Amount", False, False),
        ("orderId", False, False),
        ("order id", False, True),
        ("order__id", False, True),
        ("_order", False, True),
        ("order-id", False, True),
        ("", False, True),
    ],
)
def test_key_styles(key: str, snake: bool, lower: bool) -> None:
    assert key_follows("snake_case", key) is snake
    assert key_follows("lower_case", key) is lower


def test_the_checker_reports_each_broken_promise() -> None:
    body = {"d": [{"evtData": {"ok_key": 1, "BadKey": 2, "nested": {"a": 1}}}, {"evtData": "x"}]}
    found = invariant_problems(_invariant(keys="snake_case", flat=True), body)
    assert found == [
        "$.d[0].evtData: key 'BadKey' is not snake_case",
        "$.d[0].evtData: 'nested' holds a nested dict",
        "$.d[1].evtData is not an object",
    ]
    assert invariant_problems(_invariant(path="$.d", max_items=1), body) == [
        "$.d has 2 items, more than 1"
    ]
    assert invariant_problems(_invariant(path="$.d", max_items=2), body) == []
    assert invariant_problems(_invariant(path="$.nothing", flat=True), body) == []
