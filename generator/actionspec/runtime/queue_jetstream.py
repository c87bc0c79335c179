"""The delivery queue on NATS JetStream: the same interface as the SQLite queue, across machines.

Chosen by the workspace's `queue:` setting (`queue_settings.py`). Layout, all declared (created
or updated) at start by every process, so setup is idempotent:

- stream `<S>` (work queue by default, replicated) holds the jobs:
  `<S>.deliver.<instance>` jobs to send now, `<S>.wait.<instance>` jobs waiting for a retry;
- per destination instance, durable pull consumer `deliver-<instance>` shared by every worker.
  Its cap on unacknowledged messages is the instance's concurrency (times the records of one
  request, for a batching destination): JetStream hands out no more jobs than that to all
  workers together. `wait-<instance>` reads the waiting room;
- stream `<S>_DEAD` (kept until replayed) holds the dead letters, `<S>.dead.<instance>`;
- streams `<S>_RATE_<instance>` (and `<S>_BUSY_<instance>` for a batching destination) hold
  the shared request window of a rate limit (and the requests in flight), see
  `shared_limits.py` and `jetstream.StreamSlots`.

Ingestion publishes one message per (event, route) with `Nats-Msg-Id` derived from the source,
the event's messageId and the route: a re-sent event within the duplicate window is a no-op.
`enqueue` returns only after JetStream acknowledged every message (stored on the stream's
replicas), so a 200 from ingestion means the events are in the cluster.

Why a waiting room: a message negatively acknowledged with a delay stays "unacknowledged", so
it would hold one of the instance's concurrency slots for its whole backoff. A retry instead
moves the job to `wait.<instance>` (a new message, de-duplicated by its try number); the
workers that lease an instance also watch its waiting room, negatively acknowledge each job
there with the delay still to go, and move it back to `deliver.<instance>` when it is due.

A lease is the consumer's ack wait (`delivery.lease_seconds`), renewed while the process that
holds the job lives (up to `MAX_HOLD_LEASES` times): a job waiting for a rate limit is not handed
to a second worker, and a killed worker's jobs go to the others when its leases end. A job past
`max_deliveries` tries, or delivered that many times without ever being settled (its workers
died: JetStream's max-deliveries advisory), goes to the dead letters too.

The NATS client is asynchronous; the queue interface is not (workers call it from threads): the
connection lives on its own event loop (`jetstream.Cluster`) and every method runs a coroutine
there.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import json
import time
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from . import logs
from .batching import collector_for
from .delivery import RateLimiter
from .jetstream import (
    Cluster,
    Puller,
    QueueSetupError,
    QueueUnavailable,
    StreamSlots,
    describe,
    nats_module,
    subject_token,
)
from .queue import DeadLetter, Incoming, Job, Retry, _encode
from .queue_settings import JetStreamSettings
from .shared_limits import CombinedLimiter, SharedRateLimiter
from .workspace import DestinationInstance, RateLimit, Workspace

__all__ = ["InstanceLimits", "JetStreamQueue", "QueueSetupError", "QueueUnavailable", "worker_view"]

log = logs.logger("jetstream")

FETCH_WAIT_SECONDS = 0.5  # how long one lease waits for jobs to arrive
WAITING_ROOM_CAP = 100_000  # jobs parked for a retry that one consumer may hold at once
WAITING_ROOM_BATCH = 256
DEPTH_WAIT_SECONDS = 0.25  # the most /metrics waits for the cluster
MAX_HOLD_LEASES = 5  # a job held longer than this many lease periods goes to another worker


# --------------------------------------------------------------------------- message bodies


@dataclass(frozen=True)
class _JobRecord:
    """One job as stored in a message body (JSON)."""

    key: str  # de-duplication key of the job; every move derives its message id from it
    destination: str
    mapping: str
    message_id: str
    event: dict[str, Any]
    enqueued_at: float
    attempts: int = 0  # failed tries so far
    not_before: float = 0.0  # in the waiting room: when the next try is due
    last_error: str = ""

    def fields(self) -> dict[str, Any]:
        """The record's fields (the event itself, not a deep copy as `asdict` would make)."""
        return dict(vars(self))

    def encode(self) -> bytes:
        return _encode(self.fields()).encode()

    @classmethod
    def decode(cls, data: bytes) -> _JobRecord:
        fields = json.loads(data)
        if not isinstance(fields, dict):
            raise ValueError("a job must be a JSON object")
        return cls(**fields)

    def job(self, job_id: int) -> Job:
        return Job(
            job_id,
            self.destination,
            self.mapping,
            self.message_id,
            self.event,
            self.enqueued_at,
            self.attempts,
        )


def _job_key(source: str, message_id: str, destination: str, mapping: str) -> str:
    text = "\x1f".join((source, message_id, destination, mapping))
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def _dead_record(
    record: _JobRecord, reason: str, status: int | None, response: str, at: float
) -> bytes:
    body = {
        "job": record.fields(),
        "reason": reason,
        "status": status,
        "response": response,
        "failed_at": at,
    }
    return _encode(body).encode()


def _dead_letter(data: bytes, letter_id: int) -> DeadLetter:
    body = json.loads(data)
    record = _JobRecord(**body["job"])
    job = record.job(0)
    return DeadLetter(
        job, body["reason"], body["status"], body["response"], letter_id, body["failed_at"]
    )


# --------------------------------------------------------------------------- the queue


@dataclass(frozen=True)
class InstanceLimits:
    """What holds for one destination instance across all workers together."""

    concurrency: int  # requests in flight
    jobs_per_request: int = 1  # more for a destination that sends records in batches
    rate: RateLimit | None = None
    timeout_seconds: float = 10.0

    @classmethod
    def of(cls, instance: DestinationInstance) -> InstanceLimits:
        jobs = max(1, collector_for(instance).max_jobs)
        return cls(instance.concurrency, jobs, instance.rate, instance.timeout_seconds)

    @property
    def pending_cap(self) -> int:
        """Jobs handed out at once: enough to fill every request allowed in flight."""
        return self.concurrency * self.jobs_per_request


class JetStreamQueue:
    """The Queue interface (and the dead-letter operations) on a JetStream cluster.

    `limits`: per destination instance, what every worker together must keep to. `open()`
    connects and declares the streams and consumers.
    """

    def __init__(
        self,
        settings: JetStreamSettings,
        limits: Mapping[str, InstanceLimits],
        lease_seconds: float = 60.0,
        clock: Any = time.time,
    ) -> None:
        self.settings = settings
        self.limits = dict(limits)
        self.lease_seconds = lease_seconds
        self.clock = clock
        self.stream = settings.stream
        self.dead_stream = f"{settings.stream}_DEAD"
        self.cluster = Cluster(settings)
        self.rate_slots = StreamSlots(self.cluster, settings.stream, "RATE")
        self.busy_slots = StreamSlots(self.cluster, settings.stream, "BUSY")
        self._leased: dict[int, Any] = {}  # job id (stream sequence) -> the message to settle
        self._leased_at: dict[int, float] = {}
        self._deliver_pullers: dict[str, Puller] = {}
        self._background: list[asyncio.Task[None]] = []
        self._last_depth: dict[str, int] = {}
        self._depth_query: concurrent.futures.Future[dict[str, int]] | None = None

    @classmethod
    def for_workspace(cls, workspace: Workspace) -> JetStreamQueue:
        """Connected, with the streams and consumers the workspace needs (blocks until ready)."""
        settings = workspace.queue
        if settings is None:
            raise ValueError("the workspace uses the embedded SQLite queue")
        limits = {n: InstanceLimits.of(i) for n, i in workspace.destinations.items()}
        queue = cls(settings, limits, workspace.lease_seconds)
        queue.open()
        return queue

    # ------------------------------------------------------------------ connection and setup

    def open(self) -> None:
        self.cluster.run(self.cluster.connect(self._declare))
        log.info(
            "connected to JetStream",
            extra={
                "servers": self.settings.shown_servers(),
                "stream": self.stream,
                "replicas": self.settings.replicas,
            },
        )

    async def _declare(self) -> None:
        """The streams and consumers the workspace needs, created or updated in place."""
        api = nats_module().js.api
        settings = self.settings
        storage = api.StorageType(settings.storage)
        await self.cluster.ensure_stream(
            api.StreamConfig(
                name=self.stream,
                subjects=[f"{self.stream}.deliver.>", f"{self.stream}.wait.>"],
                retention=api.RetentionPolicy(settings.retention),
                storage=storage,
                num_replicas=settings.replicas,
                duplicate_window=settings.duplicate_window_seconds,
                max_age=settings.max_age_seconds or 0,
            )
        )
        await self.cluster.ensure_stream(
            api.StreamConfig(
                name=self.dead_stream,
                subjects=[f"{self.stream}.dead.>"],
                retention=api.RetentionPolicy.LIMITS,
                storage=storage,
                num_replicas=settings.replicas,
                duplicate_window=settings.duplicate_window_seconds,
            )
        )
        for name, limits in self.limits.items():
            if limits.rate is not None:
                await self.rate_slots.declare(name)
            if limits.jobs_per_request > 1:
                await self.busy_slots.declare(name)
            token = subject_token(name)
            await self.cluster.ensure_consumer(
                self.stream,
                api.ConsumerConfig(
                    durable_name=f"deliver-{token}",
                    filter_subject=f"{self.stream}.deliver.{token}",
                    ack_policy=api.AckPolicy.EXPLICIT,
                    ack_wait=self.lease_seconds,
                    max_deliver=settings.max_deliveries,
                    max_ack_pending=limits.pending_cap,
                ),
            )
            await self.cluster.ensure_consumer(
                self.stream,
                api.ConsumerConfig(
                    durable_name=f"wait-{token}",
                    filter_subject=f"{self.stream}.wait.{token}",
                    ack_policy=api.AckPolicy.EXPLICIT,
                    ack_wait=30.0,
                    max_deliver=-1,
                    max_ack_pending=WAITING_ROOM_CAP,
                ),
            )

    def close(self) -> None:
        """Stop the background work and the connection (a second call does nothing)."""
        if self.cluster.loop.is_closed():
            return
        try:
            self.cluster.run(self._close())
        except Exception:  # closing anyway
            log.exception("closing the NATS connection failed")
        self.cluster.stop()

    async def _close(self) -> None:
        self.cluster.closing = True
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await self.cluster.close()

    async def _publish(self, subject: str, data: bytes, message_id: str, stream: str) -> Any:
        return await self.cluster.publish(subject, data, stream, {"Nats-Msg-Id": message_id})

    # ------------------------------------------------------------------ the Queue interface

    def enqueue(self, source: str, messages: Sequence[Incoming]) -> tuple[int, int]:
        return self.cluster.run(self._enqueue(source, messages))

    async def _enqueue(self, source: str, messages: Sequence[Incoming]) -> tuple[int, int]:
        now = self.clock()
        results = await asyncio.gather(*(self._publish_event(source, m, now) for m in messages))
        duplicates = sum(1 for stored in results if not stored)
        return len(results) - duplicates, duplicates

    async def _publish_event(self, source: str, message: Incoming, now: float) -> bool:
        """Publish the jobs of one event; False when all were duplicates within the window.

        An event with no route stores nothing, so a re-sent one cannot be told apart: it
        counts as accepted (nothing is delivered either way).
        """
        if not message.routes:
            return True
        acks = []
        for destination, mapping in message.routes:
            key = _job_key(source, message.message_id, destination, mapping)
            record = _JobRecord(key, destination, mapping, message.message_id, message.event, now)
            subject = f"{self.stream}.deliver.{subject_token(destination)}"
            acks.append(self._publish(subject, record.encode(), key, self.stream))
        answers = await asyncio.gather(*acks)
        return not all(answer.duplicate for answer in answers)

    def lease(self, destination: str, limit: int, lease_seconds: float) -> list[Job]:
        """Up to `limit` jobs from the instance's shared consumer (waits briefly for some).

        The lease lasts the consumer's ack wait (the workspace's `delivery.lease_seconds`).
        """
        return self.cluster.run(self._lease(destination, limit))

    async def _lease(self, destination: str, limit: int) -> list[Job]:
        nats = nats_module()
        puller = await self._deliver_puller(destination)
        try:
            messages = await puller.pull(max(1, limit), FETCH_WAIT_SECONDS)
        except nats.errors.Error as exc:  # e.g. reconnecting: the worker asks again soon
            log.info("lease failed", extra={"destination": destination, "error": describe(exc)})
            await asyncio.sleep(0.2)
            return []
        jobs = []
        for message in messages:
            job_id = message.metadata.sequence.stream
            try:
                record = _JobRecord.decode(message.data)
            except (ValueError, TypeError):
                log.error("unreadable job removed", extra={"destination": destination})
                await message.term()
                continue
            self._leased[job_id] = message
            self._leased_at[job_id] = time.monotonic()
            jobs.append(record.job(job_id))
        return jobs

    async def _deliver_puller(self, destination: str) -> Puller:
        puller = self._deliver_pullers.get(destination)
        if puller is None:
            token = subject_token(destination)
            puller = Puller(self.cluster, self.stream, f"deliver-{token}")
            self._deliver_pullers[destination] = puller
            # A process that delivers an instance also moves its due retries back.
            self._start(self._move_due_retries(destination))
            # The first instance this process leases (decided before any await: workers lease
            # concurrently) starts what the whole process needs once.
            if len(self._deliver_pullers) == 1:
                self._start(self._keep_leases())
                await self.cluster.nc.subscribe(  # (the connection keeps the subscription)
                    f"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{self.stream}.*",
                    queue="actionspec-max-deliveries",
                    cb=self._on_max_deliveries,
                )
        return puller

    def _held(self, job_id: int) -> Any:
        """The leased message of `job_id` (None if settled already), no longer kept alive."""
        self._leased_at.pop(job_id, None)
        return self._leased.pop(job_id, None)

    async def _keep_leases(self) -> None:
        """Keep the leases of the jobs this process holds from ending while it lives.

        A job may wait here for its turn (a rate limit, a store failing over) longer than
        the lease; without this, JetStream would give it to another worker meanwhile and both
        would send it. Each lease is kept for at most `MAX_HOLD_LEASES` lease periods, so
        that a stuck process cannot keep its jobs forever; a dead one keeps nothing.
        """
        interval = max(0.2, self.lease_seconds / 3)
        while not self.cluster.closing:
            await asyncio.sleep(interval)
            oldest = time.monotonic() - MAX_HOLD_LEASES * self.lease_seconds
            held = [m for i, m in list(self._leased.items()) if self._leased_at.get(i, 0) > oldest]
            results = await asyncio.gather(*(m.in_progress() for m in held), return_exceptions=True)
            if any(isinstance(r, BaseException) for r in results):
                await asyncio.sleep(interval)  # e.g. reconnecting: try again next round

    def _start(self, coro: Coroutine[Any, Any, None]) -> None:
        self._background.append(asyncio.get_running_loop().create_task(coro))

    def acknowledge(self, job_ids: Sequence[int]) -> None:
        self.settle(acknowledged=job_ids)

    def retry_later(self, retries: Sequence[Retry]) -> None:
        self.settle(retries=retries)

    def dead_letter(self, letters: Sequence[DeadLetter]) -> None:
        self.settle(dead=letters)

    def settle(
        self,
        acknowledged: Sequence[int] = (),
        retries: Sequence[Retry] = (),
        dead: Sequence[DeadLetter] = (),
    ) -> None:
        """Acknowledge, retry and dead-letter concurrently; a job that cannot be settled is
        leased again when its lease ends (so at worst it is delivered twice)."""
        self.cluster.run(self._settle(acknowledged, retries, dead))

    async def _settle(
        self, acknowledged: Sequence[int], retries: Sequence[Retry], dead: Sequence[DeadLetter]
    ) -> None:
        work = [self._ack(job_id) for job_id in acknowledged]
        work += [self._retry(retry) for retry in retries]
        work += [self._bury(letter) for letter in dead]
        results = await asyncio.gather(*work, return_exceptions=True)
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed:
            log.warning(
                "some results could not be written; those jobs will be delivered again",
                extra={"jobs": len(failed), "error": describe(failed[0])},
            )

    async def _ack(self, job_id: int) -> None:
        message = self._held(job_id)
        if message is not None:
            await self.cluster.settle(message)

    async def _retry(self, retry: Retry) -> None:
        message = self._held(retry.job_id)
        if message is None:
            return
        record = _JobRecord.decode(message.data)
        tries = record.attempts + 1
        if tries >= self.settings.max_deliveries:
            reason = f"gave up after {tries} tries (max_deliveries); last: {retry.error}"
            log.warning(
                "delivery failed for good: dead letter",
                extra={
                    "destination": record.destination,
                    "message_id": record.message_id,
                    "reason": reason,
                },
            )
            await self._publish_dead(record, reason, None, "")
        else:
            waiting = replace(
                record,
                attempts=tries,
                not_before=self.clock() + retry.delay_seconds,
                last_error=retry.error,
            )
            subject = f"{self.stream}.wait.{subject_token(record.destination)}"
            await self._publish(subject, waiting.encode(), f"{record.key}.wait{tries}", self.stream)
        await self.cluster.settle(message)

    async def _bury(self, letter: DeadLetter) -> None:
        message = self._held(letter.job.id)
        if message is None:  # settled already (e.g. twice in one shutdown): keep one copy
            return
        record = _JobRecord.decode(message.data)
        await self._publish_dead(record, letter.reason, letter.status, letter.response)
        await self.cluster.settle(message)

    async def _publish_dead(
        self, record: _JobRecord, reason: str, status: int | None, response: str
    ) -> None:
        tries = record.attempts + 1
        data = _dead_record(replace(record, attempts=tries), reason, status, response, self.clock())
        subject = f"{self.stream}.dead.{subject_token(record.destination)}"
        await self._publish(subject, data, f"{record.key}.dead{tries}", self.dead_stream)

    def release(self, job_ids: Sequence[int]) -> None:
        self.cluster.run(self._release(job_ids))

    async def _release(self, job_ids: Sequence[int]) -> None:
        messages = [m for i in job_ids if (m := self._held(i)) is not None]
        await asyncio.gather(
            *(self.cluster.settle(m, nak=True) for m in messages), return_exceptions=True
        )

    def next_due(self, destination: str) -> float | None:
        """JetStream hands out due jobs itself: nothing to wait for here."""
        return None

    # ------------------------------------------------------------------ background work

    async def _move_due_retries(self, destination: str) -> None:
        """Watch the instance's waiting room; move each job back when its retry is due."""
        nats = nats_module()
        token = subject_token(destination)
        puller = Puller(self.cluster, self.stream, f"wait-{token}")
        while not self.cluster.closing:
            try:
                messages = await puller.pull(WAITING_ROOM_BATCH, 1.0)
            except nats.errors.Error:
                await asyncio.sleep(0.5)
                continue
            now = self.clock()
            results = await asyncio.gather(
                *(self._move_if_due(m, token, now) for m in messages),
                return_exceptions=True,
            )
            for result in results:
                if isinstance(result, BaseException):
                    log.warning(
                        "could not move a retry back yet", extra={"error": describe(result)}
                    )

    async def _move_if_due(self, message: Any, token: str, now: float) -> None:
        record = _JobRecord.decode(message.data)
        if record.not_before > now:
            await message.nak(delay=record.not_before - now)
            return
        due = replace(record, not_before=0.0)
        subject = f"{self.stream}.deliver.{token}"
        await self._publish(
            subject, due.encode(), f"{record.key}.try{record.attempts}", self.stream
        )
        await self.cluster.settle(message)

    async def _on_max_deliveries(self, advisory: Any) -> None:
        """A job delivered `max_deliveries` times without a result: a dead letter."""
        nats = nats_module()
        try:
            body = json.loads(advisory.data)
            sequence = int(body["stream_seq"])
            stored = await self.cluster.js.get_msg(self.stream, sequence)
            record = _JobRecord.decode(stored.data)
            reason = (
                f"delivered {body.get('deliveries')} times without a result "
                "(each worker holding it stopped before settling it)"
            )
            log.warning(
                "job never settled: dead letter",
                extra={
                    "destination": record.destination,
                    "message_id": record.message_id,
                    "reason": reason,
                },
            )
            await self._publish_dead(record, reason, None, "")
            await self.cluster.js.delete_msg(self.stream, sequence)
        except nats.js.errors.NotFoundError:
            return  # settled or moved meanwhile
        except Exception as exc:
            log.warning(
                "could not dead-letter an undeliverable job", extra={"error": describe(exc)}
            )

    # ------------------------------------------------------------------ operations

    def release_all_leases(self) -> int:
        """Nothing to do: JetStream ends the leases of a dead process after its ack wait."""
        return 0

    def depth(self) -> dict[str, int]:
        """Jobs waiting, in flight or waiting for a retry, by instance.

        Called by /metrics on the service's event loop, so it waits at most a moment: when the
        cluster is slow (a node fails over) the last known figures are returned, rather than
        stalling the workers on that loop until their leases end.
        """
        if self._depth_query is None or self._depth_query.done():
            self._depth_query = self.cluster.submit(self._depth())
        try:
            self._last_depth = self._depth_query.result(timeout=DEPTH_WAIT_SECONDS)
        except concurrent.futures.TimeoutError:
            pass  # still asking: the next scrape gets the answer
        except Exception as exc:
            log.info("queue depth unavailable", extra={"error": describe(exc)})
        return dict(self._last_depth)

    async def _depth(self) -> dict[str, int]:
        async def one(name: str) -> tuple[str, int]:
            token = subject_token(name)
            total = 0
            for consumer in (f"deliver-{token}", f"wait-{token}"):
                info = await self.cluster.js.consumer_info(self.stream, consumer, timeout=2)
                total += info.num_pending + info.num_ack_pending
            return name, total

        return dict(await asyncio.gather(*(one(name) for name in self.limits)))

    def dead_letters(self, destination: str | None = None, limit: int = 100) -> list[DeadLetter]:
        return self.cluster.run(self._dead_letters(destination, limit))

    async def _dead_letters(self, destination: str | None, limit: int) -> list[DeadLetter]:
        nats = nats_module()
        subject = f"{self.stream}.dead." + (
            ">" if destination is None else subject_token(destination)
        )
        letters: list[DeadLetter] = []
        sequence = 1
        while len(letters) < limit:
            try:
                stored = await self.cluster.js.get_msg(
                    self.dead_stream, sequence, subject=subject, next=True
                )
            except nats.js.errors.NotFoundError:
                break
            letters.append(_dead_letter(stored.data, stored.seq))
            sequence = stored.seq + 1
        return letters

    def dead_letter_by_id(self, letter_id: int) -> DeadLetter | None:
        return self.cluster.run(self._dead_letter_by_id(letter_id))

    async def _dead_letter_by_id(self, letter_id: int) -> DeadLetter | None:
        nats = nats_module()
        if letter_id < 1:
            return None
        try:
            stored = await self.cluster.js.get_msg(self.dead_stream, letter_id)
        except nats.js.errors.NotFoundError:
            return None
        return _dead_letter(stored.data, stored.seq)

    def replay(self, letter_ids: Sequence[int]) -> int:
        """Move dead letters back into the queue as new jobs; returns how many moved."""
        return self.cluster.run(self._replay(letter_ids))

    async def _replay(self, letter_ids: Sequence[int]) -> int:
        moved = 0
        for letter_id in dict.fromkeys(letter_ids):
            letter = await self._dead_letter_by_id(letter_id)
            if letter is None:
                continue
            job = letter.job
            # A new key: the replayed job must not be taken for a duplicate of its first life.
            key = hashlib.sha256(f"{self.dead_stream}:{letter_id}:{job.message_id}".encode())
            record = _JobRecord(
                key.hexdigest()[:40],
                job.destination,
                job.mapping,
                job.message_id,
                job.event,
                self.clock(),
            )
            subject = f"{self.stream}.deliver.{subject_token(job.destination)}"
            await self._publish(subject, record.encode(), record.key, self.stream)
            await self.cluster.js.delete_msg(self.dead_stream, letter_id)
            moved += 1
        return moved

    # ------------------------------------------------------------------ shared limits

    def shared_limiter(self, name: str) -> RateLimiter | None:
        """What takes the place of a worker's own rate limiter for instance `name`: its rate
        limit and, for a batching destination, its requests in flight, kept in JetStream so
        that they hold for all workers together. (A job-per-request destination needs no
        more than the consumer's pending cap for its concurrency.)"""
        limits = self.limits.get(name)
        if limits is None:
            return None
        # httpx applies the timeout to each phase (connect, write, read, pool): at most ~4x.
        longest = 4 * limits.timeout_seconds
        parts: list[RateLimiter] = []
        if limits.jobs_per_request > 1:
            in_flight = RateLimit(limits.concurrency, 0.0)  # counted from start to end only
            parts.append(SharedRateLimiter(self.busy_slots, name, in_flight, longest))
        if limits.rate is not None:
            parts.append(SharedRateLimiter(self.rate_slots, name, limits.rate, longest))
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else CombinedLimiter(parts)


def worker_view(workspace: Workspace) -> Workspace:
    """The workspace as one worker process sees it: each instance's concurrency capped at the
    queue's `worker_concurrency` (the instance's own concurrency holds for all workers)."""
    settings = workspace.queue
    if settings is None or settings.worker_concurrency is None:
        return workspace
    cap = settings.worker_concurrency
    instances = {
        name: replace(instance, concurrency=min(instance.concurrency, cap))
        for name, instance in workspace.destinations.items()
    }
    return replace(workspace, destinations=instances)
