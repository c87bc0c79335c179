"""schemathesis against the preview service, in process, from its own OpenAPI description.

Positive and negative generation: no 5xx ever, every response conforms to the description
(status, content type, schema), bodies that break the description are rejected with 4xx.
An accepted event that the action then rejects field by field is a documented 422, so
positive cases may answer 200 or 422.

Two apps: the shipped `destinations` package (schemathesis' pytest integration, all phases:
the spec's worked examples, coverage and fuzzing) and the kitchen-sink package, whose action
keys need percent-encoding in paths (plain hypothesis over schemathesis' strategies: its
fixture-based loader does not run on this pytest).
"""

from __future__ import annotations

import collections
import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Config, GenerationMode

import destinations
from conftest import EXPLORE, KITCHEN_SINK_PACKAGE, imported
from destinations._runtime.preview_service import create_app

CONFIG = Config.from_dict(
    {
        "generation": {"max-examples": 25, "deterministic": not EXPLORE},
        "checks": {"positive_data_acceptance": {"expected-statuses": ["200", "422"]}},
    }
)
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(destinations), config=CONFIG)
STATUSES: collections.Counter[tuple[str, str, int]] = collections.Counter()


@schema.parametrize()
def test_destinations_service(case: schemathesis.Case[Any]) -> None:
    response = case.call_and_validate()
    mode = case.meta.generation.mode.value if case.meta else "explicit"
    STATUSES[case.operation.label, mode, response.status_code] += 1


@pytest.fixture(scope="module")
def kitchen_sink_schema(kitchen_sink_out: Path) -> Iterator[Any]:
    with imported(kitchen_sink_out, KITCHEN_SINK_PACKAGE) as package:
        service = importlib.import_module(f"{package.__name__}._runtime.preview_service")
        app = service.create_app(package)
        yield schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_kitchen_sink_service(kitchen_sink_schema: Any, mode: GenerationMode) -> None:
    operations = [result.ok() for result in kitchen_sink_schema.get_all_operations()]
    seen: collections.Counter[int] = collections.Counter()  # statuses of POST operations

    @settings(
        max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        operation = data.draw(st.sampled_from(operations))
        case = data.draw(operation.as_strategy(generation_mode=mode))
        response = case.call_and_validate()
        if operation.method.upper() == "POST":
            seen[response.status_code] += 1

    run()
    if mode == GenerationMode.NEGATIVE:
        assert seen and all(400 <= status < 500 for status in seen), seen
    else:
        assert seen[200], f"no positive case was accepted: {seen}"


def test_the_run_reached_every_answer() -> None:
    """The parametrized run above saw successes, field errors and rejected bodies."""
    if not STATUSES:
        pytest.skip("run together with test_destinations_service")
    statuses = {status for _, _, status in STATUSES}
    assert {200, 400, 422} <= statuses, STATUSES
    assert not any(status >= 500 for status in statuses)
