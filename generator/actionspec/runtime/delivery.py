"""Delivery: async workers that lease jobs, send the requests the actions build, and settle them.

One worker per destination instance. It never has more requests in flight than the instance's
concurrency, never starts more than its rate limit allows (both from the spec's `limits`,
possibly lowered by the workspace), and applies Segment's retry policy to every answer: per
job, also when one request carries a batch of jobs (batching.py). Results are written back
in small groups (one transaction every few milliseconds).

Requests are built from the stored event each time a job is sent, so every try of a job sends
the same request: the `Idempotency-Key` a spec declares (Loops' sendEvent: the messageId)
included. The workspace can replace it (`idempotency_key: true`: a key made from instance,
mapping and messageId) or drop it (`false`); see `Worker.headers`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import json
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from . import logs
from .batching import (
    MAX_LEASED_JOBS,
    BatchCollector,
    Outcome,
    Send,
    collector_for,
    outcome_of_status,
    parse_json,
)
from .metrics import DeliveryMetrics
from .queue import DeadLetter, Job, Queue, Retry
from .retry import RetryPolicy, parse_retry_after
from .workspace import DestinationInstance, RateLimit, Workspace

__all__ = ["Delivery", "RateLimiter"]

log = logs.logger("delivery")
RESPONSE_KEPT = 2000  # characters of a response body kept in a dead letter


def _httpx() -> Any:
    try:
        import httpx
    except ImportError:  # pragma: no cover - depends on the installation
        raise RuntimeError("delivery needs httpx: pip install 'destinations[serve]'") from None
    return httpx


class RateLimiter:
    """At most `requests` requests *arriving* at the destination in any `per_seconds` window.

    A request may arrive any time between its start and its end, and a busy event loop or a
    slow connection can delay it, so counting starts is not enough. A request counts from its
    start until `per_seconds` after its end; a new one starts only while fewer than `requests`
    count. Then no window can hold more arrivals than allowed, whatever the network does.
    """

    def __init__(self, limit: RateLimit, margin_seconds: float = 0.01) -> None:
        self.requests = limit.requests
        self.window = limit.per_seconds + margin_seconds
        self.in_flight = 0
        self.ended: collections.deque[float] = collections.deque()
        self._released = asyncio.Event()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                while self.ended and self.ended[0] <= now - self.window:
                    self.ended.popleft()
                if self.in_flight + len(self.ended) < self.requests:
                    self.in_flight += 1
                    return
                if self.ended:  # the oldest finished request leaves the window first
                    await asyncio.sleep(self.ended[0] + self.window - now)
                else:  # all are in flight: wait for one to finish
                    self._released.clear()
                    await self._released.wait()

    def release(self) -> None:
        self.in_flight -= 1
        self.ended.append(time.monotonic())
        self._released.set()


class Settler:
    """Collects job results and writes them to the queue in one transaction per group."""

    def __init__(self, queue: Queue, interval: float = 0.01) -> None:
        self.queue = queue
        self.interval = interval
        self.acks: list[int] = []
        self.retries: list[Retry] = []
        self.dead: list[DeadLetter] = []
        self.released: list[int] = []
        self._lock = asyncio.Lock()

    async def flush(self) -> None:
        async with self._lock:
            acks, retries, dead, released = self.acks, self.retries, self.dead, self.released
            self.acks, self.retries, self.dead, self.released = [], [], [], []
            if acks or retries or dead:
                await asyncio.to_thread(self.queue.settle, acks, retries, dead)
            if released:
                await asyncio.to_thread(self.queue.release, released)

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            await asyncio.sleep(self.interval)
            try:
                await self.flush()
            except Exception:  # e.g. the disk is full: unsettled jobs are leased again later
                log.exception("could not write delivery results to the queue")
                await asyncio.sleep(1)


IDEMPOTENCY_HEADER = "Idempotency-Key"


def idempotency_key(jobs: Sequence[Job]) -> str:
    """The same key for every try of the same jobs (64 characters: Loops allows 100).

    Made of instance, mapping and messageId, so two mappings sending the same event get
    different keys (a key reused with another body is refused by Loops with a 409).
    """
    text = "\n".join(f"{j.destination}\t{j.mapping}\t{j.message_id}" for j in jobs)
    return hashlib.sha256(text.encode()).hexdigest()


class Worker:
    """Delivers the jobs of one destination instance."""

    def __init__(
        self,
        instance: DestinationInstance,
        queue: Queue,
        settler: Settler,
        metrics: DeliveryMetrics,
        policy: RetryPolicy,
        secrets: frozenset[str],
        lease_seconds: float = 60.0,
        poll_seconds: float = 0.25,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.instance = instance
        self.queue = queue
        self.settler = settler
        self.metrics = metrics
        self.policy = policy
        self.secrets = secrets
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.collector: BatchCollector = collector_for(instance)
        # `limiter`: one shared with other processes (JetStream), in place of the worker's own.
        self.limiter = limiter or (RateLimiter(instance.rate) if instance.rate else None)
        self.wake = asyncio.Event()
        self.tasks: set[asyncio.Task[None]] = set()
        # Leasing follows free slots, but a batch collector may split jobs into more requests:
        # the semaphore is what guarantees the concurrency limit.
        self.slots = asyncio.Semaphore(instance.concurrency)
        self.slot_freed = asyncio.Event()
        httpx = _httpx()
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(instance.timeout_seconds),
            limits=httpx.Limits(
                max_connections=instance.concurrency,
                max_keepalive_connections=instance.concurrency,
            ),
        )
        self.rng = random.Random()

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                await self._step(stopping)
            except Exception:  # keep delivering: leased jobs come back when their lease ends
                log.exception("delivery worker error", extra={"destination": self.instance.name})
                await asyncio.sleep(1)

    async def _step(self, stopping: asyncio.Event) -> None:
        """Lease what the free slots can take and start sending it (or wait for work)."""
        name = self.instance.name
        free = self.instance.concurrency - len(self.tasks)
        if free <= 0:
            self.slot_freed.clear()
            await _wait_any(self.slot_freed, stopping, timeout=self.poll_seconds)
            return
        wanted = free * self.collector.max_jobs
        if self.collector.max_jobs > 1:
            wanted = min(wanted, max(MAX_LEASED_JOBS, self.collector.max_jobs))
        jobs = await asyncio.to_thread(self.queue.lease, name, wanted, self.lease_seconds)
        if not jobs:
            self.wake.clear()
            due = await asyncio.to_thread(self.queue.next_due, name)
            wait = self.poll_seconds
            if due is not None:
                wait = min(wait, max(0.0, due - time.time()))
            await _wait_any(self.wake, stopping, timeout=wait)
            return
        sends, failed = self.collector.collect(jobs)
        for job, outcome in failed:
            self.settle(job, outcome)
        for send in sends:
            task = asyncio.create_task(self.deliver(send))
            self.tasks.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        self.slot_freed.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("delivery task failed", exc_info=task.exception())

    async def deliver(self, send: Send) -> None:
        try:
            async with self.slots:
                if self.limiter is None:
                    outcomes = await self._send(send)
                else:
                    await self.limiter.acquire()
                    try:
                        outcomes = await self._send(send)
                    finally:
                        self.limiter.release()
        except asyncio.CancelledError:
            # Shutdown ran out of time: hand the jobs back without counting a try.
            self.settler.released.extend(job.id for job in send.jobs)
            raise
        for job, outcome in zip(send.jobs, outcomes, strict=True):
            self.settle(job, outcome)

    def headers(self, send: Send) -> dict[str, str]:
        """The request's headers, with the workspace's `idempotency_key` choice applied.

        Not set: the headers the spec declares, as built. True: any key the spec declares is
        replaced by `idempotency_key(jobs)`, for APIs that honour the header but whose spec
        does not send it, or to keep keys apart when several mappings send the same event.
        False: no key is sent (e.g. to replay, after a mapping change, events whose key the
        API still remembers with the old body).
        """
        headers = dict(send.request.headers)
        choice = self.instance.idempotency_key
        if choice is None:
            return headers
        for name in [k for k in headers if k.lower() == IDEMPOTENCY_HEADER.lower()]:
            del headers[name]
        if choice:
            headers[IDEMPOTENCY_HEADER] = idempotency_key(send.jobs)
        return headers

    async def _send(self, send: Send) -> list[Outcome]:
        httpx = _httpx()
        request = send.request
        headers = self.headers(send)
        content = None
        if request.json is not None:
            content = json.dumps(request.json, ensure_ascii=False).encode()
        started = time.monotonic()
        try:
            response = await self.client.request(
                request.method, request.url, headers=headers, content=content
            )
        except httpx.TimeoutException:
            outcome = Outcome("retry", f"timed out after {self.instance.timeout_seconds:g} s")
            return [outcome] * len(send.jobs)
        except httpx.TransportError as exc:
            outcome = Outcome("retry", f"connection failed: {type(exc).__name__}")
            return [outcome] * len(send.jobs)
        finally:
            self.metrics.observe(
                "request_duration_seconds",
                time.monotonic() - started,
                destination=self.instance.name,
            )
        full_text = response.text
        text = full_text[:RESPONSE_KEPT]
        status = response.status_code
        if send.interpret is not None and 200 <= status <= 299:
            # Read the whole answer: a partial one lists every record refused.
            outcomes = send.interpret(status, parse_json(full_text), text)
            if len(outcomes) == len(send.jobs):
                return outcomes
            reason = f"batch response gave {len(outcomes)} results for {len(send.jobs)} records"
            return [Outcome("retry", reason, status, text)] * len(send.jobs)
        retry_after = parse_retry_after(response.headers.get("retry-after"), time.time())
        return [outcome_of_status(status, text, retry_after)] * len(send.jobs)

    def settle(self, job: Job, outcome: Outcome) -> None:
        name = self.instance.name
        mask = self.secrets
        if outcome.kind == "delivered":
            self.settler.acks.append(job.id)
            self.metrics.inc("deliveries_total", destination=name)
            self.metrics.observe(
                "delivery_latency_seconds", time.time() - job.enqueued_at, destination=name
            )
            return
        reason = logs.masked_text(outcome.reason, mask)
        if outcome.kind == "retry":
            delay = self.policy.next_delay(
                job.attempts + 1, time.time() - job.enqueued_at, outcome.retry_after, self.rng
            )
            if delay is not None:
                self.settler.retries.append(Retry(job.id, delay, reason))
                self.metrics.inc("delivery_retries_total", destination=name)
                log.info(
                    "delivery failed, will retry",
                    extra=_fields(job, reason, outcome.status)
                    | {"retry_in_seconds": round(delay, 3)},
                )
                return
            reason = f"gave up after {job.attempts + 1} tries within {self.policy.max_age_seconds:g} s; last: {reason}"
        response = logs.masked_text(outcome.response, mask)
        self.settler.dead.append(DeadLetter(job, reason, outcome.status, response))
        self.metrics.inc("dead_letters_total", destination=name)
        log.warning(
            "delivery failed for good: dead letter", extra=_fields(job, reason, outcome.status)
        )

    async def stop(self, grace_seconds: float) -> None:
        """Let in-flight requests finish for up to `grace_seconds`, then hand the rest back."""
        if self.tasks:
            _, pending = await asyncio.wait(set(self.tasks), timeout=grace_seconds)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
        await self.client.aclose()


def _fields(job: Job, reason: str, status: int | None) -> dict[str, Any]:
    return {
        "destination": job.destination,
        "mapping": job.mapping,
        "message_id": job.message_id,
        "attempt": job.attempts + 1,
        "status": status,
        "reason": reason,
    }


async def _wait_any(*events: asyncio.Event, timeout: float) -> None:
    waiters = [asyncio.create_task(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


class Delivery:
    """All the workers of a workspace, started and stopped together."""

    def __init__(
        self,
        workspace: Workspace,
        queue: Queue,
        metrics: DeliveryMetrics,
        poll_seconds: float = 0.25,
        limiter_for: Callable[[str], RateLimiter | None] | None = None,
    ) -> None:
        self.workspace = workspace
        self.queue = queue
        self.metrics = metrics
        self.poll_seconds = poll_seconds
        self.limiter_for = limiter_for  # instance name -> a limiter shared by all workers
        self.stopping = asyncio.Event()
        self.settler = Settler(queue)
        self.workers: dict[str, Worker] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        secrets = self.workspace.secrets()
        for name, instance in self.workspace.destinations.items():
            if not instance.enabled:
                continue
            worker = Worker(
                instance,
                self.queue,
                self.settler,
                self.metrics,
                self.workspace.retry,
                secrets,
                self.workspace.lease_seconds,
                self.poll_seconds,
                self.limiter_for(name) if self.limiter_for else None,
            )
            self.workers[name] = worker
            self._tasks.append(asyncio.create_task(worker.run(self.stopping)))
        self._tasks.append(asyncio.create_task(self.settler.run(self.stopping)))

    def wake(self, names: set[str]) -> None:
        for name in names:
            worker = self.workers.get(name)
            if worker is not None:
                worker.wake.set()

    async def stop(self, grace_seconds: float) -> None:
        """Stop leasing; finish in-flight work within the grace period, hand back the rest."""
        self.stopping.set()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await asyncio.gather(*(w.stop(grace_seconds) for w in self.workers.values()))
        await self.settler.flush()
