"""The run-time trigger parser (workspace mappings) accepts a subset of the generator's trigger
language: whatever it accepts, the generator accepts too and matches the same events, and
Segment's recorded verdicts agree. It still accepts the common forms."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actionspec.languages import triggers as reference
from destinations._runtime import trigger

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "fql_reference.jsonl"
RECORDS = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
LINES = [record for record in RECORDS if "trigger" in record]  # (others are metadata)


def _reference_accepts(text: str) -> bool:
    try:
        reference.parse(text)
    except reference.TriggerSyntaxError:
        return False
    return True


def _runtime_accepts(text: str) -> bool:
    try:
        trigger.parse(text)
    except trigger.TriggerError:
        return False
    return True


@pytest.mark.parametrize("line", LINES, ids=[f"line{i + 1}" for i in range(len(LINES))])
def test_a_subset_of_the_generator_that_agrees_with_segment(line: dict[str, Any]) -> None:
    text = line["trigger"]
    if not _runtime_accepts(text):
        return
    assert _reference_accepts(text), "accepted at run time but refused by the generator"
    predicate = trigger.parse(text)
    assert predicate(line["event"]) == reference.evaluate(reference.parse(text), line["event"])
    if "matches" in line:
        assert predicate(line["event"]) is line["matches"]


def test_the_common_forms_are_accepted() -> None:
    """Most triggers Segment users write (without `not`, backslashes, object members) parse."""
    plain = [
        line["trigger"]
        for line in LINES
        if _reference_accepts(line["trigger"])
        and "\\" not in line["trigger"]
        and "not" not in line["trigger"].split()
        and "not(" not in line["trigger"]
    ]
    accepted = [text for text in plain if _runtime_accepts(text)]
    assert len(plain) > 100
    assert len(accepted) / len(plain) >= 0.9, sorted(set(plain) - set(accepted))[:10]


# Texts assembled from FQL's pieces, valid or not, to find any disagreement in acceptance.
_PIECES = st.sampled_from(
    [
        "type",
        "event",
        "name",
        "userId",
        "properties.plan",
        "traits.age",
        "context.ip",
        "properties",
        "=",
        "!=",
        "<",
        ">=",
        '"track"',
        '"a*"',
        '"*b"',
        "1",
        "-2.5",
        "true",
        "null",
        "and",
        "or",
        "(",
        ")",
        "!",
        "contains(",
        "match(",
        ",",
        " ",
        "\\and",
        "'x'",
    ]
)
_EVENTS = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["track", "identify"]),
        "event": st.sampled_from(["a1", "xb", "track"]),
        "userId": st.sampled_from(["track", None]),
        "properties": st.fixed_dictionaries(
            {},
            optional={
                "plan": st.one_of(st.none(), st.integers(-3, 3), st.sampled_from(["a*", "pro"]))
            },
        ),
        "traits": st.fixed_dictionaries({}, optional={"age": st.integers(-3, 3)}),
    },
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, min_size=1, max_size=9).map(" ".join), _EVENTS)
def test_random_texts_agree_with_the_generator(text: str, event: dict[str, Any]) -> None:
    if _runtime_accepts(text):
        assert _reference_accepts(text), text
        assert trigger.parse(text)(event) == reference.evaluate(reference.parse(text), event)


def test_error_names_the_column() -> None:
    with pytest.raises(trigger.TriggerError) as caught:
        trigger.parse('type = "track" and event = 1')
    assert caught.value.column == 28
