"""The mapping interpreter against Segment's mapping-kit (tests/fixtures/mapping_reference.jsonl).

The fixture is recorded by tools/mapping_reference from @segment/actions-core 3.170.0. Per case:
- Segment gave a value (or none): `check` accepts the mapping and `evaluate` gives the same value,
  key order included;
- Segment threw: `check` reports a problem, or `evaluate` raises MappingError;
- marked `actionspec_rejects`: `check` reports a problem (Segment's result does not matter);
- marked `actionspec_differs`: `evaluate` gives something else than Segment, on purpose (the
  spec reference lists these differences); the test fails if the difference goes away unnoticed.
Every case `check` accepts is also compiled, and the compiled function must agree with `evaluate`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from actionspec.languages.mapping import problems
from actionspec.languages.mapping_compiler import compile_function
from actionspec.runtime import mapping as runtime_mapping
from actionspec.runtime.mapping import MISSING, MappingError, evaluate

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "mapping_reference.jsonl"


def _load() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    with open(FIXTURE, encoding="utf-8") as handle:
        header, *cases = [json.loads(line) for line in handle if line.strip()]
    return header["default_event"], cases


DEFAULT_EVENT, CASES = _load()


def comparable(value: Any) -> Any:
    """A form that compares key order and tells true from 1 (1 and 1.0 are one JavaScript number)."""
    if isinstance(value, dict):
        return ("object", [(k, comparable(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("array", [comparable(v) for v in value])
    if isinstance(value, bool) or value is None or value is MISSING:
        return repr(value)
    if isinstance(value, int | float):
        return ("number", float(value))
    return ("string", value)


def segment_result(case: dict[str, Any]) -> Any:
    return MISSING if case.get("missing") else case["output"]


def outcome(function: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "value", comparable(function())
    except MappingError as exc:
        return "error", str(exc)


def compiled(mapping: Any) -> Callable[[Mapping[str, Any]], Any]:
    source = compile_function("mapped", mapping)
    namespace: dict[str, Any] = {"_m": runtime_mapping, "Any": Any, "Mapping": Mapping}
    exec(source, namespace)
    function: Callable[[Mapping[str, Any]], Any] = namespace["mapped"]
    return function


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_interpreter_matches_segment(case: dict[str, Any]) -> None:
    mapping, event = case["mapping"], case.get("event", DEFAULT_EVENT)
    found = problems(mapping)
    if "actionspec_rejects" in case:
        assert found, f"check should refuse it: {case['actionspec_rejects']}"
        return
    if "error" in case and "actionspec_differs" in case:  # Segment throws, actionspec does not
        assert not found
        evaluate(mapping, event)
        return
    if "error" in case:
        if not found:
            with pytest.raises(MappingError):
                evaluate(mapping, event)
        return
    assert not found, f"check refuses a mapping Segment accepts: {found}"
    ours = outcome(lambda: evaluate(mapping, event))
    expected = ("value", comparable(segment_result(case)))
    if "actionspec_differs" in case:
        assert ours != expected, f"no longer differs: {case['actionspec_differs']}"
    else:
        assert ours == expected


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_compiled_matches_interpreter(case: dict[str, Any]) -> None:
    mapping, event = case["mapping"], case.get("event", DEFAULT_EVENT)
    if problems(mapping):
        with pytest.raises(ValueError, match="malformed mapping"):
            compile_function("mapped", mapping)
        return
    function = compiled(mapping)
    assert outcome(lambda: function(event)) == outcome(lambda: evaluate(mapping, event))


def test_the_fixture_covers_every_segment_directive() -> None:
    segment_directives = {
        "@path", "@template", "@literal", "@if", "@case", "@replace", "@arrayPath", "@json",
        "@flatten", "@merge", "@transform", "@excludeWhenNull", "@liquid",
    }  # fmt: skip
    assert segment_directives <= runtime_mapping.DIRECTIVES
    used = {c["id"].split(".")[0] for c in CASES}
    assert {d.lstrip("@") for d in segment_directives} <= used
    assert len(CASES) > 200
