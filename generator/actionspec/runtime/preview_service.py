"""The preview service: a plain ASGI app that shows what destination actions would send.

    python -m PACKAGE serve            # uvicorn on 127.0.0.1:8000 (the `serve` extra)

Routes come from the package's OpenAPI description (`openapi.json` beside `__init__.py`), whose
operations say what they serve (`x-actionspec-serves`); request bodies are checked against the
schemas written there before any action runs. Answers:

* `POST /destinations/{slug}/actions/{key}/preview` `{event, settings}`: 200 with the payload
  and the requests, or 422 with the field errors;
* `POST /destinations/{slug}/route` `{event, settings}`: the requests of the matching presets;
* 500 or 501 (operations whose actions have hooks): a hook failed, or is still the stub;
* `GET /catalog`, `GET /openapi.json`.

No state, no outbound calls. Password settings are shown as `***`: requests are rebuilt with
`***` in their place, and an event value equal to a secret is masked too, unless the value is a
name or fixed value the description publishes (a property name, an enum or const value): that
string is public already, and masking it would break the shape the description promises.
(A request built by a hook is masked by the runtime itself: the hook runs again on masked
settings and every secret is replaced wherever it appears.)
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Awaitable, Callable, Mapping
from importlib import resources
from typing import Any
from urllib.parse import unquote

from .core import MASK, Destination, DestinationError, PayloadValidationError, mask_secrets
from .hooks import HookError, HookNotImplementedError
from .schema_check import SchemaChecker

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Answer = tuple[int, Any, list[tuple[str, str]]]  # status, JSON body, extra headers

MAX_BODY_BYTES = 1_000_000
MAX_NESTING = 64


class _Rejected(Exception):
    """A request the service answers with an error status."""

    def __init__(self, status: int, kind: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": kind, "message": message, "field": field}}


def _default_package() -> Any:
    return importlib.import_module(__name__.rsplit(".", 2)[0])


def _segments(path: str) -> tuple[str, ...]:
    """`/destinations/a%2Fb/route` -> ("destinations", "a/b", "route")."""
    return tuple(unquote(part, errors="strict") for part in path.split("/")[1:])


def _depth(value: Any) -> int:
    """How deeply `value` nests lists and objects (iteratively: any depth is safe)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_body(body: bytes) -> Any:
    """Strict JSON (no NaN or Infinity), at most MAX_NESTING levels deep."""
    try:
        data = json.loads(body, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise _Rejected(400, "InvalidJSON", f"the body is not valid JSON: {reason}") from None
    if _depth(data) > MAX_NESTING:
        raise _Rejected(400, "InvalidJSON", f"the body nests deeper than {MAX_NESTING} levels")
    return data


def _published(document: Any) -> frozenset[str]:
    """The strings the description makes public: property names, enum and const values."""
    found: set[str] = set()
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            found.update(k for k in node.get("properties", ()) if isinstance(k, str))
            found.update(v for v in node.get("enum", ()) if isinstance(v, str))
            if isinstance(node.get("const"), str):
                found.add(node["const"])
            stack.extend(node.values())
    return frozenset(found)


def _hide(value: Any, secrets: frozenset[str]) -> Any:
    """Strings (values or keys) equal to a secret become `***`; everything else is kept.

    Callers leave out of `secrets` the strings the description publishes (see `_published`)."""
    if not secrets:
        return value
    if isinstance(value, str):
        return MASK if value in secrets else value
    if isinstance(value, dict):
        return {_hide(k, secrets): _hide(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_hide(v, secrets) for v in value]
    return value


def _shown_request(request: Any, secrets: frozenset[str], hidden: frozenset[str]) -> dict[str, Any]:
    """The request as shown: secrets masked in the URL and headers, `hidden` strings in the body."""
    shown: dict[str, Any] = request.to_dict()  # rebuilt with password settings as "***"
    shown["url"] = mask_secrets(shown["url"], secrets)
    shown["headers"] = {k: mask_secrets(v, secrets) for k, v in shown["headers"].items()}
    shown["json"] = _hide(shown["json"], hidden)
    return shown


def _internal_error(exc: Exception) -> tuple[int, dict[str, Any]]:
    """A bug: said so without details (they could hold secrets)."""
    sys.stderr.write(f"preview service: internal error {type(exc).__name__}\n")
    message = "internal error of the preview service"
    return 500, {"error": {"type": "InternalError", "message": message, "field": None}}


def _status(exc: Exception) -> int:
    """422 for an event or settings the action rejects; a hook that fails is hand-written code
    at fault (500), or not written yet (501). Either way the message names the hook."""
    if isinstance(exc, HookNotImplementedError):
        return 501
    return 500 if isinstance(exc, HookError) else 422


def _error(exc: Exception, secrets: frozenset[str]) -> dict[str, Any]:
    message = mask_secrets(str(getattr(exc, "message", exc)), secrets)
    error: dict[str, Any] = {
        "type": type(exc).__name__,
        "message": message,
        "field": getattr(exc, "field", None),
    }
    problems = getattr(exc, "errors", None)
    if isinstance(exc, PayloadValidationError) and problems:
        error["errors"] = [
            {"field": field, "message": mask_secrets(text, secrets)} for field, text in problems
        ]
    return {"error": error}


class PreviewService:
    """The ASGI app. `package` is the generated package (default: the one this module is in)."""

    def __init__(self, package: Any = None) -> None:
        self.package = package if package is not None else _default_package()
        text = resources.files(self.package.__name__).joinpath("openapi.json").read_text("utf-8")
        self.document: dict[str, Any] = json.loads(text)
        self.checker = SchemaChecker(self.document)
        self.published = _published(self.document.get("components", {}))
        self.routes: dict[tuple[str, ...], dict[str, dict[str, Any]]] = {
            _segments(path): {method.upper(): op for method, op in item.items()}
            for path, item in self.document["paths"].items()
        }
        self.paths: dict[tuple[str, ...], str] = {}  # ("preview", slug, key) -> path
        for path, item in self.document["paths"].items():
            serves = next(iter(item.values())).get("x-actionspec-serves", {})
            if "preview" in serves:
                self.paths["preview", serves["preview"], serves["action"]] = path
            elif "route" in serves:
                self.paths["route", serves["route"]] = path

    # ------------------------------------------------------------------ ASGI

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        body, too_large = await self._read_body(receive)
        if too_large:
            answer: Answer = (
                413,
                {"error": {"type": "TooLarge", "message": "body too large", "field": None}},
                [],
            )
        else:
            raw_path = scope.get("raw_path") or scope["path"].encode("utf-8")
            answer = self.handle(scope["method"], raw_path.decode("latin-1"), headers, body)
        status, data, extra = answer
        try:
            payload = json.dumps(data, separators=(",", ":"), allow_nan=False).encode("ascii")
        except (TypeError, ValueError) as exc:  # a value JSON cannot carry: a bug, said so
            status, data = _internal_error(exc)
            payload = json.dumps(data).encode("ascii")
        response_headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
            *((k.encode("latin-1"), v.encode("latin-1")) for k, v in extra),
        ]
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": payload})

    @staticmethod
    async def _read_body(receive: Receive) -> tuple[bytes, bool]:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                return b"", True
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks), False

    # ------------------------------------------------------------------ requests

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Answer:
        """The answer to one request (the ASGI-free core, also used by tests)."""
        try:
            return self._dispatch(method, path.split("?", 1)[0], headers, body)
        except _Rejected as exc:
            return exc.status, exc.body, []
        except Exception as exc:
            return (*_internal_error(exc), [])

    def _dispatch(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Answer:
        try:
            operations = self.routes.get(_segments(path))
        except UnicodeDecodeError:
            operations = None
        if operations is None:
            raise _Rejected(404, "NotFound", f"no such path: {path}; see /openapi.json")
        operation = operations.get(method.upper())
        if operation is None:
            allowed = ", ".join(sorted(operations))
            return (
                405,
                {"error": {"type": "MethodNotAllowed", "message": f"use {allowed}", "field": None}},
                [("allow", allowed)],
            )
        serves: dict[str, Any] = operation["x-actionspec-serves"]
        if "openapi" in serves:
            return 200, self.document, []
        if "catalog" in serves:
            return 200, self.catalog(), []
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            raise _Rejected(415, "UnsupportedMediaType", "send the body as application/json")
        data = parse_body(body)
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        problems = self.checker.problems(data, schema)
        if problems:
            field, _ = problems[0]
            message = "; ".join(f"{where or 'the body'} {text}" for where, text in problems[:20])
            raise _Rejected(400, "InvalidRequest", message, field)
        dest: Destination = self.package.get(serves.get("preview") or serves["route"])
        if "preview" in serves:
            return self._preview(dest, serves["action"], data["event"], data["settings"])
        return self._route(dest, data["event"], data["settings"])

    def _preview(
        self, dest: Destination, key: str, event: dict[str, Any], settings: dict[str, Any]
    ) -> Answer:
        secrets = dest.secrets(settings)
        hidden = secrets - self.published
        action = dest.action(key)
        try:  # showing a request built by a hook runs the hook again, on masked settings
            shown = [_shown_request(r, secrets, hidden) for r in action.requests(event, settings)]
            payload = action.payload(event)
        except (PayloadValidationError, DestinationError, HookError) as exc:
            return _status(exc), _error(exc, secrets), []
        return 200, {"payload": _hide(payload, hidden), "requests": shown}, []

    def _route(self, dest: Destination, event: dict[str, Any], settings: dict[str, Any]) -> Answer:
        secrets = dest.secrets(settings)
        hidden = secrets - self.published
        try:
            shown = [_shown_request(r, secrets, hidden) for r in dest.route(event, settings)]
        except (PayloadValidationError, DestinationError, HookError) as exc:
            return _status(exc), _error(exc, secrets), []
        result: dict[str, Any] = {"requests": shown}
        if not shown:
            result["note"] = dest.no_action_note(event)
        return 200, result, []

    def catalog(self) -> dict[str, Any]:
        destinations = []
        for slug in self.package.catalog():
            dest: Destination = self.package.get(slug)
            destinations.append(
                {
                    "slug": dest.slug,
                    "name": dest.name,
                    "description": dest.description,
                    "accepts": list(dest.accepts),
                    "route": self.paths.get(("route", dest.slug), ""),
                    "settings": [
                        {
                            "key": s.key,
                            "label": s.label,
                            "type": s.type,
                            "required": s.required,
                            "secret": s.secret,
                            **({"default": s.default} if s.has_default and not s.secret else {}),
                            **({"choices": list(s.choices)} if s.choices else {}),
                        }
                        for s in dest.settings
                    ],
                    "actions": [
                        {
                            "key": a.key,
                            "title": a.title,
                            "description": a.description,
                            "trigger": a.trigger,
                            "preview": self.paths.get(("preview", dest.slug, a.key), ""),
                            "fields": _fields(a.schema),
                        }
                        for a in dest.actions.values()
                    ],
                    "presets": [
                        {"name": p.name, "trigger": p.trigger, "action": p.action}
                        for p in dest.presets
                    ],
                }
            )
        return {
            "package": self.package.__name__,
            "version": str(getattr(self.package, "__version__", "")),
            "destinations": destinations,
        }


def _fields(schema: Mapping[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required", ()))
    return [
        {
            "key": key,
            "label": sub.get("title", key),
            "description": sub.get("description", ""),
            "type": sub.get("type"),
            "required": key in required,
        }
        for key, sub in schema.get("properties", {}).items()
    ]


def create_app(package: Any = None) -> PreviewService:
    """The preview service of `package` (default: the package this runtime belongs to)."""
    return PreviewService(package)
