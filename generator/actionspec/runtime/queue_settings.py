"""The workspace's `queue:` setting: the embedded SQLite queue (default) or NATS JetStream.

    queue: sqlite                                   # the default: one machine, data_dir
    queue: [nats://10.0.0.1:4222, nats://10.0.0.2:4222, nats://10.0.0.3:4222]
    queue:
      servers: [nats://10.0.0.1:4222, nats://10.0.0.2:4222, nats://10.0.0.3:4222]
      stream: ACTIONSPEC            # names the streams and consumers
      replicas: 3                   # default: the number of servers listed, at most 3
      storage: file                 # or memory
      retention: workqueue          # or limits / interest (with max_age_seconds)
      max_age_seconds: 604800       # optional: jobs older than this are dropped by the stream
      max_deliveries: 100           # tries of one job (retries and redeliveries) before a dead letter
      duplicate_window_seconds: 86400   # default: ingest.dedupe_window_seconds
      worker_concurrency: 8         # requests in flight per destination in one worker process
      connect_timeout_seconds: 30

Credentials in a URL (`nats://user:password@host`, `nats://token@host`) are secrets: they must
be written as `${ENV_NAME}` and are masked everywhere, like every other secret.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

__all__ = ["JetStreamSettings", "parse_queue"]

DataPath = tuple[str | int, ...]
_STREAM_NAME = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_ENV_REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")
SCHEMES = ("nats://", "tls://")
STORAGE = ("file", "memory")
RETENTION = ("workqueue", "limits", "interest")
_KEYS = (
    "servers",
    "stream",
    "replicas",
    "storage",
    "retention",
    "max_age_seconds",
    "max_deliveries",
    "duplicate_window_seconds",
    "worker_concurrency",
    "connect_timeout_seconds",
)


@dataclass(frozen=True)
class JetStreamSettings:
    """Where the JetStream cluster is and how its streams and consumers are set up."""

    servers: tuple[str, ...] = field(repr=False)  # may hold credentials
    stream: str = "ACTIONSPEC"
    replicas: int = 1
    storage: str = "file"
    retention: str = "workqueue"
    max_age_seconds: float | None = None
    max_deliveries: int = 100
    duplicate_window_seconds: float = 24 * 3600.0
    worker_concurrency: int | None = None
    connect_timeout_seconds: float = 30.0

    def secrets(self) -> frozenset[str]:
        """Passwords and tokens written in the server URLs (a user name is no secret)."""
        values: set[str] = set()
        for url in self.servers:
            parts = urlsplit(url)
            secret = parts.password if parts.password is not None else parts.username
            if secret:
                values.update({secret, unquote(secret)})
        return frozenset(values)

    def shown_servers(self) -> list[str]:
        """The server URLs without their credentials (for logs and errors)."""
        shown = []
        for url in self.servers:
            parts = urlsplit(url)
            host = parts.hostname or ""
            port = f":{parts.port}" if parts.port else ""
            userinfo = "***@" if parts.username or parts.password else ""
            shown.append(f"{parts.scheme}://{userinfo}{host}{port}")
        return shown


class Checker(Protocol):
    """What this module needs of the workspace's checker (workspace._Checker)."""

    def error(self, path: DataPath, message: str, key: bool = False) -> None: ...

    def table(
        self,
        value: Any,
        path: DataPath,
        known: tuple[str, ...],
        required: tuple[str, ...] = (),
    ) -> dict[str, Any]: ...

    def typed(
        self, value: Any, path: DataPath, kind: type | tuple[type, ...], what: str
    ) -> Any: ...

    def number(self, value: Any, path: DataPath, minimum: float = 0.0) -> float | None: ...

    def substitute(self, value: Any, path: DataPath) -> Any: ...


def parse_queue(check: Checker, raw: Any, dedupe_window: float) -> JetStreamSettings | None:
    """None for the embedded SQLite queue, else the JetStream settings (errors go to `check`)."""
    where: DataPath = ("queue",)
    if raw is None or raw == "sqlite":
        return None
    servers_at: DataPath = (*where, "servers")
    if isinstance(raw, list):  # the short form: just the servers
        raw, servers_at = {"servers": raw}, where
    if not isinstance(raw, dict):
        check.error(where, "'queue' must be sqlite, a list of nats:// URLs, or a mapping")
        return None
    table = check.table(raw, where, _KEYS, required=("servers",))
    servers = _servers(check, table.get("servers"), servers_at) if "servers" in table else []
    options: dict[str, Any] = {}
    if "stream" in table:
        name = check.typed(table["stream"], (*where, "stream"), str, "text")
        if name is not None and not _STREAM_NAME.match(name):
            check.error(
                (*where, "stream"), "'stream' may hold 1 to 32 letters, digits, '_' and '-'"
            )
        options["stream"] = name
    for key, choices in (("storage", STORAGE), ("retention", RETENTION)):
        if key in table:
            if table[key] not in choices:
                check.error((*where, key), f"'{key}' must be one of {', '.join(choices)}")
            options[key] = table[key]
    for key, low, high in (("replicas", 1, 5), ("max_deliveries", 1, 10_000)):
        if key in table:
            value = check.typed(table[key], (*where, key), int, "a whole number")
            if value is not None and not low <= value <= high:
                check.error((*where, key), f"'{key}' must be from {low} to {high}")
            options[key] = value
    if "worker_concurrency" in table:
        value = check.typed(
            table["worker_concurrency"], (*where, "worker_concurrency"), int, "a whole number"
        )
        if value is not None and value < 1:
            check.error((*where, "worker_concurrency"), "'worker_concurrency' must be at least 1")
        options["worker_concurrency"] = value
    for key in ("max_age_seconds", "duplicate_window_seconds", "connect_timeout_seconds"):
        if key in table:
            options[key] = check.number(table[key], (*where, key))
    options.setdefault("duplicate_window_seconds", dedupe_window)
    max_age = options.get("max_age_seconds")
    window = options.get("duplicate_window_seconds")
    if max_age is not None and window is not None and window > max_age:
        check.error(
            (*where, "duplicate_window_seconds"),
            "the duplicate window cannot be longer than max_age_seconds",
        )
    if not servers:
        return None
    options = {k: v for k, v in options.items() if v is not None}  # None: reported above
    options.setdefault("replicas", min(3, len(servers)))
    return JetStreamSettings(servers=tuple(servers), **options)


def _servers(check: Checker, raw: Any, where: DataPath) -> list[str]:
    if not isinstance(raw, list) or not raw or not all(isinstance(u, str) for u in raw):
        check.error(where, "'servers' must be a list of nats:// URLs")
        return []
    servers: list[str] = []
    for index, written in enumerate(raw):
        place: DataPath = (*where, index)
        url = check.substitute(written, place)
        if not isinstance(url, str) or not url.startswith(SCHEMES):
            check.error(place, "a NATS server URL starts with nats:// or tls://")
            continue
        userinfo = urlsplit(written).netloc.rpartition("@")[0] if "@" in written else ""
        secret = userinfo.partition(":")[2] if ":" in userinfo else userinfo  # password or token
        if secret and _ENV_REFERENCE.sub("", secret):
            check.error(
                place,
                'credentials in a NATS URL are secrets: write them as "${ENV_NAME}" '
                "and set the variable",
            )
            continue
        try:
            host = urlsplit(url).hostname
            urlsplit(url).port  # noqa: B018 -- raises ValueError for a port that is not one
        except ValueError:
            check.error(place, "the NATS server URL has an invalid port")
            continue
        if not host:
            check.error(place, "the NATS server URL needs a host")
            continue
        servers.append(url)
    return servers
