"""A three-node JetStream cluster for the tests of this folder, and their printed figures.

Without `nats-server` the tests are skipped, except in CI (`CI` set), where they must run:
`.ci/run` installs Debian's `nats-server` package.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# The delivery tests' generated package (Clay, rate-limited relay, batching bulk) and fake API.
from delivery.conftest import delivery_package, fake  # noqa: F401 -- fixtures, re-used

from .nats_cluster import NatsCluster, nats_server_path

FIGURES: list[tuple[str, str, Any]] = []


def report(test: str, **figures: Any) -> None:
    FIGURES.extend((test, name, value) for name, value in figures.items())


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES:
        return
    terminalreporter.section("cluster figures")
    for test, name, value in FIGURES:
        shown = f"{value:.2f}" if isinstance(value, float) else str(value)
        terminalreporter.write_line(f"{test:28} {name:34} {shown}")


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
