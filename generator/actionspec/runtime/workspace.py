"""The workspace file: sources (write keys), destination instances and their mappings.

    version: 1
    data_dir: data                       # the durable queue lives here (relative to this file)
    listen: {host: 127.0.0.1, port: 8088}
    sources:
      website: {write_key: "${WEBSITE_WRITE_KEY}"}
      loops: {type: loops_webhook, signing_secret: "${LOOPS_WEBHOOK_SECRET}"}
    destinations:
      clay:
        destination: clay                # the catalog slug
        settings: {connection_key: "${CLAY_CONNECTION_KEY}", secret_key: "${CLAY_SECRET_KEY}"}
        mappings:                        # optional: without it, the destination's presets
          - {name: Track Calls, trigger: 'type = "track"', action: track}
    delivery: {max_retry_seconds: 14400}
    queue: sqlite                        # or NATS JetStream servers: see queue_settings.py

Other keys of an instance: `enabled`, `sources` (the source names it takes events from),
`base_url` (send to another origin), `timeout_seconds`, and, only lower than the spec's
limits, `concurrency`, `rate: {requests, per_seconds}` and `batch_size` (records per batch
request). `idempotency_key`: left out, requests carry the Idempotency-Key the spec declares
(Loops' Send Event: the messageId); `true` replaces it on every request with a key made from
instance, mapping and messageId (for an API that honours the header though its spec does not
send it, or when several mappings send the same event); `false` sends none.

Secrets come from environment variables (`${NAME}`); a password setting written in the file is
refused, so the file never holds one. Every problem is reported at once as
`file:line:column: error: message`, and no message shows a secret.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from .core import (
    Action,
    BoundDestination,
    CompiledPayload,
    Destination,
    DestinationError,
    Request,
    settings_match,
)
from .located_yaml import DataPath, LocatedDocument, LocatedYAMLError, load
from .mapping import DIRECTIVES, MISSING, evaluate, parse_path
from .payload import PayloadValidationError
from .queue_settings import JetStreamSettings, parse_queue
from .retry import RetryPolicy
from .trigger import Predicate, TriggerError
from .trigger import parse as parse_trigger

__all__ = [
    "DestinationInstance",
    "MappingRule",
    "Source",
    "Workspace",
    "WorkspaceError",
    "load_workspace",
]

_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
SOURCE_TYPES = ("segment", "loops_webhook")
DEFAULT_CONCURRENCY = 10


class WorkspaceError(ValueError):
    """The workspace file has problems; `errors` lists each as `file:line:column: error: ...`."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Source:
    """Where events come from: a Segment library (write key) or a Loops webhook (secret)."""

    name: str
    type: str
    write_key: str | None = field(default=None, repr=False)
    signing_secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class MappingRule:
    """One subscription of a destination instance: trigger -> action, with its mapping."""

    name: str
    action: Action
    trigger: str
    matches: Predicate = field(repr=False)
    mapping: Callable[[Mapping[str, Any]], Any] = field(repr=False)
    # The workspace's overrides are evaluated by the reference interpreter at run time.
    overridden: bool = False
    # A preset's mapping fused with the payload pipeline (generated code), tried first.
    compiled: CompiledPayload | None = field(default=None, repr=False)


@dataclass(frozen=True)
class RateLimit:
    requests: int
    per_seconds: float


@dataclass(frozen=True, eq=False)
class DestinationInstance:
    """A configured destination: settings (checked, secret), rules and delivery limits."""

    name: str
    destination: Destination
    settings: dict[str, Any] = field(repr=False)
    rules: tuple[MappingRule, ...]
    enabled: bool = True
    sources: frozenset[str] | None = None  # None: every source
    base_url: str | None = None  # send to this origin instead of the API's (tests, proxies)
    # The Idempotency-Key header: None sends what the spec declares (Loops' sendEvent: the
    # messageId); True a key made from instance, mapping and messageId on every request; False
    # none at all (see `Worker.headers` in delivery.py).
    idempotency_key: bool | None = None
    concurrency: int = DEFAULT_CONCURRENCY
    rate: RateLimit | None = None
    timeout_seconds: float = 10.0
    batch_size: int | None = None  # most records per batch request (the spec's, or lower)

    @property
    def slug(self) -> str:
        return self.destination.slug

    @functools.cached_property
    def bound(self) -> BoundDestination:
        """The destination with these settings, checked once (requests reuse what it prepares)."""
        return self.destination.bind(self.settings)

    def secrets(self) -> frozenset[str]:
        return self.destination.secrets(self.settings)

    def rule(self, name: str) -> MappingRule | None:
        return next((r for r in self.rules if r.name == name), None)

    def wants(self, source: str, event: Mapping[str, Any]) -> bool:
        """Whether events of `source` reach this instance (enabled, subscribed, integrations)."""
        if not self.enabled or (self.sources is not None and source not in self.sources):
            return False
        integrations = event.get("integrations")
        if not isinstance(integrations, dict):
            return True
        names = (self.name, self.destination.name, self.destination.slug)
        for name in names:
            if name in integrations:
                return integrations[name] is not False
        return integrations.get("All", True) is not False

    def requests(self, rule: MappingRule, event: Mapping[str, Any]) -> list[Request]:
        """The requests `rule` sends for `event` (PayloadValidationError when it cannot).

        Built as the package builds them everywhere: mapping, payload checks, the checks that
        depend on the settings (CleverTap's identity policy), hooks, then the request.
        """
        built = self.bound.run(rule.action, event, rule.mapping, rule.compiled)
        return [self._redirect(request) for request in built]

    def _redirect(self, request: Request) -> Request:
        base_url = self.base_url
        if base_url is None:
            return request

        def masked() -> Request:
            shown = request.masked()
            url = _with_origin(shown.url, base_url)
            return Request(shown.method, url, shown.headers, shown.json, shown.action)

        url = _with_origin(request.url, base_url)
        return Request(request.method, url, request.headers, request.json, request.action, masked)


def _with_origin(url: str, base_url: str) -> str:
    """`url` sent to `base_url` instead of its own scheme and host (path and query kept)."""
    parts = urlsplit(url)
    return base_url.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass(frozen=True, eq=False)
class Workspace:
    file: Path
    data_dir: Path
    host: str
    port: int
    sources: dict[str, Source]
    destinations: dict[str, DestinationInstance]
    retry: RetryPolicy
    dedupe_window_seconds: float = 24 * 3600.0
    lease_seconds: float = 60.0
    shutdown_grace_seconds: float = 10.0
    queue: JetStreamSettings | None = None  # None: the embedded SQLite queue in data_dir

    def secrets(self) -> frozenset[str]:
        """Every secret value of the workspace, as written and as it appears in URLs."""
        values: set[str] = set()
        for source in self.sources.values():
            values.update(v for v in (source.write_key, source.signing_secret) if v)
        for instance in self.destinations.values():
            values.update(instance.secrets())
        if self.queue is not None:
            values.update(self.queue.secrets())
        return frozenset(values | {quote(v, safe="") for v in values})

    def source_for_write_key(self, write_key: str) -> Source | None:
        import hmac

        found = None
        for source in self.sources.values():  # compare with every key: no timing hint
            if source.write_key is not None and hmac.compare_digest(
                source.write_key.encode(), write_key.encode()
            ):
                found = source
        return found

    def routes(self, source: str, event: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(instance, rule) pairs whose trigger matches `event` from `source`."""
        return [
            (instance.name, rule.name)
            for instance in self.destinations.values()
            if instance.wants(source, event)
            for rule in instance.rules
            if rule.matches(event)
        ]


# --------------------------------------------------------------------------- loading


class _Checker:
    """Walks the located data, collecting every problem before giving up."""

    def __init__(self, doc: LocatedDocument, environ: Mapping[str, str]) -> None:
        self.doc = doc
        self.environ = environ
        self.errors: list[str] = []

    def error(self, path: DataPath, message: str, key: bool = False) -> None:
        self.errors.append(f"{self.doc.where(path, key)}: error: {message}")

    def table(
        self,
        value: Any,
        path: DataPath,
        known: tuple[str, ...],
        required: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        what = ".".join(str(p) for p in path) or "the workspace"
        if not isinstance(value, dict):
            self.error(path, f"{what} must be a mapping of keys to values")
            return {}
        for key in value:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else f"; known: {', '.join(known)}"
                self.error((*path, key), f"unknown key '{key}' in {what}{hint}", key=True)
        for key in required:
            if key not in value:
                self.error(path, f"{what} needs '{key}'")
        return {k: v for k, v in value.items() if k in known}

    def typed(self, value: Any, path: DataPath, kind: type | tuple[type, ...], what: str) -> Any:
        ok = isinstance(value, kind) and not (isinstance(value, bool) and kind in (int, float))
        if isinstance(kind, tuple) and bool not in kind and isinstance(value, bool):
            ok = False
        if not ok:
            self.error(path, f"'{path[-1]}' must be {what}")
            return None
        return value

    def number(self, value: Any, path: DataPath, minimum: float = 0.0) -> float | None:
        checked = self.typed(value, path, (int, float), "a number")
        if checked is not None and checked <= minimum:
            self.error(path, f"'{path[-1]}' must be more than {minimum:g}")
            return None
        return None if checked is None else float(checked)

    def substitute(self, value: Any, path: DataPath) -> Any:
        """`${NAME}` replaced by the environment variable (an error when it is not set)."""
        if not isinstance(value, str):
            return value

        def variable(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in self.environ:
                self.error(path, f"environment variable {name} is not set")
                return ""
            return self.environ[name]

        return _ENV_REFERENCE.sub(variable, value)

    def secret(self, value: Any, path: DataPath, what: str) -> str | None:
        """A secret: must be written as ${NAME}, so that the file itself holds none."""
        if not isinstance(value, str) or not _ENV_REFERENCE.search(value):
            self.error(path, f'{what} is a secret: write "${{ENV_NAME}}" and set the variable')
            return None
        resolved = self.substitute(value, path)
        return resolved or None


def load_workspace(
    file: str | os.PathLike[str],
    package: Any = None,
    environ: Mapping[str, str] | None = None,
) -> Workspace:
    """Read and check the workspace file; WorkspaceError lists every problem."""
    path = Path(file)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WorkspaceError(
            [f"{path}: error: cannot read the workspace file: {exc.strerror}"]
        ) from None
    try:
        doc = load(text, str(path))
    except LocatedYAMLError as exc:
        raise WorkspaceError([str(exc)]) from None
    return _build(doc, path, package or _package(), os.environ if environ is None else environ)


def _package() -> Any:
    import importlib

    return importlib.import_module(__name__.rsplit(".", 2)[0])


def _build(doc: LocatedDocument, path: Path, package: Any, environ: Mapping[str, str]) -> Workspace:
    check = _Checker(doc, environ)
    top = check.table(
        doc.data,
        (),
        ("version", "data_dir", "listen", "sources", "destinations", "delivery", "ingest", "queue"),
        required=("version", "sources", "destinations"),
    )
    if "version" in top and top["version"] != 1:
        check.error(("version",), "'version' must be 1")
    data_dir = path.parent / str(top.get("data_dir", "data"))
    listen = check.table(top.get("listen", {}), ("listen",), ("host", "port"))
    host = check.typed(listen.get("host", "127.0.0.1"), ("listen", "host"), str, "text") or ""
    port = check.typed(listen.get("port", 8088), ("listen", "port"), int, "a port number")
    sources = _sources(check, top.get("sources", {}))
    retry, delivery_extra = _delivery(check, top.get("delivery", {}))
    ingest = check.table(top.get("ingest", {}), ("ingest",), ("dedupe_window_seconds",))
    window = 24 * 3600.0
    if "dedupe_window_seconds" in ingest:
        window = (
            check.number(ingest["dedupe_window_seconds"], ("ingest", "dedupe_window_seconds"))
            or window
        )
    destinations = _destinations(check, top.get("destinations", {}), package, set(sources))
    queue = parse_queue(check, top.get("queue"), window)
    if check.errors:
        raise WorkspaceError(check.errors)
    return Workspace(
        file=path,
        data_dir=data_dir,
        host=host,
        port=port or 0,
        sources=sources,
        destinations=destinations,
        retry=retry,
        dedupe_window_seconds=window,
        queue=queue,
        **delivery_extra,
    )


def _sources(check: _Checker, raw: Any) -> dict[str, Source]:
    sources: dict[str, Source] = {}
    if not isinstance(raw, dict) or not raw:
        check.error(("sources",), "'sources' must map source names to their settings")
        return sources
    for name, value in raw.items():
        where: DataPath = ("sources", name)
        if not _NAME.match(name):
            check.error(
                where, f"source name '{name}' may hold letters, digits, '_', '.', '-'", key=True
            )
        table = check.table(value, where, ("type", "write_key", "signing_secret"))
        kind = table.get("type", "segment")
        if kind not in SOURCE_TYPES:
            check.error((*where, "type"), f"source type must be one of {', '.join(SOURCE_TYPES)}")
            continue
        if kind == "segment":
            if "write_key" not in table:
                check.error(where, f"source '{name}' needs 'write_key'")
                continue
            key = check.substitute(table["write_key"], (*where, "write_key"))
            if not isinstance(key, str) or not key:
                check.error((*where, "write_key"), "'write_key' must be non-empty text")
                continue
            sources[name] = Source(name, kind, write_key=key)
        else:
            if "signing_secret" not in table:
                check.error(where, f"source '{name}' needs 'signing_secret'")
                continue
            secret = check.secret(
                table["signing_secret"], (*where, "signing_secret"), "'signing_secret'"
            )
            if secret is not None and not secret.startswith("whsec_"):
                check.error(
                    (*where, "signing_secret"), "a Loops signing secret starts with 'whsec_'"
                )
            elif secret is not None:
                sources[name] = Source(name, kind, signing_secret=secret)
    return sources


def _delivery(check: _Checker, raw: Any) -> tuple[RetryPolicy, dict[str, float]]:
    known = (
        "max_retry_seconds",
        "initial_backoff_seconds",
        "max_backoff_seconds",
        "lease_seconds",
        "shutdown_grace_seconds",
    )
    table = check.table(raw, ("delivery",), known)
    numbers = {k: check.number(v, ("delivery", k)) for k, v in table.items()}
    defaults = RetryPolicy()
    retry = RetryPolicy(
        max_age_seconds=numbers.get("max_retry_seconds") or defaults.max_age_seconds,
        initial_backoff_seconds=numbers.get("initial_backoff_seconds")
        or defaults.initial_backoff_seconds,
        max_backoff_seconds=numbers.get("max_backoff_seconds") or defaults.max_backoff_seconds,
    )
    extra = {k: v for k in ("lease_seconds", "shutdown_grace_seconds") if (v := numbers.get(k))}
    return retry, extra


_INSTANCE_KEYS = (
    "destination",
    "enabled",
    "sources",
    "settings",
    "mappings",
    "base_url",
    "idempotency_key",
    "concurrency",
    "rate",
    "timeout_seconds",
    "batch_size",
)


def _destinations(
    check: _Checker, raw: Any, package: Any, source_names: set[str]
) -> dict[str, DestinationInstance]:
    instances: dict[str, DestinationInstance] = {}
    if not isinstance(raw, dict):
        check.error(("destinations",), "'destinations' must map instance names to their settings")
        return instances
    for name, value in raw.items():
        where: DataPath = ("destinations", name)
        if not _NAME.match(name):
            check.error(
                where, f"instance name '{name}' may hold letters, digits, '_', '.', '-'", key=True
            )
        table = check.table(value, where, _INSTANCE_KEYS, required=("destination",))
        if "destination" not in table:
            continue
        try:
            dest: Destination = package.get(table["destination"])
        except DestinationError as exc:
            check.error((*where, "destination"), getattr(exc, "message", str(exc)))
            continue
        instance = _instance(check, name, where, table, dest, source_names)
        if instance is not None:
            instances[name] = instance
    return instances


def _instance(
    check: _Checker,
    name: str,
    where: DataPath,
    table: dict[str, Any],
    dest: Destination,
    source_names: set[str],
) -> DestinationInstance | None:
    errors_before = len(check.errors)
    settings = _settings(check, (*where, "settings"), table.get("settings", {}), dest)
    rules = _rules(check, (*where, "mappings"), table.get("mappings"), dest, settings or {})
    sources = None
    if "sources" in table:
        listed = table["sources"]
        if not isinstance(listed, list) or not all(isinstance(s, str) for s in listed):
            check.error((*where, "sources"), "'sources' must be a list of source names")
        else:
            for index, source in enumerate(listed):
                if source not in source_names:
                    check.error((*where, "sources", index), f"no source named '{source}'")
            sources = frozenset(listed)
    limits = dict(dest.limits)
    concurrency = limits.get("concurrency", DEFAULT_CONCURRENCY)
    if "concurrency" in table:
        asked = check.typed(table["concurrency"], (*where, "concurrency"), int, "a whole number")
        if asked is not None and not 1 <= asked <= concurrency and "concurrency" in limits:
            check.error(
                (*where, "concurrency"),
                f"{dest.name} allows at most {concurrency} requests in flight",
            )
        elif asked is not None and asked >= 1:
            concurrency = asked
    rate = None
    if "requests" in limits.get("rate", {}):
        rate = RateLimit(limits["rate"]["requests"], float(limits["rate"]["per_seconds"]))
    elif "rate_requests" in limits:  # the flat form of the limits
        rate = RateLimit(limits["rate_requests"], float(limits["rate_per_seconds"]))
    if "rate" in table:
        asked_rate = _rate(check, (*where, "rate"), table["rate"])
        if (
            asked_rate is not None
            and rate is not None
            and (asked_rate.requests / asked_rate.per_seconds > rate.requests / rate.per_seconds)
        ):
            check.error(
                (*where, "rate"),
                f"{dest.name} allows at most {rate.requests} requests per {rate.per_seconds:g} s",
            )
        elif asked_rate is not None:
            rate = asked_rate
    timeout = float(limits.get("timeout_seconds", 10.0))
    if "timeout_seconds" in table:
        timeout = check.number(table["timeout_seconds"], (*where, "timeout_seconds")) or timeout
    base_url = table.get("base_url")
    if base_url is not None:
        base_url = check.substitute(base_url, (*where, "base_url"))
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            check.error((*where, "base_url"), "'base_url' must be a URL like http://host:port")
    enabled = check.typed(table.get("enabled", True), (*where, "enabled"), bool, "true or false")
    idempotency_key = None  # as the spec says
    if "idempotency_key" in table:
        idempotency_key = check.typed(
            table["idempotency_key"], (*where, "idempotency_key"), bool, "true or false"
        )
    batch_size = limits.get("batch_size")
    if "batch_size" in table:
        asked_size = check.typed(table["batch_size"], (*where, "batch_size"), int, "a whole number")
        if asked_size is not None and asked_size < 1:
            check.error((*where, "batch_size"), "'batch_size' must be at least 1")
        elif asked_size is not None and batch_size and asked_size > batch_size:
            check.error(
                (*where, "batch_size"), f"{dest.name} batches hold at most {batch_size} records"
            )
        elif asked_size is not None:
            batch_size = asked_size
    if len(check.errors) > errors_before or settings is None:
        return None
    return DestinationInstance(
        name=name,
        destination=dest,
        settings=settings,
        rules=rules,
        enabled=bool(enabled),
        sources=sources,
        base_url=base_url,
        idempotency_key=idempotency_key,
        concurrency=concurrency,
        rate=rate,
        timeout_seconds=timeout,
        batch_size=batch_size,
    )


def _rate(check: _Checker, where: DataPath, raw: Any) -> RateLimit | None:
    table = check.table(
        raw, where, ("requests", "per_seconds"), required=("requests", "per_seconds")
    )
    requests = check.typed(table.get("requests"), (*where, "requests"), int, "a whole number")
    per = check.number(table.get("per_seconds"), (*where, "per_seconds"))
    if requests is not None and requests < 1:
        check.error((*where, "requests"), "'requests' must be at least 1")
        return None
    if requests is None or per is None:
        return None
    return RateLimit(requests, per)


def _settings(
    check: _Checker, where: DataPath, raw: Any, dest: Destination
) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        check.error(where, "'settings' must map setting keys to values")
        return None
    secret_keys = {s.key for s in dest.settings if s.secret}
    errors_before = len(check.errors)
    resolved: dict[str, Any] = {}
    for key, value in raw.items():
        if key in secret_keys:
            secret = check.secret(value, (*where, key), f"setting '{key}'")
            if secret is not None:
                resolved[key] = secret
        else:
            resolved[key] = check.substitute(value, (*where, key))
    if len(check.errors) > errors_before:  # checking the rest would only repeat the problem
        return None
    try:
        return dest.validate_settings(resolved)
    except DestinationError as exc:  # messages never show a secret value (core.Setting.check)
        field_name = getattr(exc, "field", "") or ""
        place = (*where, field_name) if field_name in raw else where
        check.error(
            place, f"{dest.name} settings: {getattr(exc, 'message', exc)}", key=field_name in raw
        )
        return None


def _rules(
    check: _Checker, where: DataPath, raw: Any, dest: Destination, settings: Mapping[str, Any]
) -> tuple[MappingRule, ...]:
    if raw is None:  # the destination's presets, of the preset set the settings choose
        return tuple(
            MappingRule(
                p.name, dest.actions[p.action], p.trigger, p.matches, p.mapping, compiled=p.payload
            )
            for p in dest.presets
            if settings_match(p.when_settings, settings)
        )
    if not isinstance(raw, list):
        check.error(where, "'mappings' must be a list")
        return ()
    most = int(dest.limits.get("max_mappings", 50))
    if len(raw) > most:
        check.error(
            where, f"{dest.name} allows at most {most} mappings; this instance has {len(raw)}"
        )
    rules: list[MappingRule] = []
    names: set[str] = set()
    for index, item in enumerate(raw):
        rule = _rule(check, (*where, index), item, dest, names)
        if rule is not None:
            rules.append(rule)
    return tuple(rules)


def _rule(
    check: _Checker, where: DataPath, raw: Any, dest: Destination, names: set[str]
) -> MappingRule | None:
    table = check.table(
        raw, where, ("name", "trigger", "action", "mapping", "enabled"), ("trigger", "action")
    )
    if not {"trigger", "action"} <= table.keys():
        return None
    action_key = table["action"]
    if action_key not in dest.actions:
        close = difflib.get_close_matches(str(action_key), list(dest.actions), n=1)
        hint = (
            f"; did you mean '{close[0]}'?"
            if close
            else f"; its actions: {', '.join(dest.actions)}"
        )
        check.error((*where, "action"), f"{dest.name} has no action '{action_key}'{hint}")
        return None
    action = dest.actions[action_key]
    name = table.get("name", f"{action_key} #{where[-1]}")
    if not isinstance(name, str) or name in names:
        check.error((*where, "name"), f"mapping names must be unique text; '{name}' is not")
        return None
    names.add(name)
    try:
        matches = parse_trigger(table["trigger"])
    except TriggerError as exc:
        line_col = check.doc.values.get((*where, "trigger"), (1, 1))
        # The column inside the trigger, counted from where its text starts in the file.
        check.errors.append(
            f"{check.doc.file}:{line_col[0]}:{line_col[1]}: error: trigger: {exc.message} "
            f"(character {exc.column} of the trigger)"
        )
        return None
    overrides = table.get("mapping")
    mapping = action.default_mapping
    if overrides is not None:
        if not isinstance(overrides, dict):
            check.error((*where, "mapping"), "'mapping' must map field keys to mappings")
            return None
        fields = list(action.schema.get("properties", {}))
        for key, value in overrides.items():
            if key not in fields:
                close = difflib.get_close_matches(key, fields, n=1)
                hint = (
                    f"; did you mean '{close[0]}'?" if close else f"; fields: {', '.join(fields)}"
                )
                check.error(
                    (*where, "mapping", key),
                    f"action '{action_key}' has no field '{key}'{hint}",
                    key=True,
                )
            problem = _mapping_problem(value)
            if problem:
                check.error((*where, "mapping", key), problem)
        mapping = _overridden(action.default_mapping, overrides)
    if table.get("enabled", True) is False:
        matches = _never
    # Without overrides the action's default mapping runs, fused with its payload checks.
    compiled = action.compiled_payload if overrides is None else None
    return MappingRule(
        name, action, table["trigger"], matches, mapping, overrides is not None, compiled
    )


def _never(event: Mapping[str, Any]) -> bool:
    return False


def _overridden(
    default: Callable[[Mapping[str, Any]], Any], overrides: dict[str, Any]
) -> Callable[[Mapping[str, Any]], Any]:
    """The action's default mapping with some fields mapped differently (key by key)."""

    def mapping(event: Mapping[str, Any]) -> Any:
        result = default(event)
        if not isinstance(result, dict):
            result = {}
        for key, sub in overrides.items():
            value = evaluate(sub, event)
            if value is MISSING:
                result.pop(key, None)
            else:
                result[key] = value
        return result

    return mapping


def _mapping_problem(value: Any) -> str | None:
    """What is wrong with a mapping written in the workspace, if anything."""
    if isinstance(value, list):
        return next((p for v in value if (p := _mapping_problem(v))), None)
    if not isinstance(value, dict):
        return None
    directives = [k for k in value if k.startswith("@")]
    if directives and len(value) > 1:
        return f"a directive ({directives[0]}) must be the only key of its object"
    if not directives:
        return next((p for v in value.values() if (p := _mapping_problem(v))), None)
    name = directives[0]
    if name not in DIRECTIVES:
        return f"unknown directive '{name}'; known: {', '.join(sorted(DIRECTIVES))}"
    argument = value[name]
    if name == "@path":
        try:
            parse_path(argument) if isinstance(argument, str) else None
        except ValueError as exc:
            return str(exc)
        if not isinstance(argument, str):
            return "@path needs a path like $.properties.plan"
    try:
        evaluate(value, {})
    except (KeyError, TypeError, ValueError, AttributeError, PayloadValidationError) as exc:
        return f"{name} is malformed: {exc}"
    return None
