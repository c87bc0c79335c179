"""The delivery queue: a small interface and its embedded default, SQLite in WAL mode.

One job is one event for one mapping of one destination instance. Jobs are leased by a worker,
then acknowledged (delivered), retried later, or moved to the dead letters. A crash loses no
job: a lease that is never settled simply ends, and the job is leased again (so delivery is at
least once). Any engine that offers the same operations can take the SQLite queue's place.

The SQLite file is written with `synchronous=FULL`: when `enqueue` returns, the jobs are on disk.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

__all__ = [
    "DeadLetter",
    "Incoming",
    "Job",
    "Queue",
    "Retry",
    "SQLiteQueue",
]


@dataclass(frozen=True)
class Incoming:
    """An accepted event and the (instance, mapping) pairs it is routed to."""

    message_id: str
    event: dict[str, Any]
    routes: Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Job:
    id: int
    destination: str  # the instance name in the workspace
    mapping: str  # the mapping (rule) name inside the instance
    message_id: str
    event: dict[str, Any]
    enqueued_at: float
    attempts: int  # failed tries so far


@dataclass(frozen=True)
class Retry:
    job_id: int
    delay_seconds: float
    error: str


@dataclass(frozen=True)
class DeadLetter:
    """A job that will not be retried, with why. `response` has secrets masked."""

    job: Job
    reason: str
    status: int | None = None
    response: str = ""
    id: int = 0  # set when read back from the store
    failed_at: float = 0.0


class Queue(Protocol):
    """What the delivery workers need from a queue."""

    def enqueue(self, source: str, messages: Sequence[Incoming]) -> tuple[int, int]:
        """Store the jobs of messages not seen before; returns (accepted, duplicates)."""
        ...

    def lease(self, destination: str, limit: int, lease_seconds: float) -> list[Job]:
        """Up to `limit` due jobs of `destination`, hidden from other leases for a while."""
        ...

    def acknowledge(self, job_ids: Sequence[int]) -> None: ...

    def retry_later(self, retries: Sequence[Retry]) -> None: ...

    def dead_letter(self, letters: Sequence[DeadLetter]) -> None: ...

    def release(self, job_ids: Sequence[int]) -> None:
        """End leases without counting a try (work handed back at shutdown)."""
        ...

    def settle(
        self,
        acknowledged: Sequence[int] = (),
        retries: Sequence[Retry] = (),
        dead: Sequence[DeadLetter] = (),
    ) -> None:
        """acknowledge + retry_later + dead_letter at once (one disk sync where possible)."""
        ...

    def next_due(self, destination: str) -> float | None:
        """When the earliest job of `destination` not leased now becomes due (clock time)."""
        ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY,
    destination TEXT NOT NULL,
    mapping TEXT NOT NULL,
    message_id TEXT NOT NULL,
    event TEXT NOT NULL,
    enqueued_at REAL NOT NULL,
    available_at REAL NOT NULL,
    leased_until REAL NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS jobs_due ON jobs (destination, available_at);
CREATE TABLE IF NOT EXISTS seen (
    source TEXT NOT NULL,
    message_id TEXT NOT NULL,
    received_at REAL NOT NULL,
    PRIMARY KEY (source, message_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS seen_age ON seen (received_at);
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY,
    destination TEXT NOT NULL,
    mapping TEXT NOT NULL,
    message_id TEXT NOT NULL,
    event TEXT NOT NULL,
    enqueued_at REAL NOT NULL,
    failed_at REAL NOT NULL,
    attempts INTEGER NOT NULL,
    status INTEGER,
    response TEXT NOT NULL,
    reason TEXT NOT NULL
);
"""


def _encode(event: dict[str, Any]) -> str:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))


class SQLiteQueue:
    """The embedded queue. Thread-safe; meant for one serving process per file.

    `dedupe_window_seconds`: a messageId seen within this window is accepted but not stored
    again. `clock` is injectable for tests.
    """

    def __init__(
        self,
        path: str | Path,
        dedupe_window_seconds: float = 24 * 3600.0,
        clock: Any = time.time,
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.dedupe_window_seconds = dedupe_window_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.executescript(_SCHEMA)
        self._last_prune = 0.0

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------------ the Queue interface

    def enqueue(self, source: str, messages: Sequence[Incoming]) -> tuple[int, int]:
        now = self.clock()
        accepted = duplicates = 0
        with self._transaction() as db:
            if now - self._last_prune > 60:
                db.execute(
                    "DELETE FROM seen WHERE received_at < ?", (now - self.dedupe_window_seconds,)
                )
                self._last_prune = now
            for message in messages:
                inserted = db.execute(
                    "INSERT INTO seen (source, message_id, received_at) VALUES (?, ?, ?) "
                    "ON CONFLICT DO UPDATE SET received_at = excluded.received_at "
                    "WHERE seen.received_at < ? RETURNING received_at",
                    (source, message.message_id, now, now - self.dedupe_window_seconds),
                ).fetchone()
                if inserted is None:  # seen within the window: accepted, not stored again
                    duplicates += 1
                    continue
                accepted += 1
                if message.routes:
                    text = _encode(message.event)
                    db.executemany(
                        "INSERT INTO jobs (destination, mapping, message_id, event, enqueued_at,"
                        " available_at) VALUES (?, ?, ?, ?, ?, ?)",
                        [(d, m, message.message_id, text, now, now) for d, m in message.routes],
                    )
        return accepted, duplicates

    def lease(self, destination: str, limit: int, lease_seconds: float) -> list[Job]:
        now = self.clock()
        with self._transaction() as db:
            rows = db.execute(
                "UPDATE jobs SET leased_until = ? WHERE id IN (SELECT id FROM jobs "
                "WHERE destination = ? AND available_at <= ? AND leased_until <= ? "
                "ORDER BY available_at, id LIMIT ?) "
                "RETURNING id, destination, mapping, message_id, event, enqueued_at, attempts",
                (now + lease_seconds, destination, now, now, limit),
            ).fetchall()
        jobs = [Job(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6]) for r in rows]
        return sorted(jobs, key=lambda job: job.id)

    def acknowledge(self, job_ids: Sequence[int]) -> None:
        self.settle(acknowledged=job_ids)

    def retry_later(self, retries: Sequence[Retry]) -> None:
        self.settle(retries=retries)

    def dead_letter(self, letters: Sequence[DeadLetter]) -> None:
        self.settle(dead=letters)

    def release(self, job_ids: Sequence[int]) -> None:
        with self._transaction() as db:
            db.executemany("UPDATE jobs SET leased_until = 0 WHERE id = ?", [(i,) for i in job_ids])

    def settle(
        self,
        acknowledged: Sequence[int] = (),
        retries: Sequence[Retry] = (),
        dead: Sequence[DeadLetter] = (),
    ) -> None:
        """Acknowledge, retry and dead-letter in one transaction (one disk sync)."""
        now = self.clock()
        with self._transaction() as db:
            db.executemany("DELETE FROM jobs WHERE id = ?", [(i,) for i in acknowledged])
            db.executemany(
                "UPDATE jobs SET available_at = ?, leased_until = 0, attempts = attempts + 1, "
                "last_error = ? WHERE id = ?",
                [(now + r.delay_seconds, r.error, r.job_id) for r in retries],
            )
            for letter in dead:
                job = letter.job
                deleted = db.execute("DELETE FROM jobs WHERE id = ?", (job.id,)).rowcount
                if not deleted:  # settled already (e.g. twice in one shutdown): keep one copy
                    continue
                db.execute(
                    "INSERT INTO dead_letters (destination, mapping, message_id, event,"
                    " enqueued_at, failed_at, attempts, status, response, reason)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        job.destination,
                        job.mapping,
                        job.message_id,
                        _encode(job.event),
                        job.enqueued_at,
                        now,
                        job.attempts + 1,
                        letter.status,
                        letter.response,
                        letter.reason,
                    ),
                )

    # ------------------------------------------------------------------ operations

    def release_all_leases(self) -> int:
        """At start-up: leases of a process that died end now (one server per data folder)."""
        with self._transaction() as db:
            return db.execute("UPDATE jobs SET leased_until = 0 WHERE leased_until > 0").rowcount

    def depth(self) -> dict[str, int]:
        """Jobs waiting or in flight, by destination instance."""
        with self._lock:
            rows = self._db.execute(
                "SELECT destination, COUNT(*) FROM jobs GROUP BY destination"
            ).fetchall()
        return {name: count for name, count in rows}

    def next_due(self, destination: str) -> float | None:
        """When the earliest unleased job of `destination` becomes due (a clock time)."""
        with self._lock:
            row = self._db.execute(
                "SELECT MIN(available_at) FROM jobs WHERE destination = ? AND leased_until <= ?",
                (destination, self.clock()),
            ).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def dead_letters(self, destination: str | None = None, limit: int = 100) -> list[DeadLetter]:
        query = "SELECT * FROM dead_letters"
        args: tuple[Any, ...] = ()
        if destination is not None:
            query += " WHERE destination = ?"
            args = (destination,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY id LIMIT ?", (*args, limit)).fetchall()
        return [_dead_letter(row) for row in rows]

    def dead_letter_by_id(self, letter_id: int) -> DeadLetter | None:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM dead_letters WHERE id = ?", (letter_id,)
            ).fetchone()
        return None if row is None else _dead_letter(row)

    def replay(self, letter_ids: Sequence[int]) -> int:
        """Move dead letters back into the queue as new jobs; returns how many moved."""
        now = self.clock()
        moved = 0
        with self._transaction() as db:
            for letter_id in letter_ids:
                row = db.execute(
                    "DELETE FROM dead_letters WHERE id = ? "
                    "RETURNING destination, mapping, message_id, event",
                    (letter_id,),
                ).fetchone()
                if row is None:
                    continue
                db.execute(
                    "INSERT INTO jobs (destination, mapping, message_id, event, enqueued_at,"
                    " available_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (*row, now, now),
                )
                moved += 1
        return moved


def _dead_letter(row: tuple[Any, ...]) -> DeadLetter:
    (letter_id, destination, mapping, message_id, event, enqueued_at, failed_at, attempts,
     status, response, reason) = row  # fmt: skip
    job = Job(0, destination, mapping, message_id, json.loads(event), enqueued_at, attempts)
    return DeadLetter(job, reason, status, response, letter_id, failed_at)
