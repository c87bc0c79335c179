"""The connection to a NATS JetStream cluster, shared by the JetStream queue and the limits.

- `Cluster`: one NATS connection owned by a private event loop in a daemon thread (the queue
  interface is synchronous: workers call it from threads); `run(coro)` / `submit(coro)` reach
  that loop from anywhere. Connecting is retried until `connect_timeout_seconds`, then the
  connection follows the cluster through node failures on its own.
- Declarative setup: `ensure_stream` creates a stream or updates it in place when the
  workspace asks for other replicas, retention, duplicate window or age; `ensure_consumer`
  creates or updates a durable consumer. Running them at every start is harmless.
- `publish` waits for JetStream's acknowledgement (the message is stored on the stream's
  replicas) and retries through a fail-over, with `Nats-Msg-Id` so that a retry is no duplicate.
- `Puller`: pull requests on a durable consumer that return as soon as messages are there (the
  client library's `fetch` keeps waiting for a full batch, which idles slots when the
  consumer's pending cap lets jobs out one by one).
- `StreamSlots`: the compare-and-set store of the shared rate limits, one single-message stream
  per limit. (Not the key-value API: nats-server 2.9 checks a key's expected revision after
  replication, so concurrent updates at one revision can all succeed — measured on 2.9.10 —
  while a stream's expected last sequence is checked before, atomically.)

nats-py is imported lazily (the `nats` extra); its objects are typed `Any` here.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import importlib
import json
import logging
import re
import threading
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

from . import logs
from .ingest import IngestError
from .queue_settings import JetStreamSettings

__all__ = [
    "Cluster",
    "Puller",
    "QueueSetupError",
    "QueueUnavailable",
    "StreamSlots",
    "describe",
    "nats_module",
    "subject_token",
]

log = logs.logger("jetstream")
T = TypeVar("T")

PUBLISH_TIMEOUT_SECONDS = 5.0
RETRY_FOR_SECONDS = 12.0  # publishes and acks are retried this long (a node fails over in ~2-5 s)
_PLAIN_TOKEN = re.compile(r"^[A-Za-z0-9_-]+$")


class QueueUnavailable(IngestError):
    """The cluster cannot take the events now: ingestion answers 503, and clients retry."""

    def __init__(self, message: str) -> None:
        super().__init__(503, "queue_unavailable", message)


class QueueSetupError(RuntimeError):
    """The streams or consumers cannot be created or updated as the workspace asks."""


def subject_token(name: str) -> str:
    """An instance name as one subject token and consumer-name part (`.` is a separator)."""
    if _PLAIN_TOKEN.match(name):
        return name
    return name.replace(".", "_") + "-" + hashlib.sha256(name.encode()).hexdigest()[:8]


def nats_module() -> Any:
    """nats-py, imported by name: an optional dependency, not needed to type-check."""
    try:
        for name in ("nats.errors", "nats.js.api", "nats.js.errors"):
            importlib.import_module(name)
        return importlib.import_module("nats")
    except ImportError:  # pragma: no cover - depends on the installation
        raise RuntimeError(
            "the JetStream queue needs nats-py: pip install 'destinations[nats]'"
        ) from None


def describe(exc: BaseException) -> str:
    text = str(exc) or getattr(exc, "description", "") or ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _text(value: Any) -> str:
    """An enum member of nats-py's API, or the plain string it reads back from the server."""
    return str(getattr(value, "value", value))


class Cluster:
    """A connection to the cluster of `settings`, on its own event loop thread."""

    def __init__(self, settings: JetStreamSettings) -> None:
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="nats", daemon=True)
        self._thread.start()
        self.nc: Any = None
        self.js: Any = None
        self.closing = False
        self._last_problem = ""
        self._problem_logged = False
        # The client library's own log lines go through the service's masked JSON handler.
        handlers = logging.getLogger(logs.LOGGER_NAME).handlers
        if handlers:
            logging.getLogger("nats").handlers[:] = handlers
            logging.getLogger("nats").propagate = False

    # ------------------------------------------------------------------ the loop

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` on the connection's loop and wait for its result (from another thread)."""
        return self.submit(coro).result()

    async def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """The same, awaited from another event loop (the delivery workers')."""
        return await asyncio.wrap_future(self.submit(coro))

    # ------------------------------------------------------------------ connecting

    async def connect(self, declare: Any) -> None:
        """Connect and run `declare()` (the setup), again and again until it works or
        `connect_timeout_seconds` passed: a cluster that starts at the same moment needs a
        few seconds to elect its leaders."""
        nats = nats_module()
        settings = self.settings
        deadline = time.monotonic() + settings.connect_timeout_seconds
        while True:
            remaining = deadline - time.monotonic()
            try:
                if remaining <= 0:
                    raise TimeoutError
                await asyncio.wait_for(self._connect_once(declare), remaining)
                break
            except (nats.errors.Error, OSError, TimeoutError) as exc:  # not up (yet)
                if not isinstance(exc, TimeoutError) or not self._last_problem:
                    self._last_problem = describe(exc)
                if self.nc is not None:
                    with contextlib.suppress(Exception):
                        await self.nc.close()
                    self.nc = None
                if time.monotonic() >= deadline:
                    shown = ", ".join(settings.shown_servers())
                    raise QueueUnavailable(
                        f"JetStream at {shown} is not ready after "
                        f"{settings.connect_timeout_seconds:g} s: {self._last_problem}"
                    ) from None
                await asyncio.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
        self._problem_logged = False

    async def _connect_once(self, declare: Any) -> None:
        nats = nats_module()
        self.nc = await nats.connect(
            servers=list(self.settings.servers),
            name="actionspec-delivery",
            connect_timeout=2,
            reconnect_time_wait=0.5,
            max_reconnect_attempts=-1,  # once connected, follow the cluster through failures
            error_cb=self._on_error,
            disconnected_cb=self._on_disconnected,
            reconnected_cb=self._on_reconnected,
        )
        self.js = self.nc.jetstream(timeout=PUBLISH_TIMEOUT_SECONDS)
        await declare()

    async def _on_error(self, exc: Exception) -> None:
        self._last_problem = describe(exc)
        if not self._problem_logged and not self.closing:  # once per outage, not per attempt
            self._problem_logged = True
            log.warning("NATS connection problem", extra={"error": self._last_problem})

    async def _on_disconnected(self) -> None:
        if not self.closing:
            log.warning("disconnected from NATS; reconnecting")

    async def _on_reconnected(self) -> None:
        self._problem_logged = False
        url = self.nc.connected_url if self.nc is not None else None
        shown = f"{url.hostname}:{url.port}" if url is not None else "?"
        log.info("reconnected to NATS", extra={"server": shown})

    async def close(self) -> None:
        self.closing = True
        if self.nc is not None and not self.nc.is_closed:
            # Not drain(): it would wait for replies to fetches that are no longer read.
            with contextlib.suppress(Exception):
                await self.nc.flush(timeout=2)  # acknowledgements already written go out
            await self.nc.close()

    def stop(self) -> None:
        """End the loop thread (after `close`)."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self.loop.close()

    # ------------------------------------------------------------------ declarative setup

    async def ensure_stream(self, config: Any) -> None:
        """Create the stream, or update it where the workspace now asks for something else."""
        nats = nats_module()
        try:
            info = await self.js.stream_info(config.name)
        except nats.js.errors.NotFoundError:
            await self.js.add_stream(config)
            log.info("stream created", extra={"stream": config.name})
            return
        current = info.config
        if _text(current.storage) != _text(config.storage):
            raise QueueSetupError(
                f"stream {config.name} keeps its messages in {_text(current.storage)} storage; "
                f"the workspace asks for {_text(config.storage)}, which JetStream cannot change: "
                "choose another `stream` name or move the messages yourself"
            )

        def shape(c: Any) -> tuple[Any, ...]:
            return (
                sorted(c.subjects or []),
                _text(c.retention),
                c.num_replicas,
                round(c.duplicate_window or 0, 3),
                round(c.max_age or 0, 3),
                c.max_msgs or -1,
            )

        if shape(config) == shape(current):
            return
        try:
            await self.js.update_stream(config)
        except nats.js.errors.BadRequestError as exc:
            raise QueueSetupError(
                f"cannot update stream {config.name} as the workspace asks: {exc.description}"
            ) from None
        log.info("stream updated", extra={"stream": config.name})

    async def ensure_consumer(self, stream: str, config: Any) -> None:
        nats = nats_module()
        try:  # a durable consumer is created, or updated in place when its settings changed
            await self.js.add_consumer(stream, config)
        except nats.js.errors.BadRequestError as exc:
            raise QueueSetupError(
                f"cannot create or update consumer {config.durable_name}: {exc.description}"
            ) from None

    # ------------------------------------------------------------------ messages

    async def publish(self, subject: str, data: bytes, stream: str, headers: dict[str, str]) -> Any:
        """Publish and wait for JetStream's acknowledgement, retrying through fail-overs."""
        nats = nats_module()
        deadline = time.monotonic() + RETRY_FOR_SECONDS
        delay = 0.05
        while True:
            try:
                return await self.js.publish(
                    subject, data, timeout=PUBLISH_TIMEOUT_SECONDS, stream=stream, headers=headers
                )
            except nats.js.errors.BadRequestError:
                raise  # e.g. too large, or a compare-and-set lost: trying again would not help
            except (TimeoutError, nats.errors.Error) as exc:
                if time.monotonic() + delay > deadline:
                    raise QueueUnavailable(
                        f"JetStream did not store the message: {describe(exc)}"
                    ) from None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    async def settle(self, message: Any, *, nak: bool = False) -> None:
        """Acknowledge (waiting for the server) or hand back a message; retried briefly."""
        deadline = time.monotonic() + RETRY_FOR_SECONDS
        while True:
            try:
                if nak:
                    await message.nak()
                else:
                    await message.ack_sync(timeout=2.0)
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)


class Puller:
    """Pulls messages of one durable consumer into an inbox of its own.

    `pull(limit, wait)`: first what is available now (a `no_wait` request); if nothing, one
    message as soon as it comes (within `wait` seconds), then whatever else is available.
    A message that arrives after a request gave up waits in the inbox for the next pull.
    """

    def __init__(self, cluster: Cluster, stream: str, consumer: str) -> None:
        self.cluster = cluster
        self.subject = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{consumer}"
        self.inbox = ""
        self.subscription: Any = None

    async def pull(self, limit: int, wait: float) -> list[Any]:
        if self.subscription is None:
            self.inbox = self.cluster.nc.new_inbox()
            self.subscription = await self.cluster.nc.subscribe(self.inbox)
        messages = await self._early(limit)
        if len(messages) < limit:
            messages += await self._request(limit - len(messages), 0.0)
        if not messages and wait > 0:
            messages = await self._request(1, wait)
            if messages and limit > 1:
                messages += await self._request(limit - 1, 0.0)
        return messages

    async def _early(self, limit: int) -> list[Any]:
        """Messages already in the inbox (from a request that had given up on them)."""
        messages: list[Any] = []
        while len(messages) < limit and self.subscription.pending_msgs > 0:
            message = await self.subscription.next_msg(timeout=1.0)  # queued: no wait
            if not _status(message):
                messages.append(message)
        return messages

    async def _request(self, batch: int, wait: float) -> list[Any]:
        """One pull request: `no_wait` when `wait` is 0, else it expires after `wait`."""
        body: dict[str, Any] = {"batch": batch}
        if wait > 0:
            body["expires"] = int(wait * 1e9)
        else:
            body["no_wait"] = True
        await self.cluster.nc.publish(self.subject, json.dumps(body).encode(), reply=self.inbox)
        deadline = time.monotonic() + wait + 2.0  # the server ends the request with a status
        messages: list[Any] = []
        while len(messages) < batch:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                message = await self.subscription.next_msg(timeout=remaining)
            except (TimeoutError, nats_module().errors.TimeoutError):
                break
            status = _status(message)
            if status == "100":  # a heartbeat
                continue
            if status:  # 404 no messages, 408 expired, 409 a limit reached: this request ended
                break
            messages.append(message)
        return messages


def _status(message: Any) -> str | None:
    headers = message.headers or {}
    status = headers.get("Status")
    return str(status) if status and not message.data else None


class StreamSlots:
    """`shared_limits.SlotStore` on JetStream: each key is a stream holding one message.

    The revision is the stream's last sequence; a write carries `Nats-Expected-Last-Sequence`,
    which JetStream checks before storing, so only one of concurrent writers at a revision wins.
    """

    def __init__(self, cluster: Cluster, stream_prefix: str, kind: str) -> None:
        self.cluster = cluster
        self.prefix = stream_prefix
        self.kind = kind  # e.g. RATE: one store per kind of limit

    def stream(self, key: str) -> str:
        return f"{self.prefix}_{self.kind}_{subject_token(key)}"

    def subject(self, key: str) -> str:
        return f"{self.prefix}.{self.kind.lower()}.{subject_token(key)}"

    async def declare(self, key: str) -> None:
        """The key's stream, with a first (empty) value so that every write has a revision."""
        nats = nats_module()
        api = nats.js.api
        settings = self.cluster.settings
        stream = self.stream(key)
        await self.cluster.ensure_stream(
            api.StreamConfig(
                name=stream,
                subjects=[self.subject(key)],
                retention=api.RetentionPolicy.LIMITS,
                max_msgs=1,
                storage=api.StorageType(settings.storage),
                num_replicas=settings.replicas,
                duplicate_window=60.0,
            )
        )
        info = await self.cluster.js.stream_info(stream)
        if info.state.last_seq == 0:  # processes starting together write it once (Msg-Id)
            await self.cluster.publish(self.subject(key), b"[]", stream, {"Nats-Msg-Id": "first"})

    async def read(self, key: str) -> tuple[bytes | None, int]:
        return await self.cluster.call(self._read(key))

    async def write(self, key: str, value: bytes, revision: int) -> bool:
        return await self.cluster.call(self._write(key, value, revision))

    async def _read(self, key: str) -> tuple[bytes | None, int]:
        nats = nats_module()
        try:
            stored = await self.cluster.js.get_msg(self.stream(key), subject=self.subject(key))
        except nats.js.errors.NotFoundError:
            return None, 0
        return stored.data, int(stored.seq)

    async def _write(self, key: str, value: bytes, revision: int) -> bool:
        nats = nats_module()
        if revision <= 0:  # never written: (re)declare, then the caller reads again
            await self.declare(key)
            return False
        headers = {"Nats-Expected-Last-Sequence": str(revision)}
        try:
            await self.cluster.publish(self.subject(key), value, self.stream(key), headers)
        except nats.js.errors.BadRequestError as exc:
            if exc.err_code == 10071:  # wrong last sequence: another process wrote first
                return False
            raise
        return True
