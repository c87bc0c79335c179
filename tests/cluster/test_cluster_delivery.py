"""End to end on a three-node JetStream cluster: a Segment client sends through an ingestion-only
process; two worker processes deliver to the fake APIs. A worker is killed with SIGKILL, and
separately a NATS node, in the middle of the run. Every event that got a 200 is delivered, none
is lost, duplicates are counted, and the limits hold across the workers at the fake destination.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from segment.analytics.client import Client

from delivery.conftest import SECRETS, workspace_data
from delivery.fake_destination import FakeDestination, FaultPlan
from delivery.harness import TEST_PACKAGE, free_port, wait_until, write_workspace

from .conftest import report
from .nats_cluster import NatsCluster
from .roles import RoleService

SEND_SECONDS = 12.0
BURST = 200  # events sent at once first: the destinations' concurrency caps are reached
POISON = {6, 106, 206}  # Clay answers 400 to these tracks: dead letters


def cluster_workspace(fake_url: str, cluster: NatsCluster, port: int) -> dict[str, Any]:
    data = workspace_data(fake_url, port, lease_seconds=3)  # a killed worker's jobs return soon
    data["queue"] = {
        "servers": cluster.urls,
        "stream": "E2E",
        "replicas": 3,
        "duplicate_window_seconds": 600,
    }
    return data


class Sender:
    """segment-analytics-python in its normal (threaded, batching, retrying) mode."""

    def __init__(self, url: str) -> None:
        self.sent: dict[str, str] = {}  # messageId -> "track" | "relay" | "identify" | "poison"
        self.failed: set[str] = set()
        self.client = Client(
            SECRETS["WRITE_KEY"],
            host=url,
            upload_size=25,
            upload_interval=0.1,
            max_retries=8,
            timeout=10,
            on_error=self._failed,
        )
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run)

    def _failed(self, error: Exception, batch: list[dict[str, Any]]) -> None:
        self.failed.update(item["messageId"] for item in batch)

    def _run(self) -> None:
        context = {"ip": "203.0.113.9", "userAgent": "cluster-test"}
        index = 0
        while not self.stop.is_set():
            message_id = f"e{index}"
            if index % 4 == 3:
                self.client.identify(
                    f"u{index % 50}", {"email": f"u{index}@example.com"}, message_id=message_id
                )
                self.sent[message_id] = "identify"
            else:
                relay = index % 5 == 0  # about 8 per second, under the relay's 10
                poison = index in POISON
                self.client.track(
                    f"u{index % 50}",
                    "Signed Up",
                    {"relay": relay, "n": index, "poison": poison},
                    context=context,
                    message_id=message_id,
                )
                self.sent[message_id] = "poison" if poison else "relay" if relay else "track"
            index += 1
            if index > BURST:
                time.sleep(0.025)

    def acknowledged(self, kind: str) -> set[str]:
        """Message ids of `kind` whose batch got a 200 (not reported to on_error)."""
        return {m for m, k in self.sent.items() if k == kind and m not in self.failed}


def test_ingest_and_workers_survive_kills(
    tmp_path: Path, delivery_package: Path, fake: FakeDestination, nats_cluster: NatsCluster
) -> None:
    fake.latency_seconds = 0.02
    fake.faults = FaultPlan(rate=0.1, kinds=("500", "503"))  # some retries via the waiting room
    ingest_port = free_port()
    workspace = write_workspace(
        tmp_path / "workspace.yaml", cluster_workspace(fake.url, nats_cluster, ingest_port)
    )

    def role(name: str, kind: str, port: int) -> RoleService:
        return RoleService(name, kind, workspace, port, SECRETS, delivery_package, TEST_PACKAGE)

    ingest = role("ingest", "ingest", ingest_port)
    workers = [role(f"worker-{n}", "worker", free_port()) for n in ("a", "b")]
    processes = [ingest, *workers]
    for process in processes:
        process.start()
    sender = Sender(ingest.url)
    began = time.monotonic()
    sender.thread.start()
    try:
        time.sleep(3)
        wait_until(lambda: sum(r.in_flight for r in fake.routes.values()) >= 2, 2, 0.005)
        workers[0].kill()  # SIGKILL, with jobs leased and (most likely) requests in flight
        killed_worker_at = time.monotonic() - began
        time.sleep(1.5)
        workers[0].start()
        time.sleep(1.5)
        nats_cluster.kill(1)  # one of three nodes: the streams keep their quorum
        killed_node_at = time.monotonic() - began
        time.sleep(4)
        nats_cluster.start_node(1)
        time.sleep(max(0.0, SEND_SECONDS - (time.monotonic() - began)))
    finally:
        sender.stop.set()
        sender.thread.join(30)
        sender.client.flush()
        sender.client.join()
    sent_for = time.monotonic() - began

    expected = {
        "clay": sender.acknowledged("track") | sender.acknowledged("relay"),  # not poison
        "relay": sender.acknowledged("relay"),
        "bulk": sender.acknowledged("identify"),
    }

    def lost() -> dict[str, set[str]]:
        return {route: ids - fake.delivered_ids(route) for route, ids in expected.items()}

    def dead_letters() -> list[list[str]]:
        listed = ingest.cli("dead-letters", "--workspace", str(workspace), "list")
        assert listed.returncode == 0, listed.stderr
        return [line.split("\t") for line in listed.stdout.splitlines()]

    try:
        all_delivered = wait_until(lambda: not any(lost().values()), 90, 0.25)
        drained = wait_until(lambda: workers[1].metrics().get("queue_depth", 1) == 0, 30, 0.25)
        metrics = [w.metrics() for w in workers]
        letters = dead_letters()
        # Replayed, a poison event goes through a worker again and comes back a dead letter.
        replayed = ingest.cli(
            "dead-letters", "--workspace", str(workspace), "replay", letters[0][0]
        )
        relisted = wait_until(
            lambda: (
                letters[0][0] not in {x[0] for x in dead_letters()}
                and len(dead_letters()) == len(letters)
            ),
            30,
            0.25,
        )
        shown = ingest.cli("dead-letters", "--workspace", str(workspace), "show", letters[1][0])
        statuses = [p.terminate() for p in processes]
    finally:
        for process in processes:
            process.kill()
    missing = lost()
    assert all_delivered, {route: sorted(ids)[:5] for route, ids in missing.items() if ids}
    assert drained
    assert all(s in (0, -15) for s in statuses), [p.logs()[-2000:] for p in processes]
    assert len(sender.sent) > BURST and len(sender.failed) < len(sender.sent)
    # Dead letters: listed, shown and replayed through the JetStream dead-letter stream.
    assert {x[3] for x in letters} == {f"e{i}" for i in POISON}
    assert all(x[1] == "clay" and x[4] == "400" for x in letters), letters
    assert replayed.stdout.strip() == "1 dead letter(s) back in the queue" and relisted
    assert '"status": 400' in shown.stdout and SECRETS["CLAY_SECRET_KEY"] not in shown.stdout

    # The limits held for both workers together, measured at the fake destination.
    clay, relay, bulk = (fake.routes[name] for name in ("clay", "relay", "bulk"))
    relay_most_per_second = relay.max_in_window(1.0)
    assert clay.max_in_flight <= 10  # Clay: the default concurrency (consumer pending cap)
    assert relay.max_in_flight <= 4 and bulk.max_in_flight <= 3  # the specs' concurrency
    assert relay_most_per_second <= 10 and relay.rate_limited == 0  # 10 requests per second
    assert clay.max_in_flight >= 5  # the burst did fill the cap: the check above means something
    for process in processes:  # no secret in any log
        assert not any(secret in process.logs() for secret in SECRETS.values())

    delivered = sum(len(fake.delivered_ids(route)) for route in expected)
    report(
        "cluster: kills mid-run",
        events_sent=len(sender.sent),
        events_acknowledged=len(sender.sent) - len(sender.failed),
        client_batches_failed_events=len(sender.failed),
        jobs_expected=sum(len(ids) for ids in expected.values()),
        jobs_delivered=delivered,
        lost=sum(len(ids) for ids in missing.values()),
        duplicates_at_destinations=fake.duplicates(),
        duplicates_by_route={
            name: sum(c - 1 for c in fake.routes[name].accepted.values() if c > 1)
            for name in expected
        },
        idempotent_replays_at_relay=sum(c - 1 for c in relay.idempotency_keys.values()),
        worker_killed_at_seconds=round(killed_worker_at, 1),
        nats_node_killed_at_seconds=round(killed_node_at, 1),
        sending_seconds=round(sent_for, 1),
        retries=int(sum(m.get("delivery_retries_total", 0) for m in metrics)),
        dead_letters=len(letters),
        clay_max_in_flight=f"{clay.max_in_flight} (cap 10)",
        relay_max_per_second=f"{relay_most_per_second} (limit 10)",
        relay_max_in_flight=f"{relay.max_in_flight} (cap 4)",
        bulk_max_in_flight=f"{bulk.max_in_flight} (cap 3)",
    )
