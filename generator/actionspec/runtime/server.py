"""`serve --workspace FILE`: ingestion and delivery in one process.

The process holds a lock on the data folder (one server per queue file). On SIGTERM or SIGINT
uvicorn stops accepting requests and finishes the open ones; then delivery stops leasing, lets
in-flight requests finish for `delivery.shutdown_grace_seconds` and hands the rest back to the
queue. After a crash (SIGKILL) nothing accepted is lost: leases of the dead process end at the
next start.

With the JetStream queue (`queue:` in the workspace) any number of processes share the work,
each with a role: `ingest` (the HTTP API only), `worker` (delivery; HTTP serves only /healthz
and /metrics) or `all`. No data-folder lock then: the cluster holds the state.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from . import logs
from .delivery import Delivery
from .ingest import IngestApp, IngestError, Receive, Scope, Send, send_refusal
from .metrics import DeliveryMetrics
from .queue import DeadLetter, Queue, SQLiteQueue
from .workspace import Workspace

__all__ = ["Service", "ServiceQueue", "data_dir_lock", "open_queue", "serve"]

log = logs.logger("server")
QUEUE_FILE = "queue.sqlite3"
_WORKER_PATHS = ("/healthz", "/metrics")  # what a worker-only process answers over HTTP


class ServiceQueue(Queue, Protocol):
    """The queue operations the service and the dead-letter command use besides `Queue`."""

    def depth(self) -> dict[str, int]: ...

    def release_all_leases(self) -> int: ...

    def close(self) -> None: ...

    def dead_letters(
        self, destination: str | None = None, limit: int = 100
    ) -> list[DeadLetter]: ...

    def dead_letter_by_id(self, letter_id: int) -> DeadLetter | None: ...

    def replay(self, letter_ids: Sequence[int]) -> int: ...


def open_queue(workspace: Workspace) -> ServiceQueue:
    """The workspace's queue: embedded SQLite in `data_dir`, or JetStream (connected, set up)."""
    if workspace.queue is None:
        return SQLiteQueue(workspace.data_dir / QUEUE_FILE, workspace.dedupe_window_seconds)
    from .queue_jetstream import JetStreamQueue

    return JetStreamQueue.for_workspace(workspace)


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
        self,
        workspace: Workspace,
        queue: ServiceQueue,
        poll_seconds: float = 0.25,
        role: str = "all",
    ) -> None:
        self.workspace = workspace
        self.queue = queue
        self.role = role
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
        if self.role == "ingest":
            log.info("ingestion only: delivery runs in worker processes")
            return
        released = await asyncio.to_thread(self.queue.release_all_leases)
        if released:
            log.info("jobs of a previous run are leased again", extra={"jobs": released})
        workspace = self.workspace
        if workspace.queue is not None:
            from .queue_jetstream import worker_view

            workspace = worker_view(workspace)
        # The JetStream queue's limits hold for all workers together.
        shared_limiter = getattr(self.queue, "shared_limiter", None)
        self.delivery = Delivery(
            workspace, self.queue, self.metrics, self.poll_seconds, limiter_for=shared_limiter
        )
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
        elif self.role == "worker" and scope["path"] not in _WORKER_PATHS:
            await _not_served(
                send,
                "this process only delivers (role worker): send events to an ingestion process",
            )
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


async def _not_served(send: Send, message: str) -> None:
    await send_refusal(send, 404, "not_found", message)


def _uvicorn() -> Any:
    try:
        import uvicorn
    except ImportError:
        raise RuntimeError("serving needs uvicorn: pip install 'destinations[serve]'") from None
    return uvicorn


def serve(
    workspace: Workspace, host: str | None = None, port: int | None = None, role: str = "all"
) -> int:
    """Run the service until SIGTERM/SIGINT; returns the exit status."""
    uvicorn = _uvicorn()
    logs.configure(workspace.secrets())
    if role != "all" and workspace.queue is None:
        log.error(
            f"--role {role} needs the JetStream queue (`queue:` in the workspace): "
            "the embedded SQLite queue serves one process"
        )
        return 2
    # One process per SQLite file; with JetStream the cluster holds the state.
    lock = (
        data_dir_lock(workspace.data_dir) if workspace.queue is None else contextlib.nullcontext()
    )
    try:
        with lock:
            try:
                queue = open_queue(workspace)
            except (RuntimeError, IngestError) as exc:  # no cluster, or it refuses the setup
                log.error(getattr(exc, "message", None) or str(exc))
                return 1
            service = Service(workspace, queue, role=role)
            bind_host = host or workspace.host
            bind_port = workspace.port if port is None else port
            log.info(
                "listening",
                extra={
                    "url": f"http://{bind_host}:{bind_port}",
                    "workspace": str(workspace.file),
                    "role": role,
                },
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
