"""Loops through the real service: a retried event carries the same Idempotency-Key.

The fake Loops API records each event, then drops the connection before answering (the answer
is lost, as in a network failure). The service retries; the second request has the same key
(the event's messageId, as the Loops spec declares), so Loops answers 200 without recording the
event again. Contact updates carry no key: Loops upserts them.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from .conftest import SECRETS, report, with_catalog, workspace_data
from .fake_destination import FakeDestination
from .harness import (
    TEST_PACKAGE,
    Service,
    app_event,
    basic_auth,
    free_port,
    wait_until,
    write_workspace,
)


def test_a_retried_loops_event_is_sent_again_with_the_same_key(
    tmp_path: Path, delivery_package: Path, fake: FakeDestination
) -> None:
    port = free_port()
    data = with_catalog(workspace_data(fake.url, port), fake.url)
    del data["destinations"]["clevertap"]
    workspace = write_workspace(tmp_path / "workspace.yaml", data)
    service = Service(workspace, port, SECRETS, delivery_package, TEST_PACKAGE)
    fake.lose_first_answer = {"loops"}
    ids = [f"evt-{i}" for i in range(5)]
    service.start()
    try:
        answer = httpx.post(
            f"{service.url}/v1/batch",
            json={"batch": [app_event("track", i, user=f"u{n}") for n, i in enumerate(ids)]},
            headers=basic_auth(SECRETS["APP_WRITE_KEY"]),
        )
        assert answer.status_code == 200
        assert wait_until(lambda: service.metrics().get("queue_depth", 1) == 0, 30, 0.1)
        metrics = service.metrics()
    finally:
        service.terminate()

    route = fake.routes["loops"]
    sent_keys = [h.get("idempotency-key") for h in route.headers]
    assert sorted(sent_keys) == sorted(ids * 2)  # every event twice, with its messageId as key
    assert {k: route.idempotency_keys[k] for k in ids} == dict.fromkeys(ids, 2)
    assert {k: route.accepted[k] for k in ids} == dict.fromkeys(ids, 1)  # recorded once
    assert route.statuses["409"] == 0  # same key, same body
    assert metrics["delivery_retries_total"] >= len(ids)
    assert metrics["deliveries_total"] == len(ids) and metrics.get("dead_letters_total", 0) == 0
    report(
        "loops idempotency",
        events=len(ids),
        requests=len(route.arrivals),
        recorded_once=sum(route.accepted[k] == 1 for k in ids),
    )
