"""A fake destination API on loopback that answers like the real ones and injects faults.

It speaks plain HTTP/1.1 over asyncio streams (not a framework) so that it can do what real
outages do: drop a connection without an answer, or answer too slowly. It runs in a thread of
the test process; the service under test is a separate process that sends to it.

Routes (the paths the specs build, under any origin):
- Clay   `POST /segment/<connection key>/events`: needs `Authorization: Bearer <secret>`.
- Relay  `POST /api/v1/events/send` (Loops-like): bearer key, 10 requests/s else 429.
- Bulk   `POST /1/upload` (CleverTap-like): `{"d": [records]}`; records whose profileData has
  `"invalid": true` come back in `unprocessed` of a `"status": "partial"` answer (code 512).
Any event whose properties or traits hold `"poison": true` gets a 400: it must be dead-lettered.

Measured here, per route: arrivals (for the rate), requests in flight (for concurrency; a client
that gives up stops counting), and what was accepted, by messageId (for delivery and duplicates).
"""

from __future__ import annotations

import asyncio
import collections
import json
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

FAULTS = ("500", "503", "429", "slow", "drop")


@dataclass
class FaultPlan:
    """Each request gets a fault with probability `rate`, drawn from `kinds`."""

    rate: float = 0.0
    kinds: tuple[str, ...] = FAULTS
    retry_after_seconds: int = 1
    slow_seconds: float = 2.0


@dataclass
class Route:
    name: str
    arrivals: list[float] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    accepted: collections.Counter[str] = field(default_factory=collections.Counter)
    statuses: collections.Counter[str] = field(default_factory=collections.Counter)
    bodies: list[Any] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    idempotency_keys: collections.Counter[str] = field(default_factory=collections.Counter)
    rate_limited: int = 0  # 429s of the API's own rate limit (not injected faults)

    def max_in_window(self, seconds: float) -> int:
        """Most arrivals within any window of `seconds` (a sliding window over arrivals)."""
        times = sorted(self.arrivals)
        most, start = 0, 0
        for end, moment in enumerate(times):
            while moment - times[start] >= seconds:
                start += 1
            most = max(most, end - start + 1)
        return most


class FakeDestination:
    def __init__(
        self,
        clay_secret: str,
        relay_key: str,
        bulk_passcode: str,
        seed: int = 1,
        relay_rate: tuple[int, float] = (10, 1.0),
        latency_seconds: float = 0.0,
    ) -> None:
        self.clay_secret = clay_secret
        self.relay_key = relay_key
        self.bulk_passcode = bulk_passcode
        self.faults = FaultPlan()
        self.relay_rate = relay_rate
        self.latency_seconds = latency_seconds
        self.rng = random.Random(seed)
        self.routes = {name: Route(name) for name in ("clay", "relay", "bulk", "other")}
        self.faults_injected: collections.Counter[str] = collections.Counter()
        self._relay_window: collections.deque[float] = collections.deque()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self.port = 0

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> str:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._connection, "127.0.0.1", 0), self._loop
        )
        self._server = future.result(5)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.url

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def delivered_ids(self, route: str) -> set[str]:
        return set(self.routes[route].accepted)

    def duplicates(self) -> int:
        return sum(c - 1 for r in self.routes.values() for c in r.accepted.values() if c > 1)

    # ------------------------------------------------------------------ HTTP

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        key, _, value = line.partition(":")
                        headers[key.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                keep = await self._request(reader, writer, method, path, headers, body)
                if not keep:
                    return
        finally:
            writer.close()

    async def _request(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
    ) -> bool:
        route = self.routes[self._route_name(path)]
        route.arrivals.append(time.monotonic())
        route.in_flight += 1
        route.max_in_flight = max(route.max_in_flight, route.in_flight)
        try:
            if self.latency_seconds:
                await asyncio.sleep(self.latency_seconds)
            fault = self._fault()
            if fault == "drop":
                writer.transport.abort()
                return False
            if fault == "slow":
                # Answer late, unless the client gave up first (then it is not processed).
                try:
                    gone = await asyncio.wait_for(reader.read(1), self.faults.slow_seconds)
                except TimeoutError:
                    gone = b"x"
                if not gone:
                    return False
            if fault in ("500", "503"):
                status, answer, extra = int(fault), {"error": "unavailable"}, {}
            elif fault == "429":
                status, answer = 429, {"error": "Too many requests"}
                extra = {"Retry-After": str(self.faults.retry_after_seconds)}
            else:
                status, answer, extra = self._answer(route, method, headers, body)
            route.statuses[str(status)] += 1
            self._write(writer, status, answer, extra)
            await writer.drain()
            return headers.get("connection", "").lower() != "close"
        finally:
            route.in_flight -= 1

    def _fault(self) -> str | None:
        plan = self.faults
        if plan.rate and self.rng.random() < plan.rate:
            fault = self.rng.choice(plan.kinds)
            self.faults_injected[fault] += 1
            return fault
        return None

    @staticmethod
    def _route_name(path: str) -> str:
        if path.startswith("/segment/") and path.endswith("/events"):
            return "clay"
        if path == "/api/v1/events/send":
            return "relay"
        if path == "/1/upload":
            return "bulk"
        return "other"

    @staticmethod
    def _write(
        writer: asyncio.StreamWriter, status: int, answer: Any, extra: dict[str, str]
    ) -> None:
        payload = json.dumps(answer).encode()
        head = [
            f"HTTP/1.1 {status} X",
            "Content-Type: application/json",
            f"Content-Length: {len(payload)}",
        ]
        head += [f"{k}: {v}" for k, v in extra.items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)

    # ------------------------------------------------------------------ the APIs

    def _answer(
        self, route: Route, method: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return 400, {"error": "invalid JSON"}, {}
        route.headers.append(headers)
        if route.name == "clay":
            if headers.get("authorization") != f"Bearer {self.clay_secret}":
                # Like some real APIs, echo what was sent: the service must mask it.
                return 401, {"error": "invalid secret", "got": headers.get("authorization")}, {}
            return self._single(route, body, body.get("properties"))
        if route.name == "relay":
            if headers.get("authorization") != f"Bearer {self.relay_key}":
                return 401, {"success": False, "message": "Invalid API key"}, {}
            limit, per = self.relay_rate
            now = time.monotonic()
            while self._relay_window and self._relay_window[0] <= now - per:
                self._relay_window.popleft()
            self._relay_window.append(now)
            if len(self._relay_window) > limit:
                route.rate_limited += 1
                return (
                    429,
                    {"success": False, "message": "Rate limit exceeded"},
                    {"Retry-After": "1"},
                )
            key = headers.get("idempotency-key")
            if key:
                route.idempotency_keys[key] += 1
                if route.idempotency_keys[key] > 1:  # remembered: not counted twice
                    return 200, {"success": True}, {}
            return self._single(route, body, body.get("eventProperties"))
        if route.name == "bulk":
            if headers.get("x-passcode") != self.bulk_passcode:
                return 401, {"status": "fail", "error": "Invalid Credentials", "code": 401}, {}
            return self._upload(route, body)
        return 404, {"error": "no such endpoint"}, {}

    @staticmethod
    def _single(route: Route, body: Any, properties: Any) -> tuple[int, Any, dict[str, str]]:
        if isinstance(properties, dict) and properties.get("poison"):
            return 400, {"success": False, "message": "invalid event: poison"}, {}
        route.bodies.append(body)
        route.accepted[body.get("messageId", "?")] += 1
        return 200, {"success": True}, {}

    @staticmethod
    def _upload(route: Route, body: Any) -> tuple[int, Any, dict[str, str]]:
        records = body.get("d") if isinstance(body, dict) else None
        if not isinstance(records, list) or not 1 <= len(records) <= 1000:
            return 400, {"status": "fail", "error": "d must hold 1 to 1000 records"}, {}
        unprocessed = []
        for record in records:
            data = record.get("profileData") or {}
            if data.get("poison"):
                return 400, {"status": "fail", "error": "poison record"}, {}
            if data.get("invalid"):
                unprocessed.append(
                    {"status": "fail", "code": 512, "error": "Invalid structure", "record": record}
                )
                continue
            route.accepted[record.get("messageId", "?")] += 1
        route.bodies.append(body)
        status = "partial" if unprocessed else "success"
        return (
            200,
            {
                "status": status,
                "processed": len(records) - len(unprocessed),
                "unprocessed": unprocessed,
            },
            {},
        )
