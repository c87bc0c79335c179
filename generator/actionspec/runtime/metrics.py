"""Counters, gauges and histograms in the Prometheus text format (no client library needed).

Label values are instance and source names from the workspace, never settings: no secret can
reach `/metrics`.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

__all__ = ["DeliveryMetrics", "Registry"]

Labels = tuple[tuple[str, str], ...]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Labels, extra: str = "") -> str:
    parts = [f'{k}="{_escape(v)}"' for k, v in labels]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


@dataclass
class _Metric:
    name: str
    help: str
    kind: str  # counter, gauge or histogram
    values: dict[Labels, float] = field(default_factory=dict)
    buckets: tuple[float, ...] = ()
    counts: dict[Labels, list[int]] = field(default_factory=dict)
    sums: dict[Labels, float] = field(default_factory=dict)


class Registry:
    def __init__(self) -> None:
        self._metrics: dict[str, _Metric] = {}
        self._collectors: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def _metric(self, name: str, help: str, kind: str, buckets: tuple[float, ...] = ()) -> _Metric:
        metric = self._metrics.get(name)
        if metric is None:
            metric = self._metrics[name] = _Metric(name, help, kind, buckets=buckets)
        return metric

    def declare(self, name: str, help: str, kind: str, buckets: Iterable[float] = ()) -> None:
        with self._lock:
            self._metric(name, help, kind, tuple(sorted(buckets)))

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            metric = self._metrics[name]
            metric.values[key] = metric.values.get(key, 0.0) + amount

    def set(self, name: str, value: float, **labels: str) -> None:
        with self._lock:
            self._metrics[name].values[tuple(sorted(labels.items()))] = value

    def observe(self, name: str, value: float, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            metric = self._metrics[name]
            counts = metric.counts.setdefault(key, [0] * (len(metric.buckets) + 1))
            counts[bisect.bisect_left(metric.buckets, value)] += 1
            metric.sums[key] = metric.sums.get(key, 0.0) + value

    def value(self, name: str, **labels: str) -> float:
        with self._lock:
            return self._metrics[name].values.get(tuple(sorted(labels.items())), 0.0)

    def total(self, name: str) -> float:
        """The sum over every label set (e.g. deliveries to all destinations)."""
        with self._lock:
            return sum(self._metrics[name].values.values())

    def on_collect(self, collector: Callable[[], None]) -> None:
        """Run `collector` before each rendering (to refresh gauges such as queue depth)."""
        self._collectors.append(collector)

    def render(self) -> str:
        for collector in self._collectors:
            collector()
        lines: list[str] = []
        with self._lock:
            for metric in self._metrics.values():
                lines.append(f"# HELP {metric.name} {metric.help}")
                lines.append(f"# TYPE {metric.name} {metric.kind}")
                if metric.kind != "histogram":
                    for labels, value in sorted(metric.values.items()):
                        lines.append(f"{metric.name}{_labels(labels)} {value:g}")
                    continue
                for labels, counts in sorted(metric.counts.items()):
                    running = 0
                    for bound, count in zip((*metric.buckets, float("inf")), counts, strict=True):
                        running += count
                        le = "+Inf" if bound == float("inf") else f"{bound:g}"
                        bucket = _labels(labels, 'le="' + le + '"')
                        lines.append(f"{metric.name}_bucket{bucket} {running}")
                    lines.append(f"{metric.name}_sum{_labels(labels)} {metric.sums[labels]:g}")
                    lines.append(f"{metric.name}_count{_labels(labels)} {running}")
        return "\n".join(lines) + "\n"


_LATENCY_BUCKETS = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    2.5,
    5,
    10,
    30,
    60,
    300,
    900,
    3600,
    14400,
)


class DeliveryMetrics(Registry):
    """The service's metrics: accepted, delivered, retried, dead-lettered, depth, latency."""

    def __init__(self) -> None:
        super().__init__()
        self.declare(
            "events_accepted_total", "Events stored by ingestion (duplicates excluded).", "counter"
        )
        self.declare(
            "events_duplicate_total",
            "Events accepted again within the messageId window.",
            "counter",
        )
        self.declare(
            "requests_rejected_total", "Ingestion requests answered with a 4xx.", "counter"
        )
        self.declare("deliveries_total", "Jobs delivered (2xx).", "counter")
        self.declare("delivery_retries_total", "Failed tries that will be retried.", "counter")
        self.declare("dead_letters_total", "Jobs moved to the dead letters.", "counter")
        self.declare("queue_depth", "Jobs waiting or in flight.", "gauge")
        self.declare(
            "delivery_latency_seconds",
            "From acceptance to delivery of a job.",
            "histogram",
            _LATENCY_BUCKETS,
        )
        self.declare(
            "request_duration_seconds",
            "Duration of one HTTP request to a destination.",
            "histogram",
            _LATENCY_BUCKETS,
        )
