"""Batch bodies that are lists of records (`{"d": [...]}`), and answers read per event.

An action whose spec says `batch: {size, merge: d, results: clevertap_upload}` sends one body
per event, `{"d": [records]}` (CleverTap: one record, two for an identify call with a push
token). A batch request is the first body with the lists of all events concatenated
(`merge_bodies`); `group_by_limits` cuts a sequence of events into batches that stay within
every per-request limit (records, and records of a type: `RECORD_TYPE_LIMITS`) without
splitting an event; `RESULT_READERS[results]` reads the destination's answer to a batch into
one `EventResult` per event, in order. The delivery runtime (`batching.py`) calls these.

This file is copied verbatim into generated packages: standard library only, no actionspec.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .retry import is_retryable_status

__all__ = [
    "RECORD_TYPE_LIMITS",
    "RESULT_READERS",
    "EventResult",
    "ResultReader",
    "clevertap_upload_results",
    "count_records",
    "group_by_limits",
    "group_by_records",
    "merge_bodies",
    "records_of",
]


@dataclass(frozen=True)
class EventResult:
    """What became of one event of a batch (the delivery runtime's words: kind and reason)."""

    kind: Literal["delivered", "retry", "dead"]
    status: int  # HTTP status of the batch request
    reason: str = ""
    code: int | None = None  # the destination's own code for a record it refused


def records_of(body: Any, key: str) -> list[Any]:
    """The records list of one event's body (`[]` when the body has none)."""
    items = body.get(key) if isinstance(body, Mapping) else None
    return items if isinstance(items, list) else []


def merge_bodies(bodies: Sequence[Any], key: str = "d") -> dict[str, Any]:
    """One batch body: the first body with the `key` lists of every body concatenated."""
    if not bodies or not isinstance(bodies[0], Mapping):
        raise ValueError(f"a record batch needs JSON object bodies holding a '{key}' list")
    return {**bodies[0], key: [record for body in bodies for record in records_of(body, key)]}


def group_by_limits(counts: Sequence[Sequence[int]], limits: Sequence[int]) -> list[range]:
    """Consecutive events in groups whose counts stay within every limit.

    `counts[e][i]` is what event `e` adds to the measure `i` (records, token records...);
    a group's sums stay at most `limits[i]`. An event is never split: one over a limit by
    itself makes a group of its own (the destination then refuses it, and says why).
    """
    groups: list[range] = []
    start = 0
    totals = [0] * len(limits)
    for index, count in enumerate(counts):
        fits = all(t + c <= most for t, c, most in zip(totals, count, limits, strict=True))
        if index > start and not fits:
            groups.append(range(start, index))
            start, totals = index, [0] * len(limits)
        totals = [t + c for t, c in zip(totals, count, strict=True)]
    if start < len(counts):
        groups.append(range(start, len(counts)))
    return groups


def group_by_records(counts: Sequence[int], size: int) -> list[range]:
    """Consecutive events (by their record counts) in groups of at most `size` records.

    An event is never split; one with more than `size` records makes a group of its own.
    """
    return group_by_limits([(count,) for count in counts], (size,))


def count_records(body: Any, key: str, types: Sequence[str] = ()) -> tuple[int, ...]:
    """(records in `body[key]`, then how many of them have each `type` of `types`)."""
    records = records_of(body, key)
    by_type = (
        sum(1 for r in records if isinstance(r, Mapping) and r.get("type") == t) for t in types
    )
    return (len(records), *by_type)


def _whole(count: int, status: int, reason: str) -> list[EventResult]:
    """The same result for every event, from the HTTP status."""
    if 200 <= status <= 299:
        return [EventResult("delivered", status)] * count
    kind: Literal["retry", "dead"] = "retry" if is_retryable_status(status) else "dead"
    return [EventResult(kind, status, reason)] * count


def _reason(response: Any, status: int) -> str:
    if isinstance(response, Mapping):
        for key in ("error", "message"):
            if isinstance(response.get(key), str):
                return str(response[key])
    return f"HTTP {status}"


def clevertap_upload_results(
    bodies: Sequence[Any], status: int, response: Any
) -> list[EventResult]:
    """One result per event (per body in `bodies`) of a CleverTap `/1/upload` batch answer.

    - 2xx with `"status": "success"` (or no status): every event delivered.
    - 2xx with `"status": "partial"`: `unprocessed` lists the records CleverTap refused, each
      with `code` (509 event name missing, 523 missing identity, 525 bad ts...), `error` and
      the `record` itself. An event with a refused record is dead (the record is at fault, a
      retry would fail again); the others are delivered. An entry whose record is not in the
      batch cannot be attributed: then every event not otherwise refused is dead too, with a
      reason saying so, rather than being reported delivered.
    - 2xx with `"status": "fail"`, or any other status: every event gets the HTTP outcome
      (retry for 429 and 5xx, dead otherwise), with CleverTap's `error` as the reason.
    """
    count = len(bodies)
    if not 200 <= status <= 299:
        return _whole(count, status, _reason(response, status))
    outcome = response.get("status") if isinstance(response, Mapping) else None
    if outcome in (None, "success"):
        return _whole(count, status, "")
    if outcome != "partial":
        return [EventResult("dead", status, _reason(response, status))] * count
    # Which event each record of the batch came from, in batch order.
    owners = [event for event, body in enumerate(bodies) for _ in records_of(body, "d")]
    records = [record for body in bodies for record in records_of(body, "d")]
    refused: dict[int, EventResult] = {}
    taken: set[int] = set()
    unattributed = 0
    entries = response.get("unprocessed")
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, Mapping) or "record" not in entry:
            unattributed += 1
            continue
        index = next(
            (i for i, r in enumerate(records) if i not in taken and r == entry["record"]), None
        )
        if index is None:
            unattributed += 1
            continue
        taken.add(index)
        code = entry.get("code")
        reason = str(entry.get("error") or "CleverTap did not process this record")
        refused.setdefault(
            owners[index],
            EventResult("dead", status, reason, code if isinstance(code, int) else None),
        )
    unknown = EventResult(
        "dead",
        status,
        f"CleverTap left {unattributed} record(s) of this batch unprocessed without saying "
        "which; this event may not have been recorded",
    )
    delivered = EventResult("delivered", status)
    return [refused.get(event, unknown if unattributed else delivered) for event in range(count)]


ResultReader = Callable[[Sequence[Any], int, Any], list[EventResult]]

# The names a spec may give as `batch.results` (the meta-schema lists the same names).
RESULT_READERS: dict[str, ResultReader] = {"clevertap_upload": clevertap_upload_results}

# Per-request limits on records of one `type` that the API behind a reader also has, besides
# the spec's `batch.size` (CleverTap's upload: at most 100 push-token records per request).
RECORD_TYPE_LIMITS: dict[str, dict[str, int]] = {"clevertap_upload": {"token": 100}}
