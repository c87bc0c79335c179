"""Service processes with a role (`serve --workspace F --role ingest|worker --port P`)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from delivery.harness import LAUNCHER, Service, wait_until


class RoleService(Service):
    """The delivery tests' service process, run as an ingestion-only or worker-only process."""

    def __init__(
        self,
        name: str,
        role: str,
        workspace: Path,
        port: int,
        env: Mapping[str, str],
        package_dir: Path,
        package: str,
    ) -> None:
        super().__init__(workspace, port, env, package_dir, package)
        self.name = name
        self.role = role
        self.log_path = workspace.parent / f"{name}.log"

    def start(self, timeout: float = 40.0) -> None:
        self.starts += 1
        log = open(self.log_path, "ab")  # noqa: SIM115 -- handed to the child process
        command = [
            sys.executable,
            str(LAUNCHER),
            self.package,
            "serve",
            "--workspace",
            str(self.workspace),
            "--role",
            self.role,
            "--port",
            str(self.port),
        ]
        self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=log)
        log.close()
        if not wait_until(self.healthy, timeout, 0.05):
            self.kill()
            raise RuntimeError(f"{self.name} did not start; its log:\n{self.logs()[-3000:]}")
