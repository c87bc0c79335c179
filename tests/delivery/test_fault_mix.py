"""Under a fault mix of at least 30%, every accepted event is delivered once the faults stop,
the non-retryable ones are dead-lettered with their reason, and the limits hold at the fake."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from .conftest import SECRETS, report, workspace_data
from .fake_destination import FakeDestination, FaultPlan
from .harness import (
    TEST_PACKAGE,
    Service,
    basic_auth,
    free_port,
    identify,
    track,
    wait_until,
    write_workspace,
)


def test_fault_mix(tmp_path: Path, delivery_package: Path, fake: FakeDestination) -> None:
    port = free_port()
    workspace = write_workspace(tmp_path / "workspace.yaml", workspace_data(fake.url, port))
    service = Service(workspace, port, SECRETS, delivery_package, TEST_PACKAGE)
    # 40% of requests fail: 500, 503, 429 + Retry-After, too slow (past the 0.5 s timeout), dropped.
    fake.faults = FaultPlan(rate=0.4, retry_after_seconds=1, slow_seconds=1.0)
    service.start()
    try:
        poison = {f"t{i}" for i in range(0, 120, 20)}  # Clay answers 400: not retried
        relayed = {f"t{i}" for i in range(120) if i % 4 == 1}  # 30 also go to the relay
        invalid = {f"p{i}" for i in range(0, 100, 25)}  # bulk answers "partial": code 512
        events = [
            track(f"t{i}", poison=f"t{i}" in poison, relay=f"t{i}" in relayed) for i in range(120)
        ]
        events += [
            identify(f"p{i}", email=f"p{i}@example.com", invalid=f"p{i}" in invalid)
            for i in range(100)
        ]
        for start in range(0, len(events), 20):
            answer = httpx.post(
                f"{service.url}/v1/batch",
                json={"batch": events[start : start + 20]},
                headers=basic_auth(SECRETS["WRITE_KEY"]),
                timeout=10,
            )
            assert answer.status_code == 200, answer.text
        time.sleep(4)  # the fault phase
        arrivals_during_faults = sum(len(r.arrivals) for r in fake.routes.values())
        injected = sum(fake.faults_injected.values())
        fake.faults = FaultPlan(rate=0.0)

        clay_expected = {f"t{i}" for i in range(120)} - poison
        bulk_expected = {f"p{i}" for i in range(100)} - invalid

        def settled() -> bool:
            return service.metrics().get("queue_depth", 1) == 0

        assert wait_until(settled, 90, 0.25), service.metrics()
        metrics = service.metrics()
        dead = service.cli("dead-letters", "--workspace", str(workspace), "list")
    finally:
        service.terminate()

    assert clay_expected <= fake.delivered_ids("clay")
    assert relayed <= fake.delivered_ids("relay")
    assert bulk_expected <= fake.delivered_ids("bulk")
    assert not fake.delivered_ids("clay") & poison

    letters = [line.split("\t") for line in dead.stdout.splitlines()]
    by_message = {fields[3]: fields for fields in letters}
    assert set(by_message) == poison | invalid, dead.stdout
    for message_id in poison:
        assert by_message[message_id][1] == "clay"
        assert by_message[message_id][4] == "400"
        assert "HTTP 400 is not retried" in by_message[message_id][5]
    for message_id in invalid:
        assert by_message[message_id][1] == "bulk"
        assert "code 512" in by_message[message_id][5]

    relay = fake.routes["relay"]
    max_rate = relay.max_in_window(1.0)
    assert max_rate <= 10, "the relay's rate limit (10 per second) was exceeded"
    assert relay.rate_limited == 0
    assert relay.max_in_flight <= 4
    assert fake.routes["bulk"].max_in_flight <= 3
    assert fake.routes["clay"].max_in_flight <= 10
    assert injected / arrivals_during_faults >= 0.3
    assert all(len(body["d"]) <= 25 for body in fake.routes["bulk"].bodies)

    report(
        "fault mix",
        events_accepted=int(metrics["events_accepted_total"]),
        fault_ratio=injected / arrivals_during_faults,
        faults=dict(fake.faults_injected),
        delivered=int(metrics["deliveries_total"]),
        retried=int(metrics["delivery_retries_total"]),
        dead_lettered=int(metrics["dead_letters_total"]),
        duplicates_at_destination=fake.duplicates(),
        relay_max_per_second=max_rate,
        relay_max_in_flight=relay.max_in_flight,
        bulk_max_in_flight=fake.routes["bulk"].max_in_flight,
        idempotent_replays=sum(c - 1 for c in relay.idempotency_keys.values()),
    )
