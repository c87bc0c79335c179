"""The SQLite queue (against a model of it) and Segment's retry policy."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from destinations._runtime.queue import DeadLetter, Incoming, Job, Retry, SQLiteQueue
from destinations._runtime.retry import RetryPolicy, is_retryable_status, parse_retry_after


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def incoming(message_id: str, *routes: str) -> Incoming:
    return Incoming(message_id, {"messageId": message_id}, [(r, "rule") for r in routes])


def test_lease_acknowledge_retry_dead_letter_replay(tmp_path: Path) -> None:
    clock = Clock()
    queue = SQLiteQueue(tmp_path / "q.sqlite3", dedupe_window_seconds=100, clock=clock)
    assert queue.enqueue(
        "web", [incoming("a", "d1", "d2"), incoming("b", "d1"), incoming("a", "d1")]
    ) == (2, 1)
    jobs = queue.lease("d1", 10, lease_seconds=30)
    assert [j.message_id for j in jobs] == ["a", "b"]
    assert queue.lease("d1", 10, 30) == []  # leased: hidden
    queue.acknowledge([jobs[0].id])
    queue.retry_later([Retry(jobs[1].id, 5, "HTTP 503")])
    assert queue.lease("d1", 10, 30) == []  # not due yet
    clock.now += 5
    [again] = queue.lease("d1", 10, 30)
    assert again.message_id == "b" and again.attempts == 1
    queue.dead_letter([DeadLetter(again, "HTTP 400 is not retried", 400, '{"error": "bad"}')])
    [letter] = queue.dead_letters()
    assert (letter.status, letter.reason, letter.job.attempts) == (
        400,
        "HTTP 400 is not retried",
        2,
    )
    assert queue.depth() == {"d2": 1}
    assert queue.replay([letter.id]) == 1 and queue.dead_letters() == []
    assert [j.message_id for j in queue.lease("d1", 10, 30)] == ["b"]


def test_leases_end_after_a_crash_and_duplicates_expire(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "q.sqlite3"
    queue = SQLiteQueue(path, dedupe_window_seconds=100, clock=clock)
    queue.enqueue("web", [incoming("a", "d1")])
    assert len(queue.lease("d1", 10, 3600)) == 1
    # The process dies without settling; a new one opens the same file.
    reopened = SQLiteQueue(path, dedupe_window_seconds=100, clock=clock)
    assert reopened.release_all_leases() == 1
    assert len(reopened.lease("d1", 10, 30)) == 1
    assert reopened.enqueue("web", [incoming("a", "d1")]) == (0, 1)  # within the window
    clock.now += 101
    assert reopened.enqueue("web", [incoming("a", "d1")]) == (1, 0)  # a new message after it


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["enqueue", "lease", "ack", "retry", "dead", "tick"]), st.integers(0, 5)
        ),
        max_size=40,
    )
)
def test_no_job_is_lost_or_doubled(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[str, int]]
) -> None:
    """Every job enqueued is, at every moment, in exactly one place: waiting/leased, or dead,
    or acknowledged (a model of the queue tracks which)."""
    clock = Clock()
    queue = SQLiteQueue(tmp_path_factory.mktemp("q") / "q.sqlite3", clock=clock)
    live: set[str] = set()
    leased: dict[str, int] = {}
    done: set[str] = set()
    dead: set[str] = set()
    counter = 0
    for op, n in steps:
        if op == "enqueue":
            ids = [f"m{counter + i}" for i in range(n)]
            counter += n
            queue.enqueue("s", [incoming(i, "d") for i in ids])
            live.update(ids)
        elif op == "lease":
            for job in queue.lease("d", n, 10):
                assert job.message_id in live and job.message_id not in leased
                leased[job.message_id] = job.id
        elif op == "tick":
            clock.now += 11  # leases end
            leased.clear()
        elif leased:
            message_id, job_id = sorted(leased.items())[n % len(leased)]
            del leased[message_id]
            if op == "ack":
                queue.acknowledge([job_id])
                live.remove(message_id)
                done.add(message_id)
            elif op == "retry":
                queue.retry_later([Retry(job_id, 0, "x")])
            else:
                queue.dead_letter([DeadLetter(_job(job_id, message_id), "r")])
                live.remove(message_id)
                dead.add(message_id)
    assert sum(queue.depth().values()) == len(live)
    assert {d.job.message_id for d in queue.dead_letters(limit=1000)} == dead
    assert not (done & dead) and not (live & (done | dead))


def _job(job_id: int, message_id: str) -> Job:
    return Job(job_id, "d", "rule", message_id, {"messageId": message_id}, 0.0, 0)


# ---------------------------------------------------------------------------- the retry policy


def test_retryable_statuses_are_segments() -> None:
    # Segment's list: 408, 423, 429, and 5xx except 501 (500, 502-511, 598, 599 among them).
    retried = {s for s in range(100, 600) if is_retryable_status(s)}
    assert retried == {408, 423, 429} | set(range(500, 600)) - {501}


@settings(max_examples=200)
@given(st.integers(1, 40), st.floats(0.01, 5), st.floats(1, 1000), st.integers(0, 2**32))
def test_backoff_grows_within_bounds(attempts: int, initial: float, cap: float, seed: int) -> None:
    policy = RetryPolicy(initial_backoff_seconds=initial, max_backoff_seconds=cap)
    ceiling = min(cap, initial * 2 ** (attempts - 1))
    delay = policy.backoff(attempts, random.Random(seed))
    assert ceiling / 2 <= delay <= ceiling
    # Without jitter's luck, the ceiling never shrinks from one failure to the next.
    assert min(cap, initial * 2**attempts) >= ceiling


@settings(max_examples=200)
@given(st.integers(1, 20), st.floats(0, 20_000), st.one_of(st.none(), st.floats(0, 5000)))
def test_retry_after_is_honoured_and_the_window_closes(
    attempts: int, age: float, retry_after: float | None
) -> None:
    policy = RetryPolicy(
        max_age_seconds=4 * 3600, initial_backoff_seconds=1, max_backoff_seconds=600
    )
    delay = policy.next_delay(attempts, age, retry_after, random.Random(0))
    if delay is None:
        assert age + policy.backoff(attempts, random.Random(0)) > policy.max_age_seconds or (
            retry_after is not None and age + retry_after > policy.max_age_seconds
        )
    else:
        assert age + delay <= policy.max_age_seconds
        assert retry_after is None or delay >= retry_after


def test_parse_retry_after() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("120", now) == 120
    date = format_datetime(datetime.fromtimestamp(now + 30, UTC), usegmt=True)
    assert parse_retry_after(date, now) == pytest.approx(30, abs=1)
    assert parse_retry_after("soon", now) is None and parse_retry_after(None, now) is None
