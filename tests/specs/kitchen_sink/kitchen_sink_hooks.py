"""Hooks of the Kitchen Sink ☃ destination, written by hand (tests/specs/kitchen_sink/kitchen_sink.yaml).

actionspec copies this file into the generated package as `kitchen_sink/hooks.py`, and appends
a stub here for each hook the spec declares that this file does not define; it never changes a
function that is already here. Replace each stub's body with the hook's code.
"""

from __future__ import annotations

from typing import Any

from .._runtime.hooks import HookRequest
from . import models


def a_b_before_mapping(event: dict[str, Any], settings: models.Settings) -> dict[str, Any]:
    """Upper-cases the type."""
    return {**event, "type": str(event.get("type", "")).upper()}


def a_b_after_payload(payload: models.ABPayload, settings: models.Settings) -> models.ABPayload:
    """Appends a marker to the type."""
    payload.type = f"{payload.type or ''}!"
    return payload


def a_b_build_request(payload: models.ABPayload, settings: models.Settings) -> list[HookRequest]:
    """Sends the type as a query parameter."""
    return [HookRequest(method="GET", url=f"https://example.com/a-b?type={payload.type}")]
