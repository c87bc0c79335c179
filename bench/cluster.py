"""Delivery throughput on a three-node JetStream cluster with 1, 2 and 4 worker processes.

The fake destination answers every request after 50 ms, so what limits throughput is how many
requests are in flight, not this machine's two cores: each worker process keeps up to
`--per-worker` requests in flight (the queue's `worker_concurrency`, default 4), the Clay
instance allows `--cap` for all workers together (the consumer's pending cap, default 12). The
ideal is min(workers x per-worker, cap) / 50 ms: 80, 160 and 240 requests/s by default (kept
low enough that two cores shared by the workers and three NATS servers keep up); the figure
printed is what arrived at the fake, with the share of the ideal it reached. The gap is the
hand-over of each slot (results are written every 10 ms, then JetStream gives the slot to
whichever worker asks), and it grows once the cap, not the workers, is the limit.

Events are first stored through an ingestion-only process, then the workers start and drain
them: the rate is measured at the fake, from the moment every worker is up to the last arrival
(workers that start earlier deliver some events before; those are not counted).

    python bench/cluster.py [--events-per-worker 250] [--workers 1 2 4]

`bench/run.py` runs it as a child process. Without `nats-server` (Debian package) it says so
and skips.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS))
sys.path.insert(0, str(TESTS / "cluster"))
from nats_cluster import NatsCluster, nats_server_path  # noqa: E402

from delivery.fake_destination import FakeDestination  # noqa: E402
from delivery.harness import free_port, wait_until  # noqa: E402

WRITE_KEY = "wk_bench"
ENV = {"WRITE_KEY": WRITE_KEY, "CK": "ck_bench", "SK": "sk_bench"}
LATENCY_SECONDS = 0.05


def _workspace(folder: Path, name: str, fake_url: str, urls: list[str], options: Any) -> Path:
    data = {
        "version": 1,
        "sources": {"bench": {"write_key": "${WRITE_KEY}"}},
        "destinations": {
            "clay": {
                "destination": "clay",
                "base_url": fake_url,
                "concurrency": options.cap,
                "settings": {"connection_key": "${CK}", "secret_key": "${SK}"},
            }
        },
        "queue": {
            "servers": urls,
            "stream": name,
            "replicas": 3,
            "worker_concurrency": options.per_worker,
        },
    }
    path = folder / f"{name}.yaml"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _start(workspace: Path, role: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "destinations", "serve", "--workspace", str(workspace)]
    command += ["--role", role, "--port", str(port)]
    with open(log, "ab") as output:
        return subprocess.Popen(
            command, env={**os.environ, **ENV}, stdout=output, stderr=subprocess.STDOUT
        )


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


def _store_events(port: int, count: int, offset: int) -> None:
    auth = {"Authorization": "Basic " + base64.b64encode(f"{WRITE_KEY}:".encode()).decode()}
    with httpx.Client(timeout=30) as client:
        for start in range(offset, offset + count, 100):
            batch = [
                {
                    "type": "track",
                    "event": "Bench",
                    "userId": f"u{i % 100}",
                    "messageId": f"cluster-bench-{i}",
                    "context": {"ip": "203.0.113.1", "userAgent": "bench"},
                    "properties": {"n": i},
                }
                for i in range(start, min(start + 100, offset + count))
            ]
            answer = client.post(
                f"http://127.0.0.1:{port}/v1/batch", json={"batch": batch}, headers=auth
            )
            answer.raise_for_status()


def run_one(
    workers: int, folder: Path, cluster: NatsCluster, fake: FakeDestination, options: Any
) -> dict[str, float]:
    """Store the events, start `workers` worker processes, measure their delivery rate."""
    route = fake.routes["clay"]
    route.arrivals.clear()
    route.accepted.clear()
    route.max_in_flight = 0
    events = options.events_per_worker * workers
    workspace = _workspace(folder, f"BENCH{workers}", fake.url, cluster.urls, options)
    ingest_port = free_port()
    processes = [_start(workspace, "ingest", ingest_port, folder / f"ingest-{workers}.log")]
    try:
        if not wait_until(lambda: _healthy(ingest_port), 40, 0.05):
            raise RuntimeError(f"the ingestion process did not start (see {folder})")
        _store_events(ingest_port, events, offset=100_000 * workers)
        ports = [free_port() for _ in range(workers)]
        for index, port in enumerate(ports):
            log = folder / f"worker-{workers}-{index}.log"
            processes.append(_start(workspace, "worker", port, log))
        if not wait_until(lambda: all(_healthy(p) for p in ports), 60, 0.02):
            raise RuntimeError(f"the workers did not start (see {folder})")
        all_up = time.monotonic()
        if not wait_until(lambda: len(route.accepted) >= events, 300, 0.05):
            raise RuntimeError(f"only {len(route.accepted)} of {events} events were delivered")
    finally:
        _stop(processes)
    arrivals = sorted(a for a in route.arrivals if a >= all_up)
    if len(arrivals) < events // 4:
        raise RuntimeError("the workers drained the events before all started: send more")
    spread = max(arrivals[-1] - all_up, 1e-9)
    in_flight = min(workers * options.per_worker, options.cap)
    return {
        "requests_per_second": len(arrivals) / spread,
        "ideal": in_flight / LATENCY_SECONDS,
        "in_flight_allowed": in_flight,
        "max_in_flight": route.max_in_flight,
        "events": events,
        "measured": len(arrivals),
    }


def main(
    worker_counts: tuple[int, ...] = (1, 2, 4),
    events_per_worker: int = 250,
    per_worker: int = 4,
    cap: int = 12,
) -> int:
    if nats_server_path() is None:
        print("cluster    skipped: nats-server is not installed (apt-get install nats-server)")
        return 0
    options = argparse.Namespace(
        events_per_worker=events_per_worker, per_worker=per_worker, cap=cap
    )
    fake = FakeDestination(ENV["SK"], "unused", "unused", latency_seconds=LATENCY_SECONDS)
    fake.start()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        cluster = NatsCluster(folder / "nats").start()
        try:
            for workers in worker_counts:
                figures = run_one(workers, folder, cluster, fake, options)
                rate, ideal = figures["requests_per_second"], figures["ideal"]
                print(
                    f"cluster    {workers} worker(s) {rate:8,.0f} requests/s delivered "
                    f"({rate / ideal:.0%} of {ideal:,.0f} = {figures['in_flight_allowed']} in "
                    f"flight / 50 ms; most in flight at the fake {figures['max_in_flight']}, "
                    f"cap {cap}; {figures['measured']:,} of {figures['events']:,} events timed)"
                )
        finally:
            cluster.stop()
            fake.stop()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--events-per-worker", type=int, default=250)
    parser.add_argument("--per-worker", type=int, default=4, help="requests in flight per worker")
    parser.add_argument("--cap", type=int, default=12, help="requests in flight, all workers")
    arguments = parser.parse_args()
    sys.exit(
        main(
            tuple(arguments.workers),
            arguments.events_per_worker,
            arguments.per_worker,
            arguments.cap,
        )
    )
