"""Under a fault mix of at least 30%, every accepted event is delivered once the faults stop,
the non-retryable ones are dead-lettered with their reason, and the limits hold at the fake.

The catalog's Loops (rate limit) and CleverTap (batches, partial answers, 15 in flight) take
the `app` source's events; Clay and the synthetic relay and bulk destinations the `web` ones.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from .conftest import SECRETS, report, with_catalog, workspace_data
from .fake_destination import FakeDestination, FaultPlan
from .harness import (
    TEST_PACKAGE,
    Service,
    app_event,
    basic_auth,
    free_port,
    identify,
    track,
    wait_until,
    write_workspace,
)


def test_fault_mix(tmp_path: Path, delivery_package: Path, fake: FakeDestination) -> None:
    port = free_port()
    data = with_catalog(workspace_data(fake.url, port), fake.url)
    workspace = write_workspace(tmp_path / "workspace.yaml", data)
    service = Service(workspace, port, SECRETS, delivery_package, TEST_PACKAGE)
    # 40% of requests fail: 500, 503, 429 + Retry-After, too slow (past the 0.5 s timeout), dropped.
    fake.faults = FaultPlan(rate=0.4, retry_after_seconds=1, slow_seconds=1.0)
    service.start()
    try:
        poison = {f"t{i}" for i in range(0, 120, 20)}  # Clay answers 400: not retried
        relayed = {f"t{i}" for i in range(120) if i % 4 == 1}  # 30 also go to the relay
        invalid = {f"p{i}" for i in range(0, 100, 25)}  # bulk answers "partial": code 512
        loops_poison = {"a3", "a17"}  # Loops answers 400
        clevertap_invalid = {"a8", "a22", "a31"}  # CleverTap answers "partial": code 512

        def post(batch: list[dict[str, object]], write_key: str) -> None:
            answer = httpx.post(
                f"{service.url}/v1/batch",
                json={"batch": batch},
                headers=basic_auth(write_key),
                timeout=10,
            )
            assert answer.status_code == 200, answer.text

        events = [
            track(f"t{i}", poison=f"t{i}" in poison, relay=f"t{i}" in relayed) for i in range(120)
        ]
        events += [
            identify(f"p{i}", email=f"p{i}@example.com", invalid=f"p{i}" in invalid)
            for i in range(100)
        ]
        # The app's events go to Loops and CleverTap both. Loops answers 400 to poison ones,
        # CleverTap refuses the records of invalid ones (a partial answer, code 512).
        app = []
        for i in range(40):
            ref, kind = f"a{i}", "identify" if i % 4 == 0 else "track"
            marks = {"poison": ref in loops_poison, "invalid": ref in clevertap_invalid}
            if kind == "identify":
                app.append(app_event(kind, ref, user=f"u{i % 7}", traits=marks))
            else:
                app.append(app_event(kind, ref, user=f"u{i % 7}", properties=marks))
        for start in range(0, len(events), 20):
            post(events[start : start + 20], SECRETS["WRITE_KEY"])
        for start in range(0, len(app), 10):
            post(app[start : start + 10], SECRETS["APP_WRITE_KEY"])
        time.sleep(4)  # the fault phase
        arrivals_during_faults = sum(len(r.arrivals) for r in fake.routes.values())
        injected = sum(fake.faults_injected.values())
        fake.faults = FaultPlan(rate=0.0)

        clay_expected = {f"t{i}" for i in range(120)} - poison
        bulk_expected = {f"p{i}" for i in range(100)} - invalid
        app_ids = {e["messageId"] for e in app}

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
    assert app_ids - loops_poison <= fake.delivered_ids("loops")
    assert app_ids - clevertap_invalid <= fake.delivered_ids("clevertap")
    assert not fake.delivered_ids("clevertap") & clevertap_invalid

    letters = [line.split("\t") for line in dead.stdout.splitlines()]
    by_message = {fields[3]: fields for fields in letters}
    assert set(by_message) == poison | invalid | loops_poison | clevertap_invalid, dead.stdout
    for message_id in poison:
        assert by_message[message_id][1] == "clay"
        assert by_message[message_id][4] == "400"
        assert "HTTP 400 is not retried" in by_message[message_id][5]
    for message_id in invalid:
        assert by_message[message_id][1] == "bulk"
        assert "code 512" in by_message[message_id][5]
    for message_id in loops_poison:
        assert by_message[message_id][1:5:3] == ["loops", "400"]
    for message_id in clevertap_invalid:
        assert by_message[message_id][1] == "clevertap"
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
    loops, clevertap = fake.routes["loops"], fake.routes["clevertap"]
    loops_max_rate = loops.max_in_window(1.0)
    assert loops_max_rate <= 10 and loops.rate_limited == 0, "Loops' 10 per second exceeded"
    assert clevertap.max_in_flight <= 15 and clevertap.rate_limited == 0
    assert max(clevertap.records_per_request) <= 1000

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
        loops_max_per_second=loops_max_rate,
        loops_requests=len(loops.arrivals),
        clevertap_requests=len(clevertap.arrivals),
        clevertap_max_in_flight=clevertap.max_in_flight,
        clevertap_partial_answers=sum(
            1 for body in clevertap.bodies if any(_refused(r) for r in body["d"])
        ),
    )


def _refused(record: dict[str, object]) -> bool:
    data = record.get("evtData") or record.get("profileData")
    return isinstance(data, dict) and bool(data.get("invalid"))
