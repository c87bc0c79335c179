"""The JetStream queue keeps the SQLite queue's contract, and adds what a cluster needs: a pending
cap shared by all workers, retries that wait without holding a slot, max deliveries, idempotent
setup and clear errors."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from destinations._runtime.queue import DeadLetter, Incoming, Job, Retry, SQLiteQueue
from destinations._runtime.queue_jetstream import (
    InstanceLimits,
    JetStreamQueue,
    QueueSetupError,
    QueueUnavailable,
)
from destinations._runtime.queue_settings import JetStreamSettings

from .conftest import queue_settings
from .nats_cluster import NatsCluster


@pytest.fixture
def open_queue(
    nats_cluster: NatsCluster, stream_name: str
) -> Iterator[Callable[..., JetStreamQueue]]:
    """`open_queue(concurrency, lease_seconds=..., **settings)`: connected queues, closed at the
    end; `concurrency` maps instance names to their concurrency (one job per request)."""
    opened: list[JetStreamQueue] = []

    def make(
        concurrency: dict[str, int], lease_seconds: float = 30.0, **options: Any
    ) -> JetStreamQueue:
        limits = {name: InstanceLimits(n) for name, n in concurrency.items()}
        queue = JetStreamQueue(
            queue_settings(nats_cluster, stream_name, **options), limits, lease_seconds
        )
        queue.open()
        opened.append(queue)
        return queue

    yield make
    for queue in opened:
        queue.close()


def incoming(message_id: str, *routes: str) -> Incoming:
    return Incoming(message_id, {"messageId": message_id}, [(r, "rule") for r in routes])


def lease_until(queue: Any, destination: str, count: int, timeout: float = 10.0) -> list[Job]:
    """Lease until `count` jobs came (JetStream hands out due retries within a moment)."""
    jobs: list[Job] = []
    deadline = time.monotonic() + timeout
    while len(jobs) < count and time.monotonic() < deadline:
        jobs += queue.lease(destination, count - len(jobs), 30)
        if len(jobs) < count:
            time.sleep(0.05)
    return jobs


def exercise(queue: Any) -> list[Any]:
    """One scenario through the Queue interface; what it observed, free of ids and times."""
    seen: list[Any] = []
    seen.append(
        queue.enqueue("web", [incoming("a", "d1", "d2"), incoming("b", "d1"), incoming("a", "d1")])
    )
    jobs = lease_until(queue, "d1", 2)
    seen.append([(j.message_id, j.mapping, j.attempts) for j in jobs])
    seen.append(queue.lease("d1", 10, 30))  # leased: hidden from other leases
    a, b = jobs
    queue.settle(acknowledged=[a.id], retries=[Retry(b.id, 1.5, "HTTP 503")])
    seen.append(queue.lease("d1", 10, 30))  # b waits for its retry
    time.sleep(1.6)
    again = lease_until(queue, "d1", 1)
    seen.append([(j.message_id, j.attempts) for j in again])
    queue.dead_letter([DeadLetter(again[0], "HTTP 400 is not retried", 400, '{"error":1}')])
    letters = queue.dead_letters("d1")
    seen.append([(x.job.message_id, x.job.attempts, x.status, x.reason) for x in letters])
    seen.append(queue.dead_letters("d2"))
    assert queue.replay([letters[0].id, letters[0].id]) == 1
    replayed = lease_until(queue, "d1", 1)
    seen.append([(j.message_id, j.attempts, j.event) for j in replayed])
    seen.append(queue.dead_letters())
    queue.release([replayed[0].id])  # handed back: leased again at once, no try counted
    seen.append([(j.message_id, j.attempts) for j in lease_until(queue, "d1", 1)])
    seen.append(queue.enqueue("web", [incoming("a", "d1")]))  # still within the window
    return seen


def test_same_observations_as_the_sqlite_queue(
    tmp_path: Path, open_queue: Callable[..., JetStreamQueue]
) -> None:
    sqlite = SQLiteQueue(tmp_path / "q.sqlite3", dedupe_window_seconds=120)
    expected = exercise(sqlite)
    sqlite.close()
    observed = exercise(open_queue({"d1": 10, "d2": 10}))
    assert observed == expected
    # And what both saw is what the contract says:
    assert observed[0] == (2, 1)
    assert observed[1] == [("a", "rule", 0), ("b", "rule", 0)]
    assert observed[4] == [("b", 1)]
    assert observed[5] == [("b", 2, 400, "HTTP 400 is not retried")]
    assert observed[7] == [("b", 0, {"messageId": "b"})]
    assert observed[-1] == (0, 1)


def test_pending_cap_is_shared_by_all_workers(open_queue: Callable[..., JetStreamQueue]) -> None:
    ingest = open_queue({"d1": 2})
    worker_a, worker_b = open_queue({"d1": 2}), open_queue({"d1": 2})
    ingest.enqueue("web", [incoming(f"m{i}", "d1") for i in range(6)])
    held = worker_a.lease("d1", 5, 30)
    assert len(held) == 2  # the cap, though 5 were asked for
    assert worker_b.lease("d1", 5, 30) == []  # another process gets nothing over the cap
    # Worker b waits for a slot; the moment a's job is settled, b gets one (not after its
    # whole wait: a lease returns as soon as jobs come).
    waited: list[float] = []

    def lease_b() -> None:
        started = time.monotonic()
        if worker_b.lease("d1", 5, 30):
            waited.append(time.monotonic() - started)

    leasing = threading.Thread(target=lease_b)
    leasing.start()
    time.sleep(0.1)
    worker_a.acknowledge([held[0].id])
    leasing.join(5)
    assert len(waited) == 1 and waited[0] < 0.45  # FETCH_WAIT_SECONDS is 0.5
    assert worker_b.lease("d1", 5, 30) == []


def test_a_lease_lasts_while_its_holder_lives(open_queue: Callable[..., JetStreamQueue]) -> None:
    holder = open_queue({"d1": 5}, lease_seconds=1.0)
    other = open_queue({"d1": 5}, lease_seconds=1.0)
    holder.enqueue("web", [incoming("slow", "d1")])
    (job,) = lease_until(holder, "d1", 1)
    time.sleep(2.5)  # e.g. waiting for a rate limit: longer than the lease
    assert other.lease("d1", 5, 30) == []  # not handed to another worker meanwhile
    holder.acknowledge([job.id])
    assert other.lease("d1", 5, 30) == []


def test_a_retry_waits_without_holding_a_slot(open_queue: Callable[..., JetStreamQueue]) -> None:
    queue = open_queue({"d1": 1})
    queue.enqueue("web", [incoming("first", "d1"), incoming("second", "d1")])
    (first,) = lease_until(queue, "d1", 1)
    queue.retry_later([Retry(first.id, 1.5, "HTTP 503")])
    started = time.monotonic()
    (second,) = lease_until(queue, "d1", 1)
    assert second.message_id == "second"
    assert time.monotonic() - started < 1.0  # not blocked behind the waiting retry
    queue.acknowledge([second.id])
    (retried,) = lease_until(queue, "d1", 1)
    assert (retried.message_id, retried.attempts) == ("first", 1)
    assert time.monotonic() - started >= 1.4  # and the retry kept its delay


def test_max_deliveries_ends_in_the_dead_letters(
    open_queue: Callable[..., JetStreamQueue],
) -> None:
    # Tries with an answer: the second failed try is the last.
    queue = open_queue({"d1": 5}, lease_seconds=1.0, max_deliveries=2)
    queue.enqueue("web", [incoming("tried", "d1")])
    (job,) = lease_until(queue, "d1", 1)
    queue.retry_later([Retry(job.id, 0.1, "HTTP 500")])
    (job,) = lease_until(queue, "d1", 1)
    queue.retry_later([Retry(job.id, 0.1, "HTTP 502")])
    # Deliveries without an answer: the worker holding the job dies, twice.
    queue.enqueue("web", [incoming("lost", "d1")])
    for _ in range(2):
        doomed = open_queue({"d1": 5}, lease_seconds=1.0, max_deliveries=2)
        assert [j.message_id for j in lease_until(doomed, "d1", 1)] == ["lost"]
        doomed.close()  # its leases are no longer kept: they end after 1 s
    deadline = time.monotonic() + 10
    while len(queue.dead_letters("d1")) < 2 and time.monotonic() < deadline:
        # JetStream notices the exhausted job when a worker asks for more.
        assert queue.lease("d1", 5, 30) == []
    reasons = {x.job.message_id: x.reason for x in queue.dead_letters("d1")}
    assert reasons["tried"].startswith("gave up after 2 tries (max_deliveries); last: HTTP 502")
    assert reasons["lost"].startswith("delivered 2 times without a result")
    assert queue.lease("d1", 5, 30) == []
    assert queue.depth() == {"d1": 0}


def test_setup_is_declarative_and_idempotent(
    nats_cluster: NatsCluster, open_queue: Callable[..., JetStreamQueue], stream_name: str
) -> None:
    first = open_queue({"d1": 4})
    first.enqueue("web", [incoming("kept", "d1")])
    open_queue({"d1": 4})  # the same setup again: nothing changes, nothing is lost
    open_queue({"d1": 2}, replicas=1, duplicate_window_seconds=30.0)  # updated in place
    info = first.cluster.run(first.cluster.js.stream_info(stream_name))
    assert (info.config.num_replicas, info.config.duplicate_window) == (1, 30.0)
    consumer = first.cluster.run(first.cluster.js.consumer_info(stream_name, "deliver-d1"))
    assert consumer.config.max_ack_pending == 2
    assert [j.message_id for j in lease_until(first, "d1", 1)] == ["kept"]
    with pytest.raises(QueueSetupError, match="cannot change"):
        open_queue({"d1": 2}, replicas=1, storage="memory")


def test_an_unreachable_cluster_is_a_clear_error_without_credentials() -> None:
    url = "nats://deliverer:pa55-w0rd@127.0.0.1:9"  # nothing listens on port 9
    secret = JetStreamSettings(servers=(url,), connect_timeout_seconds=1.0)
    queue = JetStreamQueue(secret, {"d1": InstanceLimits(1)})
    try:
        with pytest.raises(QueueUnavailable) as raised:
            queue.open()
    finally:
        queue.close()
    message = raised.value.message
    assert "nats://***@127.0.0.1:9" in message and "not ready after 1 s" in message
    assert "pa55-w0rd" not in message and "deliverer" not in message
    assert raised.value.status == 503
