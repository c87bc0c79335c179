"""Triggers against Segment itself: every verdict recorded from @segment/destination-subscriptions.

tests/fixtures/fql_reference.jsonl is written by tools/fql_reference/record.mjs (see its header
for the kinds of line). The interpreter and the compiled expression must reproduce every
verdict of a trigger actionspec accepts, reject what Segment cannot parse or reads differently,
and give extensions the meaning the recorder derived from Segment's verdicts on plain triggers.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path as FilePath
from typing import Any

import pytest

from actionspec.languages import triggers
from actionspec.languages.triggers import TriggerSyntaxError, compile_expression, evaluate, parse
from actionspec.runtime import fql

FIXTURE = FilePath(__file__).parent / "fixtures" / "fql_reference.jsonl"
LINES = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
CASES = [line for line in LINES if "trigger" in line]
(MEMBERS,) = [line["javascript_members"] for line in LINES if "javascript_members" in line]


def kind(line: dict[str, Any]) -> str:
    if "extension" in line:
        return "extension"
    if "actionspec_rejects" in line:
        return "rejected"
    return "error" if line.get("error") else "accepted"


def run_compiled(trigger: triggers.Trigger, event: dict[str, Any]) -> bool:
    function = eval(f"lambda event: {compile_expression(trigger)}", {"_fql": fql})
    result = function(event)
    assert isinstance(result, bool)
    return result


def test_fixture_covers_every_kind_of_case() -> None:
    kinds = Counter(kind(line) for line in CASES)
    assert kinds["accepted"] >= 300 and kinds["error"] >= 15
    assert kinds["rejected"] >= 50 and kinds["extension"] >= 30
    accepted = [line for line in CASES if kind(line) == "accepted"]
    assert {line["matches"] for line in accepted} == {True, False}
    extensions = {line["extension"] for line in CASES if kind(line) == "extension"}
    assert extensions == {"not", "nested parentheses", "quote in a string"}


@pytest.mark.parametrize("line", CASES, ids=[f"line{i + 1}" for i in range(len(CASES))])
def test_agrees_with_segment(line: dict[str, Any]) -> None:
    text = line["trigger"]
    if kind(line) in ("error", "rejected"):
        # Segment cannot parse it, or reads it differently from how it looks: refuse it.
        with pytest.raises(TriggerSyntaxError):
            parse(text)
        return
    expected = line["expected"] if kind(line) == "extension" else line["matches"]
    trigger = parse(text)
    assert evaluate(trigger, line["event"]) is expected
    assert run_compiled(trigger, line["event"]) is expected
    assert parse(triggers.to_text(trigger)) == trigger


def test_extensions_are_where_segment_differs() -> None:
    """Each extension trigger is rejected or read differently by Segment on some event."""
    by_trigger: dict[str, list[dict[str, Any]]] = {}
    for line in CASES:
        if kind(line) == "extension":
            by_trigger.setdefault(line["trigger"], []).append(line)
    differing = {
        text
        for text, lines in by_trigger.items()
        if any(line["segment"] in ("error", (not line["expected"])) for line in lines)
    }
    # `not not x` is the one extension Segment happens to read right (it skips both words).
    assert set(by_trigger) - differing == {'not not type = "track"'}


def test_guide_examples_are_segments_verdicts() -> None:
    """The documented examples that are not extensions were run through Segment too."""
    recorded = {
        (line["trigger"], json.dumps(line["event"], sort_keys=True)): line["matches"]
        for line in CASES
        if line.get("guide")
    }
    for entry in triggers.GUIDE:
        if "(extension)" in entry.form:
            continue
        for event, verdict in ((entry.matches, True), (entry.misses, False)):
            key = (entry.example, json.dumps(event, sort_keys=True))
            assert recorded.get(key) is verdict, (entry.form, event)


def test_runtime_knows_the_javascript_methods() -> None:
    """The built-in names a path can reach, as recorded from Node (see fql.BUILTIN)."""
    object_members = set(MEMBERS["object"])
    assert set(triggers.OBJECT_MEMBERS) == object_members
    modelled = object_members | {"length"}
    assert set(fql.STRING_METHODS) == set(MEMBERS["string"]) - modelled
    assert set(fql.ARRAY_METHODS) == set(MEMBERS["array"]) - modelled
    assert set(fql.NUMBER_METHODS) == set(MEMBERS["number"]) - modelled
    assert set(MEMBERS["boolean"]) <= object_members  # so `true.x` is always missing
