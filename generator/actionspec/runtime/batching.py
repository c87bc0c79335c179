"""How leased jobs become HTTP requests, and how a response becomes one result per job.

A destination instance has one *collector*. The default sends one request per job. A destination
whose API takes many records in one request (CleverTap: up to 1,000, with per-record results in
`partial` responses) registers its own with `register_batch_collector(slug, factory)`; the
`RecordBatchCollector` here merges bodies and reads per-record results through functions the
destination supplies, so a new batching API only needs those two functions.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from .core import DestinationError, Request
from .payload import PayloadValidationError
from .queue import Job
from .retry import is_retryable_status
from .workspace import DestinationInstance

__all__ = [
    "BatchCollector",
    "Outcome",
    "RecordBatchCollector",
    "Send",
    "SingleCollector",
    "collector_for",
    "outcome_of_status",
    "register_batch_collector",
]


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


# Reads a response: (status, parsed JSON body or None, raw text) -> one Outcome per job.
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


def _build(instance: DestinationInstance, job: Job) -> list[Request] | Outcome:
    """The requests of one job, or the dead outcome when the job cannot make any."""
    rule = instance.rule(job.mapping)
    if rule is None:
        return Outcome("dead", f"mapping '{job.mapping}' is no longer in the workspace")
    try:
        return instance.requests(rule, job.event)
    except PayloadValidationError as exc:
        return Outcome("dead", f"invalid payload: {exc}")
    except DestinationError as exc:
        return Outcome("dead", f"cannot build the request: {getattr(exc, 'message', exc)}")


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
            elif len(built) != 1:  # a job is settled by one answer
                failed.append((job, Outcome("dead", "the action builds several requests")))
            else:
                sends.append(Send(built[0], [job]))
        return sends, failed


class RecordBatchCollector:
    """Jobs of the same action and URL merged into requests of up to `max_jobs` records.

    `merge(bodies)` makes one body of many single-record bodies (CleverTap: concatenate the
    `d` lists); `results(status, body, text, bodies)` reads a 2xx answer (`body` parsed, or
    None) into one Outcome per single-record body sent, in order.
    """

    def __init__(
        self,
        instance: DestinationInstance,
        merge: Callable[[list[Any]], Any],
        results: Callable[[int, Any, str, list[Any]], list[Outcome]],
        max_jobs: int | None = None,
    ) -> None:
        self.instance = instance
        self.merge = merge
        self.results = results
        self.max_jobs = max_jobs or instance.batch_size or 100

    def collect(self, jobs: Sequence[Job]) -> tuple[list[Send], list[tuple[Job, Outcome]]]:
        groups: dict[tuple[str, str], list[tuple[Job, Request]]] = {}
        failed: list[tuple[Job, Outcome]] = []
        for job in jobs:
            built = _build(self.instance, job)
            if isinstance(built, Outcome):
                failed.append((job, built))
                continue
            for request in built:
                groups.setdefault((request.action, request.url), []).append((job, request))
        sends: list[Send] = []
        for group in groups.values():
            for start in range(0, len(group), self.max_jobs):
                sends.append(self._send(group[start : start + self.max_jobs]))
        return sends, failed

    def _send(self, group: list[tuple[Job, Request]]) -> Send:
        first = group[0][1]
        bodies = [single.json for _, single in group]

        def masked() -> Request:
            shown = first.masked()
            merged = self.merge([single.masked().json for _, single in group])
            return Request(shown.method, shown.url, shown.headers, merged, first.action)

        merged = Request(
            first.method, first.url, first.headers, self.merge(bodies), first.action, masked
        )

        def interpret(status: int, parsed: Any, text: str) -> list[Outcome]:
            return self.results(status, parsed, text, bodies)

        return Send(merged, [job for job, _ in group], interpret)


_COLLECTORS: dict[str, Callable[[DestinationInstance], BatchCollector]] = {}


def register_batch_collector(
    slug: str, factory: Callable[[DestinationInstance], BatchCollector]
) -> None:
    """Use `factory(instance)` for every instance of the destination `slug`."""
    _COLLECTORS[slug] = factory


def collector_for(instance: DestinationInstance) -> BatchCollector:
    factory = _COLLECTORS.get(instance.slug)
    return factory(instance) if factory is not None else SingleCollector(instance)


def parse_json(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None
