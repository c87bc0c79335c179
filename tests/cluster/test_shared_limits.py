"""The shared rate limit: however many processes send, and however their requests overlap, no
window of `per_seconds` sees more than `requests` requests in flight or ended within it (the
rule that keeps arrivals at the destination within the limit)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from destinations._runtime.shared_limits import SharedRateLimiter
from destinations._runtime.workspace import RateLimit

from .conftest import queue_settings, report
from .nats_cluster import NatsCluster

Interval = tuple[float, float]


def most_in_any_window(intervals: list[Interval], seconds: float) -> int:
    """The most intervals touching one window [t, t + seconds] (t at each interval's edges)."""
    candidates = [end for _, end in intervals] + [start - seconds for start, _ in intervals]
    return max(
        (sum(1 for s, e in intervals if s <= t + seconds and e >= t) for t in candidates),
        default=0,
    )


def test_the_window_count_is_right() -> None:
    # Three requests, each 0.1 s apart: a 0.15 s window touches two, a 0.25 s window three.
    intervals = [(0.0, 0.01), (0.1, 0.11), (0.2, 0.21)]
    assert most_in_any_window(intervals, 0.05) == 1
    assert most_in_any_window(intervals, 0.15) == 2
    assert most_in_any_window(intervals, 0.25) == 3


class FlakyMemoryStore:
    """A compare-and-set store in memory whose writes sometimes lose to a foreign writer and
    whose reads sometimes fail, as a key-value bucket does during a fail-over."""

    def __init__(self, rng: random.Random, conflicts: float, failures: float) -> None:
        self.value: bytes | None = None
        self.revision = 0
        self.rng = rng
        self.conflicts = conflicts
        self.failures = failures

    async def read(self, key: str) -> tuple[bytes | None, int]:
        await asyncio.sleep(self.rng.uniform(0, 0.002))
        if self.rng.random() < self.failures:
            raise ConnectionError("store unavailable")
        return self.value, self.revision

    async def write(self, key: str, value: bytes, revision: int) -> bool:
        await asyncio.sleep(self.rng.uniform(0, 0.002))
        if self.rng.random() < self.conflicts:
            self.revision += 1  # someone else wrote first
        if revision != self.revision:
            return False
        self.value, self.revision = value, revision + 1
        return True


async def send_through(
    limiters: list[SharedRateLimiter], durations: list[float], clock: Callable[[], float]
) -> list[Interval]:
    """Each duration is one request through one of the limiters; their recorded intervals."""
    intervals: list[Interval] = []

    async def request(limiter: SharedRateLimiter, duration: float) -> None:
        await limiter.acquire()
        start = clock()  # after acquire: no later than the slot's start
        await asyncio.sleep(duration)
        intervals.append((start, clock()))  # before release: no later than the slot's end
        limiter.release()

    await asyncio.gather(
        *(request(limiters[i % len(limiters)], d) for i, d in enumerate(durations))
    )
    return intervals


@settings(max_examples=12, deadline=None)
@given(
    requests=st.integers(1, 4),
    processes=st.integers(1, 4),
    durations=st.lists(st.floats(0.0, 0.03), min_size=1, max_size=14),
    conflicts=st.sampled_from([0.0, 0.3]),
    failures=st.sampled_from([0.0, 0.1]),
    seed=st.integers(0, 2**16),
)
def test_no_window_holds_more_than_the_limit(
    requests: int,
    processes: int,
    durations: list[float],
    conflicts: float,
    failures: float,
    seed: int,
) -> None:
    store = FlakyMemoryStore(random.Random(seed), conflicts, failures)
    limit = RateLimit(requests, 0.08)
    limiters = [
        SharedRateLimiter(store, "rate.d", limit, longest_request_seconds=1.0, poll_seconds=0.005)
        for _ in range(processes)
    ]
    intervals = asyncio.run(send_through(limiters, durations, time.time))
    assert len(intervals) == len(durations)
    assert most_in_any_window(intervals, limit.per_seconds) <= requests


def test_a_dead_process_slot_frees_after_its_expiry() -> None:
    store = FlakyMemoryStore(random.Random(1), 0.0, 0.0)
    limit = RateLimit(1, 0.05)

    async def scenario() -> float:
        dead = SharedRateLimiter(store, "rate.d", limit, longest_request_seconds=0.3)
        await dead.acquire()  # ... and never releases: its process was killed
        alive = SharedRateLimiter(store, "rate.d", limit, longest_request_seconds=0.3)
        started = time.monotonic()
        await asyncio.wait_for(alive.acquire(), 5)
        return time.monotonic() - started

    waited = asyncio.run(scenario())
    assert 0.3 <= waited < 1.5


def test_two_processes_share_the_limit_through_jetstream(
    nats_cluster: NatsCluster, stream_name: str
) -> None:
    from destinations._runtime.queue_jetstream import InstanceLimits, JetStreamQueue

    limit = RateLimit(4, 0.5)
    limits = {"relay": InstanceLimits(4, rate=limit, timeout_seconds=1)}
    queues = [JetStreamQueue(queue_settings(nats_cluster, stream_name), limits) for _ in range(2)]
    for queue in queues:
        queue.open()
    try:
        limiters: Any = [q.shared_limiter("relay") for q in queues]
        assert all(isinstance(limiter, SharedRateLimiter) for limiter in limiters)
        rng = random.Random(3)
        durations = [rng.uniform(0.005, 0.05) for _ in range(16)]
        began = time.monotonic()
        intervals = asyncio.run(send_through(limiters, durations, time.time))
        elapsed = time.monotonic() - began
    finally:
        for queue in queues:
            queue.close()
    most = most_in_any_window(intervals, limit.per_seconds)
    assert most <= limit.requests
    assert elapsed >= 1.5  # 16 requests at 4 per 0.5 s: the limit really held them back
    report(
        "shared limit (JetStream)",
        requests=len(intervals),
        most_in_one_window=most,
        allowed=limit.requests,
        seconds=elapsed,
    )
