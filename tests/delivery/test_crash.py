"""Crashes and shutdowns with real processes: SIGKILL while events arrive loses nothing that got
a 200; SIGTERM finishes or hands back in-flight work."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import httpx

from .conftest import SECRETS, report, workspace_data
from .fake_destination import FakeDestination
from .harness import (
    TEST_PACKAGE,
    Service,
    basic_auth,
    free_port,
    track,
    wait_until,
    write_workspace,
)

KILLS = 3


def test_sigkill_while_sending_loses_no_acknowledged_event(
    tmp_path: Path, delivery_package: Path, fake: FakeDestination
) -> None:
    port = free_port()
    workspace = write_workspace(tmp_path / "workspace.yaml", workspace_data(fake.url, port))
    service = Service(workspace, port, SECRETS, delivery_package, TEST_PACKAGE)
    fake.latency_seconds = 0.02  # requests are in flight when the kill comes
    service.start()
    acknowledged: set[str] = set()
    refused = 0
    stop = threading.Event()

    def send() -> None:
        nonlocal refused
        counter = 0
        with httpx.Client(timeout=2) as client:
            while not stop.is_set():
                ids = [f"c{counter + i}" for i in range(10)]
                counter += 10
                try:
                    answer = client.post(
                        f"{service.url}/v1/batch",
                        json={"batch": [track(i) for i in ids]},
                        headers=basic_auth(SECRETS["WRITE_KEY"]),
                    )
                except httpx.HTTPError:
                    refused += 1
                    time.sleep(0.02)
                    continue
                if answer.status_code == 200:
                    acknowledged.update(ids)
                time.sleep(0.02)  # a steady stream, not a flood: the test stays short

    sender = threading.Thread(target=send)
    sender.start()
    rng = random.Random(5)
    try:
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.6, 1.2))
            service.kill()
            service.start()
        time.sleep(0.5)
    finally:
        stop.set()
        sender.join(10)
    try:
        delivered = wait_until(lambda: acknowledged <= fake.delivered_ids("clay"), 60, 0.2)
        missing = acknowledged - fake.delivered_ids("clay")
        assert delivered, (
            f"{len(missing)} acknowledged events never delivered, e.g. {sorted(missing)[:5]}"
        )
    finally:
        status = service.terminate()
    assert status in (0, -15)
    report(
        "SIGKILL crash",
        kills=KILLS,
        events_acknowledged=len(acknowledged),
        requests_failed_during_kills=refused,
        delivered_distinct=len(fake.delivered_ids("clay")),
        duplicates_at_destination=fake.duplicates(),
    )


def test_sigterm_finishes_or_hands_back_in_flight_work(
    tmp_path: Path, delivery_package: Path, fake: FakeDestination
) -> None:
    port = free_port()
    data = workspace_data(fake.url, port, shutdown_grace_seconds=0.3)
    workspace = write_workspace(tmp_path / "workspace.yaml", data)
    service = Service(workspace, port, SECRETS, delivery_package, TEST_PACKAGE)
    fake.latency_seconds = 0.4  # longer than the grace period: some requests are cut short
    service.start()
    ids = [f"g{i}" for i in range(40)]
    answer = httpx.post(
        f"{service.url}/v1/batch",
        json={"batch": [track(i) for i in ids]},
        headers=basic_auth(SECRETS["WRITE_KEY"]),
    )
    assert answer.status_code == 200
    assert wait_until(lambda: fake.routes["clay"].in_flight > 0, 5, 0.01)
    started = time.monotonic()
    status = service.terminate()
    stopped_in = time.monotonic() - started
    assert status in (0, -15)
    assert stopped_in < 5
    assert "delivery stopped" in service.logs()
    before_restart = fake.delivered_ids("clay")
    assert len(before_restart) < len(ids)  # there was work left to hand back
    service.start()  # the handed-back and waiting jobs go out after the restart
    try:
        assert wait_until(lambda: set(ids) <= fake.delivered_ids("clay"), 30, 0.1)
    finally:
        service.terminate()
    report(
        "SIGTERM shutdown",
        seconds_to_stop=round(stopped_in, 2),
        delivered_before_stop=len(before_restart),
    )
