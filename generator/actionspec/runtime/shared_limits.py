"""A rate limit that every worker process obeys together, kept in a shared compare-and-set store.

It applies `delivery.RateLimiter`'s rule across processes: a request counts from its start until
`per_seconds` after its end, and a new one starts only while fewer than `requests` count. Then no
window of `per_seconds` can see more arrivals at the destination than allowed, whatever the
network does. The counted requests ("slots") of one destination instance are one JSON value in
the store; each change is a compare-and-set on the value's revision, so two processes can never
both take the last free slot.

A process that dies leaves slots without an end: each slot also carries an expiry (its start plus
the longest a request can take), after which it no longer counts. The store is one JetStream
stream per key (`jetstream.StreamSlots`: a single-message stream, written with an expected last
sequence); tests use one in memory.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable
from typing import NamedTuple, Protocol

from . import logs
from .delivery import RateLimiter
from .workspace import RateLimit

__all__ = ["CombinedLimiter", "SharedRateLimiter", "SlotStore"]

log = logs.logger("limits")


class SlotStore(Protocol):
    """A compare-and-set store: `write` succeeds only if the revision read is still current."""

    async def read(self, key: str) -> tuple[bytes | None, int]:
        """(value, revision); (None, 0) when the key does not exist."""
        ...

    async def write(self, key: str, value: bytes, revision: int) -> bool:
        """Store `value` if the key is still at `revision` (0: does not exist); False if not."""
        ...


class Slot(NamedTuple):
    """One request counted in the window (stored as a JSON array)."""

    token: str
    start: float
    end: float | None  # None while in flight
    expiry: float  # when it stops counting even without an end (its process died)


class SharedRateLimiter(RateLimiter):
    """`acquire()` before a request, `release()` after it, in any number of processes.

    A `RateLimiter` (it takes the place of a worker's own) whose window lives in the store.
    """

    def __init__(
        self,
        store: SlotStore,
        key: str,
        limit: RateLimit,
        longest_request_seconds: float,
        margin_seconds: float = 0.02,
        clock: Callable[[], float] = time.time,
        poll_seconds: float = 0.02,
    ) -> None:
        # The margin covers the clock differences between machines (NTP keeps them in ms).
        super().__init__(limit, margin_seconds)
        self.store = store
        self.key = key
        self.longest_request_seconds = longest_request_seconds
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.open_tokens: list[str] = []  # this process's slots still in flight, oldest first
        self._ending: set[asyncio.Task[None]] = set()

    def _counting(self, slots: list[Slot], now: float) -> list[Slot]:
        """The slots that still count at `now`."""
        return [
            s for s in slots if (s.end + self.window > now if s.end is not None else s.expiry > now)
        ]

    async def acquire(self) -> None:
        """Wait until a slot is free in the shared window, then take it."""
        failures = 0
        while True:
            try:
                value, revision = await self.store.read(self.key)
                now = self.clock()
                slots = self._counting(_decode(value), now)
                if len(slots) < self.requests:
                    token = os.urandom(6).hex()
                    expiry = now + self.longest_request_seconds + self.window
                    slots.append(Slot(token, now, None, expiry))
                    if await self.store.write(self.key, _encode(slots), revision):
                        self.open_tokens.append(token)
                        return
                    continue  # another process changed the slots first: read again
                wait = self.poll_seconds
                ends = [s.end + self.window - now for s in slots if s.end is not None]
                if ends:
                    wait = min(max(min(ends), 0.001), self.poll_seconds * 5)
                await asyncio.sleep(wait)
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the store is unreachable for a moment: wait, never exceed
                failures += 1
                if failures == 1:
                    log.warning(
                        "shared rate limit store unavailable; waiting",
                        extra={"key": self.key, "error": f"{type(exc).__name__}: {exc}"},
                    )
                await asyncio.sleep(min(0.05 * 2**failures, 1.0))

    def release(self) -> None:
        """The request ended now: its slot counts for one more window, then frees."""
        if not self.open_tokens:
            return
        # Any of this process's open slots may be ended: the slots' ends are then the same
        # multiset of moments as the requests' ends, which is all the count depends on.
        token = self.open_tokens.pop(0)
        task = asyncio.get_running_loop().create_task(self._end(token, self.clock()))
        self._ending.add(task)
        task.add_done_callback(self._ending.discard)

    async def _end(self, token: str, ended_at: float) -> None:
        for _ in range(50):
            try:
                value, revision = await self.store.read(self.key)
                slots = self._counting(_decode(value), self.clock())
                index = next((i for i, s in enumerate(slots) if s.token == token), None)
                if index is None:
                    return  # expired already
                slots[index] = slots[index]._replace(end=ended_at)
                if await self.store.write(self.key, _encode(slots), revision):
                    return
            except Exception:  # the slot expires on its own; until then it counts (safe side)
                await asyncio.sleep(0.1)


def _decode(value: bytes | None) -> list[Slot]:
    """The stored slots; anything unreadable is dropped (it could only block the limit)."""
    try:
        items = json.loads(value) if value else []
    except ValueError:
        return []
    slots = []
    for item in items if isinstance(items, list) else []:
        try:
            token, start, end, expiry = item
            slots.append(
                Slot(str(token), float(start), None if end is None else float(end), float(expiry))
            )
        except (TypeError, ValueError):
            continue
    return slots


def _encode(slots: list[Slot]) -> bytes:
    return json.dumps(slots, separators=(",", ":")).encode()


class CombinedLimiter(RateLimiter):
    """Several limits at once (e.g. requests in flight and a rate): each must let a request go."""

    def __init__(self, limiters: list[RateLimiter]) -> None:
        self.limiters = limiters

    async def acquire(self) -> None:
        taken: list[RateLimiter] = []
        try:
            for limiter in self.limiters:  # always in the same order: no two wait on each other
                await limiter.acquire()
                taken.append(limiter)
        except BaseException:
            for limiter in taken:
                limiter.release()
            raise

    def release(self) -> None:
        for limiter in self.limiters:
            limiter.release()
