"""Ingestion and delivery figures of `serve --workspace` (for `nox -s bench`).

- ingestion: events per second through `POST /v1/batch` (each 200 means the events are synced
  to disk), with p50/p99 of the request latency, from a few concurrent clients;
- delivery: requests per second from the service to a local fake Clay API, with p50/p99 of
  the time from an event's ingestion request to its arrival at the fake.

The service runs as a real process on loopback; the fake destination is the delivery tests'.
`python bench/delivery.py` runs both; `bench/run.py` runs it as a child process.
"""

from __future__ import annotations

import argparse
import base64
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from delivery.fake_destination import FakeDestination
from delivery.harness import free_port, wait_until

WRITE_KEY = "wk_bench"
ENV = {"WRITE_KEY": WRITE_KEY, "CK": "ck_bench", "SK": "sk_bench"}


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _workspace(folder: Path, fake_url: str, port: int) -> Path:
    data = {
        "version": 1,
        "listen": {"port": port},
        "sources": {"bench": {"write_key": "${WRITE_KEY}"}},
        "destinations": {
            "clay": {
                "destination": "clay",
                "base_url": fake_url,
                "settings": {"connection_key": "${CK}", "secret_key": "${SK}"},
            }
        },
    }
    path = folder / "workspace.yaml"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _event(index: int) -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Bench",
        "userId": f"u{index % 1000}",
        "messageId": f"bench-{index}",
        "context": {"ip": "203.0.113.1", "userAgent": "bench"},
        "properties": {"sent": time.monotonic(), "n": index},
    }


def ingestion_figures(url: str, events: int, batch: int, clients: int) -> dict[str, float]:
    """Events per second through /v1/batch and the request latency percentiles."""
    auth = {"Authorization": "Basic " + base64.b64encode(f"{WRITE_KEY}:".encode()).decode()}
    latencies: list[float] = []
    per_client = events // clients

    def send(offset: int) -> None:
        with httpx.Client(timeout=30) as client:
            for start in range(offset, offset + per_client, batch):
                body = {"batch": [_event(i) for i in range(start, start + batch)]}
                began = time.perf_counter()
                answer = client.post(f"{url}/v1/batch", json=body, headers=auth)
                latencies.append(time.perf_counter() - began)
                answer.raise_for_status()

    threads = [threading.Thread(target=send, args=(i * per_client,)) for i in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    return {
        "events_per_second": per_client * clients / elapsed,
        "p50_ms": 1000 * _percentile(latencies, 0.5),
        "p99_ms": 1000 * _percentile(latencies, 0.99),
    }


def delivery_figures(
    fake: FakeDestination, expected: int, timeout: float = 120
) -> dict[str, float]:
    """Requests per second arriving at the fake, and ingestion-to-arrival latency percentiles."""
    route = fake.routes["clay"]
    wait_until(lambda: len(route.accepted) >= expected, timeout, 0.05)
    arrivals = sorted(route.arrivals)
    spread = max(arrivals[-1] - arrivals[0], 1e-9)
    latency = [
        a - body["properties"]["sent"]
        for a, body in zip(route.arrivals, route.bodies, strict=False)
    ]
    return {
        "requests_per_second": len(arrivals) / spread,
        "p50_ms": 1000 * _percentile(latency, 0.5),
        "p99_ms": 1000 * _percentile(latency, 0.99),
    }


def main(events: int = 5000, batch: int = 100, clients: int = 4) -> int:
    fake = FakeDestination(ENV["SK"], "unused", "unused")
    fake.start()
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        workspace = _workspace(Path(folder), fake.url, port)
        command = [sys.executable, "-m", "destinations", "serve", "--workspace", str(workspace)]
        log = open(Path(folder) / "service.log", "wb")  # noqa: SIM115 -- the child writes it
        service = subprocess.Popen(command, env={**ENV, "PATH": ""}, stdout=log, stderr=log)
        url = f"http://127.0.0.1:{port}"
        try:
            if not wait_until(lambda: _healthy(url), 20, 0.05):
                raise RuntimeError("the service did not start")
            ingest = ingestion_figures(url, events, batch, clients)
            deliver = delivery_figures(fake, events // clients * clients)
        finally:
            service.terminate()
            service.wait(30)
            log.close()
            fake.stop()
    print(
        f"ingestion  {ingest['events_per_second']:10,.0f} events/s through /v1/batch (durable, "
        f"{batch}/request, {clients} clients)  p50 {ingest['p50_ms']:.1f} ms  p99 {ingest['p99_ms']:.1f} ms"
    )
    print(
        f"delivery   {deliver['requests_per_second']:10,.0f} requests/s to a local fake Clay  "
        f"ingest->arrival p50 {deliver['p50_ms']:.0f} ms  p99 {deliver['p99_ms']:.0f} ms"
    )
    return 0


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--clients", type=int, default=4)
    arguments = parser.parse_args()
    sys.exit(main(arguments.events, arguments.batch, arguments.clients))
