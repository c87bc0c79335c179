"""CleverTap through the real service: events in by `/v1/batch`, batches out to the fake API.

At the fake: no request over 1,000 records or 100 push tokens, never more than 15 requests in
flight (CleverTap's limits, from the spec), and the records of refused events reported in
`partial` answers dead-letter those events only, with CleverTap's code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def start(tmp_path: Path, package: Path, fake: FakeDestination, **clevertap: Any) -> Service:
    port = free_port()
    data = with_catalog(workspace_data(fake.url, port), fake.url, **clevertap)
    del data["destinations"]["loops"]  # CleverTap alone: the app's events go there only
    service = Service(
        write_workspace(tmp_path / "workspace.yaml", data), port, SECRETS, package, TEST_PACKAGE
    )
    service.start()
    return service


def send(service: Service, events: list[dict[str, Any]]) -> None:
    """One `/v1/batch` request (one queue transaction): the worker's next lease sees them all."""
    answer = httpx.post(
        f"{service.url}/v1/batch",
        json={"batch": events},
        headers=basic_auth(SECRETS["APP_WRITE_KEY"]),
        timeout=30,
    )
    assert answer.status_code == 200, answer.text


def dead_letters(service: Service) -> dict[str, list[str]]:
    listing = service.cli("dead-letters", "--workspace", str(service.workspace), "list")
    assert listing.returncode == 0, listing.stderr
    rows = [line.split("\t") for line in listing.stdout.splitlines()]
    return {fields[3]: fields for fields in rows}


def test_batches_within_limits_and_partial_failures_per_event(
    tmp_path: Path, delivery_package: Path, fake: FakeDestination
) -> None:
    # Refused records first, so that one answer lists many of them (longer than is kept).
    invalid = [app_event("track", f"bad{i}", properties={"invalid": True}) for i in range(30)]
    # A push token of a device type CleverTap does not know: the profile record goes through,
    # the token record is refused, so the event is not (fully) delivered.
    odd_token = app_event(
        "identify", "odd-token", context={"device": {"token": "tok-odd", "type": "blackberry"}}
    )
    tokens = [
        app_event(
            "identify",
            f"id{i}",
            user=f"u{i}",
            context={"device": {"token": f"tok-{i}", "type": "ios"}},
        )
        for i in range(250)
    ]
    tracks = [app_event("track", f"t{i}", user=f"u{i % 50}") for i in range(1200)]
    events = [*invalid, odd_token, *tokens, *tracks]
    service = start(tmp_path, delivery_package, fake)
    try:
        send(service, events)
        assert wait_until(lambda: service.metrics().get("queue_depth", 1) == 0, 60, 0.2)
        metrics = service.metrics()
        letters = dead_letters(service)
    finally:
        service.terminate()

    route = fake.routes["clevertap"]
    refused = {f"bad{i}" for i in range(30)} | {"odd-token"}
    expected = {e["messageId"] for e in events} - refused
    assert expected <= route.accepted.keys()
    assert {f"tok-{i}" for i in range(250)} <= route.accepted.keys()  # the push tokens
    assert "tok-odd" not in route.accepted
    assert fake.duplicates() == 0
    assert set(letters) == refused
    for message_id in refused:
        assert letters[message_id][1] == "clevertap"
        assert "code 512" in letters[message_id][5]
    assert "Invalid token type" in letters["odd-token"][5]
    # Batching happened, within CleverTap's limits: 1,732 records in a handful of requests (at
    # least three: the 251 identify calls carry a push token each).
    sizes = route.records_per_request
    tokens_per_request = [sum(r["type"] == "token" for r in body["d"]) for body in route.bodies]
    assert max(sizes) <= 1000 and max(tokens_per_request) <= 100
    assert len(sizes) <= 10 and max(sizes) >= 500
    assert route.statuses.keys() == {"200"} and route.rate_limited == 0
    report(
        "clevertap batches",
        events=len(events),
        records=sum(sizes),
        requests=len(sizes),
        max_records_per_request=max(sizes),
        max_tokens_per_request=max(tokens_per_request),
        dead_lettered=int(metrics["dead_letters_total"]),
    )


def test_never_more_than_15_requests_in_flight(
    tmp_path: Path, delivery_package: Path, fake: FakeDestination
) -> None:
    fake.latency_seconds = 0.3  # requests overlap: 60 small batches would all be in flight
    service = start(tmp_path, delivery_package, fake, batch_size=10)
    try:
        send(service, [app_event("track", f"c{i}", user=f"u{i}") for i in range(600)])
        assert wait_until(lambda: len(fake.routes["clevertap"].accepted) >= 600, 30, 0.1)
    finally:
        service.terminate()
    route = fake.routes["clevertap"]
    assert max(route.records_per_request) <= 10
    assert route.max_in_flight <= 15 and route.rate_limited == 0
    assert route.max_in_flight >= 12  # the limit is what held it back, not a lack of work
    report("clevertap concurrency", requests=len(route.arrivals), max_in_flight=route.max_in_flight)
