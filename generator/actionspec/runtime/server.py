"""`serve --workspace FILE`: ingestion and delivery in one process.

The process holds a lock on the data folder (one server per queue file). On SIGTERM or SIGINT
uvicorn stops accepting requests and finishes the open ones; then delivery stops leasing, lets
in-flight requests finish for `delivery.shutdown_grace_seconds` and hands the rest back to the
queue. After a crash (SIGKILL) nothing accepted is lost: leases of the dead process end at the
next start.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import logs
from .delivery import Delivery
from .ingest import IngestApp, Receive, Scope, Send
from .metrics import DeliveryMetrics
from .queue import SQLiteQueue
from .workspace import Workspace

__all__ = ["Service", "data_dir_lock", "serve"]

log = logs.logger("server")
QUEUE_FILE = "queue.sqlite3"


class DataDirLocked(RuntimeError):
    pass


@contextmanager
def data_dir_lock(data_dir: Path) -> Iterator[None]:
    """An exclusive lock on the data folder for the life of the server (freed on any exit)."""
    import fcntl

    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / "server.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DataDirLocked(f"another server is using {data_dir}") from None
        handle.write(str(os.getpid()))
        handle.flush()
        yield


class Service:
    """The ASGI application of the whole service: ingestion plus delivery in its lifespan."""

    def __init__(
        self, workspace: Workspace, queue: SQLiteQueue, poll_seconds: float = 0.25
    ) -> None:
        self.workspace = workspace
        self.queue = queue
        self.metrics = DeliveryMetrics()
        self.poll_seconds = poll_seconds
        self.delivery: Delivery | None = None
        self.ingest = IngestApp(workspace, queue, self.metrics, self._wake)
        self.metrics.on_collect(self._collect_depth)

    def _wake(self, names: set[str]) -> None:
        if self.delivery is not None:
            self.delivery.wake(names)

    def _collect_depth(self) -> None:
        depth = self.queue.depth()
        for name in self.workspace.destinations:
            self.metrics.set("queue_depth", float(depth.get(name, 0)), destination=name)

    async def start(self) -> None:
        released = await asyncio.to_thread(self.queue.release_all_leases)
        if released:
            log.info("jobs of a previous run are leased again", extra={"jobs": released})
        self.delivery = Delivery(self.workspace, self.queue, self.metrics, self.poll_seconds)
        self.delivery.start()
        log.info(
            "delivery started",
            extra={
                "destinations": [n for n, d in self.workspace.destinations.items() if d.enabled]
            },
        )

    async def stop(self) -> None:
        if self.delivery is not None:
            await self.delivery.stop(self.workspace.shutdown_grace_seconds)
            self.delivery = None
        log.info("delivery stopped", extra={"queue_depth": sum(self.queue.depth().values())})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        else:
            await self.ingest(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _uvicorn() -> Any:
    try:
        import uvicorn
    except ImportError:
        raise RuntimeError("serving needs uvicorn: pip install 'destinations[serve]'") from None
    return uvicorn


def serve(workspace: Workspace, host: str | None = None, port: int | None = None) -> int:
    """Run the service until SIGTERM/SIGINT; returns the exit status."""
    uvicorn = _uvicorn()
    logs.configure(workspace.secrets())
    try:
        with data_dir_lock(workspace.data_dir):
            queue = SQLiteQueue(workspace.data_dir / QUEUE_FILE, workspace.dedupe_window_seconds)
            service = Service(workspace, queue)
            bind_host = host or workspace.host
            bind_port = workspace.port if port is None else port
            log.info(
                "listening",
                extra={"url": f"http://{bind_host}:{bind_port}", "workspace": str(workspace.file)},
            )
            config = uvicorn.Config(
                service,
                host=bind_host,
                port=bind_port,
                lifespan="on",
                log_config=None,
                access_log=False,
                timeout_graceful_shutdown=workspace.shutdown_grace_seconds,
            )
            uvicorn.Server(config).run()
            queue.close()
    except DataDirLocked as exc:
        log.error(str(exc))
        return 1
    return 0
