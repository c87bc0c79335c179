"""A three-node NATS JetStream cluster on loopback, for the cluster tests and `bench/cluster.py`.

Each node gets its own client and cluster (route) ports and its own data folder; `stop()` ends
every node this helper started (and only those). `nats-server` comes from Debian's package.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

NATS_SERVER = "nats-server"


def nats_server_path() -> str | None:
    return shutil.which(NATS_SERVER) or next(
        (p for p in ("/usr/sbin/nats-server", "/usr/bin/nats-server") if Path(p).exists()), None
    )


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass
class Node:
    name: str
    client_port: int
    route_port: int
    folder: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.client_port}"

    @property
    def log_path(self) -> Path:
        return self.folder / "server.log"


@dataclass
class NatsCluster:
    """`NatsCluster(folder).start()`; `urls`, `kill(i)`, `restart(i)`, `stop()`."""

    folder: Path
    size: int = 3
    name: str = "actionspec-test"
    nodes: list[Node] = field(default_factory=list)

    def __post_init__(self) -> None:
        ports = _free_ports(2 * self.size)
        for index in range(self.size):
            folder = self.folder / f"n{index + 1}"
            node = Node(f"n{index + 1}", ports[2 * index], ports[2 * index + 1], folder)
            self.nodes.append(node)

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    def _config(self, node: Node) -> str:
        routes = ", ".join(f"nats-route://127.0.0.1:{n.route_port}" for n in self.nodes)
        return (
            f"server_name: {node.name}\n"
            f"listen: 127.0.0.1:{node.client_port}\n"
            "jetstream {\n"
            f'  store_dir: "{node.folder / "jetstream"}"\n'
            "  max_memory_store: 64MB\n"
            "  max_file_store: 1GB\n"
            "}\n"
            "cluster {\n"
            f"  name: {self.name}\n"
            f"  listen: 127.0.0.1:{node.route_port}\n"
            f"  routes: [{routes}]\n"
            "}\n"
        )

    def start_node(self, index: int) -> None:
        binary = nats_server_path()
        if binary is None:
            raise RuntimeError("nats-server is not installed (apt-get install nats-server)")
        node = self.nodes[index]
        node.folder.mkdir(parents=True, exist_ok=True)
        config = node.folder / "server.conf"
        config.write_text(self._config(node), encoding="utf-8")
        log = open(node.log_path, "ab")  # noqa: SIM115 -- handed to the child process
        node.process = subprocess.Popen(
            [binary, "-c", str(config)], stdout=log, stderr=subprocess.STDOUT
        )
        log.close()

    def start(self, timeout: float = 30.0) -> NatsCluster:
        for index in range(self.size):
            self.start_node(index)
        if not self.wait_ready(timeout):
            logs = "\n".join(n.log_path.read_text(errors="replace")[-1500:] for n in self.nodes)
            self.stop()
            raise RuntimeError(f"the NATS cluster did not form; logs:\n{logs}")
        return self

    def wait_ready(self, timeout: float) -> bool:
        """Until JetStream answers through every running node (a meta leader was elected)."""
        deadline = time.monotonic() + timeout
        running = [n for n in self.nodes if n.process is not None and n.process.poll() is None]
        while time.monotonic() < deadline:
            if all(_jetstream_ready(n.client_port) for n in running):
                return True
            time.sleep(0.2)
        return False

    def kill(self, index: int) -> None:
        """SIGKILL one node (its data folder stays, so `restart` brings it back)."""
        node = self.nodes[index]
        if node.process is not None and node.process.poll() is None:
            node.process.send_signal(signal.SIGKILL)
            node.process.wait(10)
        node.process = None

    def restart(self, index: int) -> None:
        self.kill(index)
        self.start_node(index)

    def stop(self) -> None:
        for node in self.nodes:
            if node.process is not None and node.process.poll() is None:
                node.process.send_signal(signal.SIGTERM)
        for index, node in enumerate(self.nodes):
            if node.process is None:
                continue
            try:
                node.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill(index)
            node.process = None


def _jetstream_ready(port: int) -> bool:
    """A `$JS.API.INFO` request answered without error (plain NATS protocol, no client)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.settimeout(1)
            reader = sock.makefile("rb")
            if not reader.readline().startswith(b"INFO"):
                return False
            sock.sendall(
                b'CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true}\r\n'
                b"SUB _INBOX.ready 1\r\nPUB $JS.API.INFO _INBOX.ready 0\r\n\r\nPING\r\n"
            )
            while True:
                line = reader.readline()
                if not line:
                    return False
                if line.startswith(b"MSG") or line.startswith(b"HMSG"):
                    size = int(line.split()[-1])
                    body = reader.read(size + 2)
                    return b'"error"' not in body and b"503" not in line
                if line.startswith(b"-ERR"):
                    return False
    except OSError:
        return False
