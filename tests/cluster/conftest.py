"""A three-node JetStream cluster for the tests of this folder, and their printed figures.

The delivery tests' generated package and fake APIs (`delivery_package`, `fake`) come from
tests/conftest.py, shared with tests/delivery.

Without `nats-server` the tests are skipped, except in CI (`CI` set), where they must run:
`.ci/run` installs Debian's `nats-server` package.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import Figures

from .nats_cluster import NatsCluster, nats_server_path

FIGURES = Figures("cluster figures", 34)
report = FIGURES.report


def pytest_terminal_summary(terminalreporter: Any) -> None:
    FIGURES.print(terminalreporter)


def queue_settings(cluster: NatsCluster, stream: str, **options: Any) -> Any:
    """JetStreamSettings of a queue on `cluster` in its own `stream` (three replicas)."""
    from destinations._runtime.queue_settings import JetStreamSettings

    values: dict[str, Any] = {
        "stream": stream,
        "replicas": 3,
        "duplicate_window_seconds": 120.0,
        "connect_timeout_seconds": 20.0,
    }
    values.update(options)
    return JetStreamSettings(servers=tuple(cluster.urls), **values)


def require_nats_server() -> None:
    """Skip without nats-server or nats-py, but fail in CI, where both must be installed."""
    missing = None
    if nats_server_path() is None:
        missing = "nats-server is not installed (apt-get install nats-server)"
    else:
        try:
            import nats  # noqa: F401
        except ImportError:
            missing = "nats-py is not installed (pip install nats-py; the test extras have it)"
    if missing is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{missing}: CI must run the cluster tests (.ci/run installs nats-server)")
    pytest.skip(missing)


@pytest.fixture(scope="module")
def nats_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsCluster]:
    """Three nodes on loopback (own ports and data folders), stopped when the module ends."""
    require_nats_server()
    cluster = NatsCluster(Path(tmp_path_factory.mktemp("nats"))).start()
    try:
        yield cluster
    finally:
        cluster.stop()


_streams = iter(range(1, 1_000_000))


@pytest.fixture
def stream_name() -> str:
    """A stream name of its own for each test (tests share a cluster per module)."""
    return f"T{next(_streams)}_{os.getpid()}"
