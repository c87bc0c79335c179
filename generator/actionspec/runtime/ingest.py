"""Ingestion: Segment's HTTP Tracking API (and Loops webhooks) as a plain ASGI application.

    POST /v1/track /v1/identify /v1/page /v1/screen /v1/group /v1/alias /v1/batch
    POST /webhooks/<source name>       (sources of type loops_webhook)
    GET  /healthz  /metrics

The write key is the HTTP Basic user name (or `writeKey` in the body, as Segment's libraries
also send it). Limits are Segment's: 32 KB per message, 500 KB per batch; every message needs
`userId` or `anonymousId`, track needs `event`. An invalid batch is refused whole with a 400
naming each problem. A 200 is sent only once the events are on disk.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import uuid
import zlib
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any

from . import logs, webhooks
from .metrics import DeliveryMetrics
from .queue import Incoming, Queue
from .workspace import Source, Workspace

__all__ = ["IngestApp", "IngestError", "send_body", "send_json"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MESSAGE_LIMIT = 32 * 1024
BATCH_LIMIT = 500 * 1024
TYPES = ("track", "identify", "page", "screen", "group", "alias")
# Segment's short paths (/v1/t, ...) are served too.
_PATHS = {f"/v1/{t}": t for t in TYPES} | {f"/v1/{t[0]}": t for t in TYPES}
_PATHS |= {"/v1/batch": "batch", "/v1/b": "batch", "/v1/import": "batch"}

log = logs.logger("ingest")


class IngestError(Exception):
    """A request that is refused: `status` and a `code`/`message` body like Segment's."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def _read_body(receive: Receive, limit: int) -> bytes:
    """The request body, refused with a 400 as soon as it passes `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise IngestError(400, "disconnected", "the client went away")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise IngestError(400, "too_large", f"the request body is over {limit // 1024} KB")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _gunzip(body: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits=31)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error:
        raise IngestError(400, "invalid_gzip", "the body is not valid gzip") from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise IngestError(400, "too_large", f"the request body is over {limit // 1024} KB")
    return data


def _check_message(message: Any, where: str) -> str | None:
    """What is wrong with one message, or None."""
    if not isinstance(message, dict):
        return f"{where} must be a JSON object"
    kind = message.get("type")
    if kind not in TYPES:
        return f"{where}: type must be one of {', '.join(TYPES)}"
    if not message.get("userId") and not message.get("anonymousId"):
        return f"{where}: userId or anonymousId is required"
    if kind == "track" and not message.get("event"):
        return f"{where}: track needs event"
    if kind == "alias" and not message.get("previousId"):
        return f"{where}: alias needs previousId"
    size = len(json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode())
    if size > MESSAGE_LIMIT:
        return f"{where} is {size:,} bytes, over the 32 KB limit per message"
    return None


def _prepare(message: dict[str, Any], batch: dict[str, Any], received_at: str) -> dict[str, Any]:
    """The event as stored: batch-level context and integrations merged, ids and times set."""
    event = {k: v for k, v in message.items() if k != "writeKey"}
    for key in ("context", "integrations"):
        shared = batch.get(key)
        if isinstance(shared, dict):
            own = event.get(key)
            event[key] = {**shared, **own} if isinstance(own, dict) else dict(shared)
    if not isinstance(event.get("messageId"), str) or not event["messageId"]:
        event["messageId"] = f"ingest-{uuid.uuid4()}"
    event["receivedAt"] = received_at
    event.setdefault("timestamp", event.get("originalTimestamp") or received_at)
    if "sentAt" not in event and isinstance(batch.get("sentAt"), str):
        event["sentAt"] = batch["sentAt"]
    return event


class IngestApp:
    """The ASGI application: ingestion, webhooks, health and metrics.

    `on_accepted(instances)` is called after events were stored, to wake those workers.
    """

    def __init__(
        self,
        workspace: Workspace,
        queue: Queue,
        metrics: DeliveryMetrics,
        on_accepted: Callable[[set[str]], None] = lambda names: None,
    ) -> None:
        self.workspace = workspace
        self.queue = queue
        self.metrics = metrics
        self.on_accepted = on_accepted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        try:
            if path == "/healthz":
                await send_json(send, 200, {"status": "ok"})
            elif path == "/metrics":
                text = self.metrics.render().encode()
                await send_body(send, 200, text, b"text/plain; version=0.0.4; charset=utf-8")
            elif path in _PATHS or path.startswith("/webhooks/"):
                if method != "POST":
                    raise IngestError(405, "method_not_allowed", "use POST")
                if path in _PATHS:
                    await send_json(send, 200, await self._tracking(scope, receive, _PATHS[path]))
                else:
                    await send_json(send, 200, await self._webhook(scope, receive, path))
            else:
                raise IngestError(404, "not_found", f"no such endpoint: {path}")
        except IngestError as exc:
            self.metrics.inc("requests_rejected_total", code=exc.code)
            log.info(
                "request refused", extra={"path": path, "status": exc.status, "reason": exc.message}
            )
            await send_refusal(send, exc.status, exc.code, exc.message)

    # ------------------------------------------------------------------ Segment's API

    async def _tracking(self, scope: Scope, receive: Receive, kind: str) -> dict[str, Any]:
        headers = _headers(scope)
        limit = BATCH_LIMIT if kind == "batch" else MESSAGE_LIMIT
        body = await _read_body(receive, limit)
        if "gzip" in headers.get("content-encoding", ""):
            body = _gunzip(body, limit)
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise IngestError(400, "invalid_json", f"the body is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise IngestError(400, "invalid_json", "the body must be a JSON object")
        source = self._source(headers, data)
        if kind == "batch":
            messages = data.get("batch")
            if not isinstance(messages, list):
                raise IngestError(400, "invalid_batch", "a batch needs a 'batch' list of messages")
            problems = [
                p for i, m in enumerate(messages) if (p := _check_message(m, f"batch[{i}]"))
            ]
        else:
            messages = [{**data, "type": kind}]
            problems = [p for m in messages if (p := _check_message(m, "the message"))]
        if problems:
            shown = "; ".join(problems[:5]) + (
                f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
            )
            raise IngestError(400, "invalid_message", shown)
        received_at = _now_iso()
        events = [_prepare(m, data, received_at) for m in messages]
        await self._store(source, events)
        return {"success": True}

    def _source(self, headers: dict[str, str], data: dict[str, Any]) -> Source:
        write_key = ""
        authorization = headers.get("authorization", "")
        if authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
            except (binascii.Error, ValueError):
                raise IngestError(
                    401, "invalid_auth", "the Authorization header is not valid Basic auth"
                ) from None
            write_key = decoded.partition(":")[0]
        if not write_key and isinstance(data.get("writeKey"), str):
            write_key = data["writeKey"]
        if not write_key:
            raise IngestError(
                401, "missing_write_key", "send the write key as the HTTP Basic user name"
            )
        source = self.workspace.source_for_write_key(write_key)
        if source is None:
            raise IngestError(401, "invalid_write_key", "unknown write key")
        return source

    async def _store(self, source: Source, events: list[dict[str, Any]]) -> None:
        incoming = [
            Incoming(e["messageId"], e, self.workspace.routes(source.name, e)) for e in events
        ]
        accepted, duplicates = await asyncio.to_thread(self.queue.enqueue, source.name, incoming)
        self.metrics.inc("events_accepted_total", accepted, source=source.name)
        if duplicates:
            self.metrics.inc("events_duplicate_total", duplicates, source=source.name)
        self.on_accepted({name for item in incoming for name, _ in item.routes})

    # ------------------------------------------------------------------ webhooks

    async def _webhook(self, scope: Scope, receive: Receive, path: str) -> dict[str, Any]:
        name = path.removeprefix("/webhooks/").strip("/")
        source = self.workspace.sources.get(name)
        if source is None or source.type != "loops_webhook" or source.signing_secret is None:
            raise IngestError(404, "not_found", f"no webhook source named '{name}'")
        body = await _read_body(receive, BATCH_LIMIT)
        try:
            webhook_id = webhooks.verify(source.signing_secret, _headers(scope), body)
            payload = json.loads(body)
            event = webhooks.loops_event(payload, webhook_id)
        except webhooks.WebhookError as exc:
            raise IngestError(exc.status, "invalid_webhook", exc.message) from None
        except ValueError:
            raise IngestError(400, "invalid_json", "the webhook body is not valid JSON") from None
        if event is not None:
            event["receivedAt"] = _now_iso()
            event.setdefault("timestamp", event["receivedAt"])
            await self._store(source, [event])
        return {"success": True}


async def send_refusal(send: Send, status: int, code: str, message: str) -> None:
    """A refused request, as Segment's API answers one."""
    await send_json(send, status, {"success": False, "code": code, "message": message})


async def send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    await send_body(send, status, json.dumps(body).encode(), b"application/json")


async def send_body(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
