"""Running the service under test as a real process, and talking to it."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
SPECS = HERE / "specs"
LAUNCHER = HERE / "serve_with_bulk.py"
TEST_PACKAGE = "delivery_testpkg"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def basic_auth(write_key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()}


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


class Service:
    """`python -m <package> serve --workspace FILE` (through the bulk-collector launcher)."""

    def __init__(
        self,
        workspace: Path,
        port: int,
        env: Mapping[str, str],
        package_dir: Path | None = None,
        package: str = "destinations",
    ) -> None:
        self.workspace = workspace
        self.port = port
        self.env = {**os.environ, **env}
        if package_dir is not None:
            self.env["PYTHONPATH"] = os.pathsep.join(
                [str(package_dir), self.env.get("PYTHONPATH", "")]
            )
        self.package = package
        self.log_path = workspace.parent / "service.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> None:
        self.starts += 1
        log = open(self.log_path, "ab")  # noqa: SIM115 -- handed to the child process
        command = [
            sys.executable,
            str(LAUNCHER),
            self.package,
            "serve",
            "--workspace",
            str(self.workspace),
        ]
        self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=log)
        log.close()
        if not wait_until(self.healthy, timeout, 0.05):
            self.kill()
            raise RuntimeError(f"the service did not start; its log:\n{self.logs()[-3000:]}")

    def healthy(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            return False
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM, then wait: the exit status."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def logs(self) -> str:
        return (
            self.log_path.read_text(encoding="utf-8", errors="replace")
            if self.log_path.exists()
            else ""
        )

    def metrics(self) -> dict[str, float]:
        """Metric samples summed over labels: {"deliveries_total": 12.0, ...}."""
        text = httpx.get(f"{self.url}/metrics", timeout=5).text
        totals: dict[str, float] = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name_labels, _, value = line.rpartition(" ")
                name = name_labels.split("{")[0]
                totals[name] = totals.get(name, 0.0) + float(value)
        return totals

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, str(LAUNCHER), self.package, *args]
        return subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=60)


def write_workspace(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")  # JSON is YAML
    return path


def track(message_id: str, user: str = "u1", **properties: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Signed Up",
        "userId": user,
        "messageId": message_id,
        "context": {"ip": "203.0.113.9", "userAgent": "test"},
        "properties": properties,
    }


def identify(message_id: str, user: str = "u1", **traits: Any) -> dict[str, Any]:
    return {"type": "identify", "userId": user, "messageId": message_id, "traits": traits}


def app_event(kind: str, ref: str, user: str = "u1", **fields: Any) -> dict[str, Any]:
    """An event of the `app` source (Loops and CleverTap, see `with_catalog`).

    `ref` is its messageId and is also sent as a property or trait, so that the fake can tell
    which event a Loops body or a CleverTap record came from (their bodies carry no messageId).
    CleverTap's default identity policy needs both IDs: the event has both.
    """
    data = "traits" if kind == "identify" else "properties"
    extra = dict(fields.pop(data, {}))
    event: dict[str, Any] = {
        "type": kind,
        "userId": user,
        "anonymousId": f"anon-{user}",
        "messageId": ref,
        data: {"ref": ref, **extra},
        **fields,
    }
    if kind == "track":
        event.setdefault("event", "Plan Selected")
    if kind == "identify":
        event[data].setdefault("email", f"{user}@example.com")
    return event
