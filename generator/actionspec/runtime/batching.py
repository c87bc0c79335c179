"""How leased jobs become HTTP requests, and how a response becomes one result per job.

A destination instance has one *collector*. Without batching it sends one request per job.
When actions of the spec declare `batch: {size, merge, results}` (CleverTap's uploads: up to
1,000 records in one `{"d": [...]}` body, per-record results in `partial` answers), their
requests are merged: requests with the same method, URL and headers go out together, at most
`size` records each (counted by `record_batches`, an event never split), and the answer is
read into one result per event, so only the events whose records failed are retried or
dead-lettered. A destination with another batching API can register its own collector with
`register_batch_collector(slug, factory)`; it then replaces the spec-driven one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from .core import BatchSpec, DestinationError, Request
from .payload import PayloadValidationError
from .queue import Job
from .record_batches import (
    RECORD_TYPE_LIMITS,
    RESULT_READERS,
    EventResult,
    ResultReader,
    count_records,
    group_by_limits,
    merge_bodies,
)
from .retry import is_retryable_status
from .workspace import DestinationInstance

__all__ = [
    "BatchCollector",
    "Outcome",
    "RecordBatchCollector",
    "RecordFormat",
    "Send",
    "SingleCollector",
    "collector_for",
    "outcome_of_status",
    "register_batch_collector",
    "spec_formats",
]

# Jobs leased at once by a batching worker, at most: building the requests of a lease runs on
# the event loop, and a few full batches per lease keep every request slot busy anyway.
MAX_LEASED_JOBS = 2000


@dataclass(frozen=True)
class Outcome:
    """What happened to one job: delivered, to be retried, or dead (final)."""

    kind: Literal["delivered", "retry", "dead"]
    reason: str = ""
    status: int | None = None
    response: str = ""  # the response body, shortened (masked before it is stored or logged)
    retry_after: float | None = None


def outcome_of_status(status: int, body: str, retry_after: float | None = None) -> Outcome:
    """Segment's policy applied to one HTTP answer."""
    if 200 <= status <= 299:
        return Outcome("delivered", status=status)
    if is_retryable_status(status):
        return Outcome("retry", f"HTTP {status}", status, body, retry_after)
    return Outcome("dead", f"HTTP {status} is not retried", status, body)


# Reads a 2xx response: (status, parsed JSON body or None, raw text) -> one Outcome per job.
Interpret = Callable[[int, Any, str], list[Outcome]]


@dataclass(frozen=True)
class Send:
    """One HTTP request and the jobs it carries. `interpret` None: all share the HTTP outcome."""

    request: Request
    jobs: Sequence[Job]
    interpret: Interpret | None = None


class BatchCollector(Protocol):
    def collect(self, jobs: Sequence[Job]) -> tuple[list[Send], list[tuple[Job, Outcome]]]:
        """The requests to send for `jobs`, and the jobs that cannot be sent (with why)."""
        ...

    @property
    def max_jobs(self) -> int:
        """How many jobs one request may carry."""
        ...


def _build(instance: DestinationInstance, job: Job) -> Request | Outcome:
    """The request of one job, or the dead outcome when the job cannot make exactly one."""
    rule = instance.rule(job.mapping)
    if rule is None:
        return Outcome("dead", f"mapping '{job.mapping}' is no longer in the workspace")
    try:
        built = instance.requests(rule, job.event)
    except PayloadValidationError as exc:
        return Outcome("dead", f"invalid payload: {exc}")
    except DestinationError as exc:
        return Outcome("dead", f"cannot build the request: {getattr(exc, 'message', exc)}")
    except Exception as exc:  # a mapping or hook failing on this event: only this job is dead
        return Outcome("dead", f"cannot build the request: {type(exc).__name__}: {exc}")
    if len(built) != 1:  # a job is settled by one answer
        return Outcome("dead", f"the action builds {len(built)} requests; delivery sends one")
    return built[0]


class SingleCollector:
    """One request per job."""

    max_jobs = 1

    def __init__(self, instance: DestinationInstance) -> None:
        self.instance = instance

    def collect(self, jobs: Sequence[Job]) -> tuple[list[Send], list[tuple[Job, Outcome]]]:
        sends: list[Send] = []
        failed: list[tuple[Job, Outcome]] = []
        for job in jobs:
            built = _build(self.instance, job)
            if isinstance(built, Outcome):
                failed.append((job, built))
            else:
                sends.append(Send(built, [job]))
        return sends, failed


def _one_per_event(body: Any) -> tuple[int, ...]:
    return (1,)


@dataclass(frozen=True, eq=False)
class RecordFormat:
    """How single-event bodies of one kind are batched.

    `merge(bodies)` makes one body of many; `count(body)` measures one body against `limits`
    (a batch's sums stay within each; default: one per event, at most `limits[0]` events);
    `results(status, parsed, text, bodies)` reads a 2xx answer into one Outcome per body, in
    order (None: every event gets the HTTP outcome).
    """

    merge: Callable[[list[Any]], Any]
    limits: tuple[int, ...]
    count: Callable[[Any], tuple[int, ...]] = _one_per_event
    results: Callable[[int, Any, str, list[Any]], list[Outcome]] | None = None


class RecordBatchCollector:
    """Jobs whose request has a RecordFormat merged into batch requests; the others one each.

    Requests are merged only when method, URL, headers and format are the same; jobs keep their
    lease order inside a batch.
    """

    def __init__(
        self,
        instance: DestinationInstance,
        format_of: Callable[[Request], RecordFormat | None],
        max_jobs: int,
    ) -> None:
        self.instance = instance
        self.format_of = format_of
        self.max_jobs = max(1, max_jobs)

    def collect(self, jobs: Sequence[Job]) -> tuple[list[Send], list[tuple[Job, Outcome]]]:
        groups: dict[tuple[Any, ...], list[tuple[Job, Request]]] = {}
        formats: dict[tuple[Any, ...], RecordFormat] = {}
        sends: list[Send] = []
        failed: list[tuple[Job, Outcome]] = []
        for job in jobs:
            built = _build(self.instance, job)
            if isinstance(built, Outcome):
                failed.append((job, built))
                continue
            form = self.format_of(built)
            if form is None or not isinstance(built.json, dict):  # batches merge JSON objects
                sends.append(Send(built, [job]))
                continue
            key = (built.method, built.url, tuple(sorted(built.headers.items())), id(form))
            formats[key] = form
            groups.setdefault(key, []).append((job, built))
        for key, group in groups.items():
            form = formats[key]
            counts = [form.count(request.json) for _, request in group]
            for part in group_by_limits(counts, form.limits):
                sends.append(_batch_send([group[i] for i in part], form))
        return sends, failed


def _batch_send(group: list[tuple[Job, Request]], form: RecordFormat) -> Send:
    """One request carrying the jobs of `group`, with the reader of its answer."""
    first = group[0][1]
    bodies = [single.json for _, single in group]
    actions = sorted({single.action for _, single in group})
    action = actions[0] if len(actions) == 1 else "+".join(actions)

    def masked() -> Request:  # secrets may sit in the URL and headers (CleverTap's passcode)
        shown = first.masked()
        merged = form.merge([single.masked().json for _, single in group])
        return Request(shown.method, shown.url, shown.headers, merged, action)

    request = Request(first.method, first.url, first.headers, form.merge(bodies), action, masked)
    results = form.results
    if results is None:
        return Send(request, [job for job, _ in group])

    def interpret(status: int, parsed: Any, text: str) -> list[Outcome]:
        return results(status, parsed, text, bodies)

    return Send(request, [job for job, _ in group], interpret)


# ------------------------------------------------------------------ batching the spec declares


def _outcome_of_result(result: EventResult, text: str) -> Outcome:
    """A result of `record_batches` as the worker settles it (the response kept for dead letters)."""
    if result.kind == "delivered":
        return Outcome("delivered", status=result.status)
    reason = result.reason or f"HTTP {result.status}"
    if result.code is not None:
        reason = f"record refused, code {result.code}: {reason}"
    return Outcome(result.kind, reason, result.status, text)


def _results_of(reader: ResultReader) -> Callable[[int, Any, str, list[Any]], list[Outcome]]:
    def results(status: int, parsed: Any, text: str, bodies: list[Any]) -> list[Outcome]:
        return [_outcome_of_result(r, text) for r in reader(bodies, status, parsed)]

    return results


def _spec_format(spec: BatchSpec, size: int) -> RecordFormat:
    key = spec.merge or ""
    type_limits = RECORD_TYPE_LIMITS.get(spec.results or "", {})
    types = tuple(type_limits)
    reader = RESULT_READERS.get(spec.results or "")
    return RecordFormat(
        merge=lambda bodies: merge_bodies(bodies, key),
        limits=(size, *type_limits.values()),
        count=lambda body: count_records(body, key, types),
        results=_results_of(reader) if reader is not None else None,
    )


def spec_formats(instance: DestinationInstance) -> dict[str, RecordFormat]:
    """The RecordFormat of each action (by key) whose spec declares a `merge` batch.

    A batch holds at most the action's `batch.size` records, and no more than the instance's
    `batch_size` (the spec's `limits.batch_size`, or lower in the workspace).
    """
    formats: dict[str, RecordFormat] = {}
    shared: dict[tuple[Any, ...], RecordFormat] = {}  # same batching: one format, one batch
    for key, action in instance.destination.actions.items():
        spec = action.batch
        if spec is None or not spec.merge:
            continue
        size = min(spec.size, instance.batch_size or spec.size)
        same = (spec.merge, spec.results, size)
        if same not in shared:
            shared[same] = _spec_format(spec, size)
        formats[key] = shared[same]
    return formats


def _spec_collector(instance: DestinationInstance) -> BatchCollector:
    formats = spec_formats(instance)
    if not formats:
        return SingleCollector(instance)
    most = max(form.limits[0] for form in formats.values())
    return RecordBatchCollector(instance, lambda request: formats.get(request.action), most)


_COLLECTORS: dict[str, Callable[[DestinationInstance], BatchCollector]] = {}


def register_batch_collector(
    slug: str, factory: Callable[[DestinationInstance], BatchCollector]
) -> None:
    """Use `factory(instance)` for every instance of the destination `slug`."""
    _COLLECTORS[slug] = factory


def collector_for(instance: DestinationInstance) -> BatchCollector:
    """The registered collector of the destination, else the batching its spec declares."""
    factory = _COLLECTORS.get(instance.slug)
    return factory(instance) if factory is not None else _spec_collector(instance)


def parse_json(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None
