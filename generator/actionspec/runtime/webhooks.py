"""Loops webhooks as a source: Standard Webhooks signatures, and contacts turned into events.

Loops signs each delivery with HMAC-SHA256 over `<webhook-id>.<webhook-timestamp>.<raw body>`,
keyed with the base64-decoded part of the secret after `whsec_`; `webhook-signature` holds one
or more space-separated `v1,<base64>` signatures. `contact.created` is the event worth syncing
(it carries the full contact): it becomes an identify call and is routed like any other event.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = ["WebhookError", "loops_event", "sign", "verify"]

TOLERANCE_SECONDS = 5 * 60


class WebhookError(ValueError):
    """A delivery that is not accepted; `status` is the HTTP answer (400 or 401)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        raise WebhookError(500, "the source's signing secret is not valid base64") from None


def sign(secret: str, webhook_id: str, timestamp: str, body: bytes) -> str:
    """The `v1,<base64>` signature of a delivery (what Loops sends)."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: float | None = None) -> str:
    """The webhook id of a correctly signed, recent delivery; WebhookError otherwise."""
    webhook_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    if not webhook_id or not timestamp or not signatures:
        raise WebhookError(400, "webhook-id, webhook-timestamp and webhook-signature are required")
    if not timestamp.isdigit():
        raise WebhookError(400, "webhook-timestamp must be Unix seconds")
    age = (time.time() if now is None else now) - int(timestamp)
    if abs(age) > TOLERANCE_SECONDS:
        raise WebhookError(401, "webhook-timestamp is more than 5 minutes away from now")
    expected = sign(secret, webhook_id, timestamp, body).encode()
    # Compare with every signature given, in constant time each.
    valid = False
    for candidate in signatures.split():
        valid |= hmac.compare_digest(candidate.encode(), expected)
    if not valid:
        raise WebhookError(401, "no valid webhook signature")
    return webhook_id


def loops_event(payload: Any, webhook_id: str) -> dict[str, Any] | None:
    """The identify event for a `contact.created` delivery; None for other event names."""
    if not isinstance(payload, dict):
        raise WebhookError(400, "the webhook body must be a JSON object")
    if payload.get("eventName") != "contact.created":
        return None
    contact = payload.get("contact")
    identity = payload.get("contactIdentity")
    contact = contact if isinstance(contact, dict) else {}
    identity = identity if isinstance(identity, dict) else {}
    user_id = contact.get("userId") or identity.get("userId")
    loops_id = contact.get("id") or identity.get("id")
    if not user_id and not loops_id:
        raise WebhookError(400, "contact.created without a contact id or userId")
    traits = {k: v for k, v in contact.items() if k not in ("id", "userId") and v is not None}
    if "email" not in traits and identity.get("email"):
        traits["email"] = identity["email"]
    if loops_id:
        traits["loopsContactId"] = loops_id
    event: dict[str, Any] = {
        "type": "identify",
        "messageId": f"loops-{webhook_id}",
        "traits": traits,
        "context": {"library": {"name": "loops-webhook", "version": "1"}},
    }
    if user_id:
        event["userId"] = str(user_id)
    else:
        event["anonymousId"] = str(loops_id)
    event_time = payload.get("eventTime")
    if isinstance(event_time, int | float) and not isinstance(event_time, bool):
        moment = datetime.fromtimestamp(event_time, UTC)
        event["timestamp"] = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return event
