"""A fake destination API on loopback that answers like the real ones and injects faults.

It speaks plain HTTP/1.1 over asyncio streams (not a framework) so that it can do what real
outages do: drop a connection without an answer, or answer too slowly. It runs in a thread of
the test process; the service under test is a separate process that sends to it.

Routes (the paths the specs build, under any origin):
- Clay   `POST /segment/<connection key>/events`: needs `Authorization: Bearer <secret>`.
- Relay  `POST /relay/v1/events/send` (synthetic, Loops-like): bearer key, 10 requests/s else 429.
- Loops  `PUT /api/v1/contacts/update`, `POST /api/v1/events/send` (destination-apis.md): bearer
  key, 10 requests/s per team else 429, `Idempotency-Key` remembered (a repeat with the same body
  is answered 200 and not recorded again, with another body 409).
- Bulk   `POST /1/upload` with `X-Passcode` (synthetic, CleverTap-like): `{"d": [records]}`;
  records whose profileData has `"invalid": true` come back in `unprocessed` (code 512).
- CleverTap `POST /1/upload` with `X-CleverTap-Account-Id` and `X-CleverTap-Passcode`: 1 to 1,000
  records (at most 100 tokens) or a 400; more than 15 requests in flight get a 429 "Too many
  concurrent requests"; answers `{"status": "success"|"partial", "processed": n,
  "unprocessed": [{"status": "fail", "code", "error", "record"}]}`. A record whose evtData or
  profileData holds `"invalid": true` is left unprocessed (code 512, "Invalid structure"), the
  others are recorded: a partial answer.
Any event whose properties or traits hold `"poison": true` gets a 400: it must be dead-lettered.

Measured here, per route: arrivals (for the rate), requests in flight (for concurrency; a client
that gives up stops counting), and what was accepted, by reference (for delivery and
duplicates): the messageId where the API's body carries it, else the event's `ref` property or
trait (Loops, CleverTap) or, for a CleverTap push-token record, the token.
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
CLEVERTAP_CONCURRENCY = 15
CLEVERTAP_TOKEN_TYPES = {"fcm", "apns", "gcm", "chrome", "wns", "mpns"}


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
    rate_limited: int = 0  # 429s of the API's own rate or concurrency limit (not injected faults)
    records_per_request: list[int] = field(default_factory=list)  # batch APIs: `d` lengths

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
        *,
        loops_key: str = "",
        clevertap_account: tuple[str, str] = ("", ""),  # (account ID, passcode)
    ) -> None:
        self.clay_secret = clay_secret
        self.relay_key = relay_key
        self.bulk_passcode = bulk_passcode
        self.loops_key = loops_key
        self.clevertap_account = clevertap_account
        self.faults = FaultPlan()
        self.relay_rate = relay_rate
        self.latency_seconds = latency_seconds
        # Routes whose first answer per request body is lost: the request is processed, then
        # the connection dropped before the answer (what idempotency keys are for).
        self.lose_first_answer: set[str] = set()
        self._answers_lost: set[bytes] = set()
        self.rng = random.Random(seed)
        names = ("clay", "relay", "loops", "bulk", "clevertap", "other")
        self.routes = {name: Route(name) for name in names}
        self.faults_injected: collections.Counter[str] = collections.Counter()
        self._relay_window: collections.deque[float] = collections.deque()
        self._loops_window: collections.deque[float] = collections.deque()
        self._loops_keys: dict[str, bytes] = {}  # Idempotency-Key -> the body first sent with it
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
        route = self.routes[self._route_name(path, headers)]
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
                lose = route.name in self.lose_first_answer and status == 200
                if lose and body not in self._answers_lost:
                    self._answers_lost.add(body)  # processed, but the answer never arrives
                    writer.transport.abort()
                    return False
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
    def _route_name(path: str, headers: dict[str, str]) -> str:
        if path.startswith("/segment/") and path.endswith("/events"):
            return "clay"
        if path == "/relay/v1/events/send":
            return "relay"
        if path in ("/api/v1/events/send", "/api/v1/contacts/update"):
            return "loops"
        if path == "/1/upload":
            return "clevertap" if "x-clevertap-account-id" in headers else "bulk"
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
        if route.name == "loops":
            return self._loops(route, headers, body, raw)
        if route.name == "clevertap":
            return self._clevertap(route, headers, body)
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

    def _loops(
        self, route: Route, headers: dict[str, str], body: Any, raw: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        if headers.get("authorization") != f"Bearer {self.loops_key}":
            return 401, {"success": False, "message": "Invalid API key"}, {}
        now = time.monotonic()  # 10 requests per second per team, whatever the endpoint
        while self._loops_window and self._loops_window[0] <= now - 1.0:
            self._loops_window.popleft()
        self._loops_window.append(now)
        if len(self._loops_window) > 10:
            route.rate_limited += 1
            return 429, {"success": False, "message": "Rate limit exceeded"}, {"Retry-After": "1"}
        if not isinstance(body, dict) or not (body.get("email") or body.get("userId")):
            return 400, {"success": False, "message": "email or userId is required"}, {}
        is_event = "eventName" in body
        if is_event:
            key = headers.get("idempotency-key")
            if key is not None:
                if len(key) > 100:
                    return 400, {"success": False, "message": "Idempotency-Key too long"}, {}
                route.idempotency_keys[key] += 1
                first_body = self._loops_keys.setdefault(key, raw)
                if route.idempotency_keys[key] > 1:  # remembered for 24 hours
                    if first_body != raw:
                        return 409, {"success": False, "message": "Idempotency key reused"}, {}
                    return 200, {"success": True}, {}
            properties = body.get("eventProperties")
        else:
            properties = body
        if isinstance(properties, dict) and properties.get("poison"):
            return 400, {"success": False, "message": "invalid event: poison"}, {}
        route.bodies.append(body)
        ref = (properties or {}).get("ref") if isinstance(properties, dict) else None
        route.accepted[str(ref or body.get("userId"))] += 1
        return 200, {"success": True, "id": f"contact-{body.get('userId')}"}, {}

    def _clevertap(
        self, route: Route, headers: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        account, passcode = self.clevertap_account
        if (
            headers.get("x-clevertap-account-id") != account
            or headers.get("x-clevertap-passcode") != passcode
        ):
            return 401, {"status": "fail", "error": "Invalid Credentials", "code": 401}, {}
        if route.in_flight > CLEVERTAP_CONCURRENCY:
            route.rate_limited += 1
            return 429, {"status": "fail", "error": "Too many concurrent requests"}, {}
        records = body.get("d") if isinstance(body, dict) else None
        if not isinstance(records, list) or not 1 <= len(records) <= 1000:
            return 400, {"status": "fail", "error": "d must hold 1 to 1000 records"}, {}
        if sum(1 for r in records if isinstance(r, dict) and r.get("type") == "token") > 100:
            return 400, {"status": "fail", "error": "at most 100 token records per request"}, {}
        route.records_per_request.append(len(records))
        route.bodies.append(body)
        unprocessed = []
        for record in records:
            problem = _clevertap_problem(record)
            if problem is not None:
                code, error = problem
                unprocessed.append(
                    {"status": "fail", "code": code, "error": error, "record": record}
                )
            else:
                route.accepted[_clevertap_ref(record)] += 1
        answer = {
            "status": "partial" if unprocessed else "success",
            "processed": len(records) - len(unprocessed),
            "unprocessed": unprocessed,
        }
        return 200, answer, {}


def _clevertap_problem(record: Any) -> tuple[int, str] | None:
    """Why CleverTap would leave a record unprocessed (code, error), if it would."""
    if not isinstance(record, dict) or not any(
        record.get(k) for k in ("identity", "objectId", "FBID", "GPID")
    ):
        return 523, "Missing identity"
    kind = record.get("type")
    if kind == "event" and not record.get("evtName"):
        return 509, "Event name missing"
    if kind == "token":
        token = record.get("tokenData")
        if not isinstance(token, dict) or token.get("type") not in CLEVERTAP_TOKEN_TYPES:
            return 512, "Invalid token type"
        return None
    data = record.get("evtData") if kind == "event" else record.get("profileData")
    if kind not in ("event", "profile") or not isinstance(data, dict) or data.get("invalid"):
        return 512, "Invalid structure"
    return None


def _clevertap_ref(record: dict[str, Any]) -> str:
    if record.get("type") == "token":
        return str(record["tokenData"]["id"])
    data = record.get("evtData") if record.get("type") == "event" else record.get("profileData")
    return str(data.get("ref") or record.get("identity"))
