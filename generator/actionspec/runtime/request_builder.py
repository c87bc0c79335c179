"""From a validated payload to the `Request` an action sends (the generated package's runtime).

A `RequestTemplate` (method, URL, headers, compiled body) is prepared once per checked settings
(`PreparedRequest`): everything that depends only on the settings is rendered then, and the
templates that read the payload or the event are turned into small functions, so building a
request per event costs a context dict, the body function, a headers copy and a `Request`.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .mapping import (
    TEMPLATE_SLOT,
    get_path,
    parse_path,
    render_template,
    settings_only,
    template_renderer,
    template_text,
)

if TYPE_CHECKING:
    from .core import Destination

__all__ = ["MASK", "PreparedRequest", "Request", "RequestTemplate", "render_url"]

MASK = "***"

Render = Callable[[Mapping[str, Any]], str]


@dataclass(slots=True)  # not frozen: frozen dataclasses are 4x slower to build, per request
class Request:
    """One HTTP request an action would send. Its repr never shows secret values."""

    method: str
    url: str
    headers: dict[str, str]
    json: Any
    action: str = ""
    # How to build this request again with every password setting replaced by "***": the
    # (prepared template, payload, event, extra) that built it (a tuple, not a closure: one is
    # made for every request), or a function (requests built by hooks and batches).
    built_from: tuple[Any, ...] | Callable[[], Request] | None = field(
        default=None, repr=False, compare=False
    )

    def masked(self) -> Request:
        """The same request built with password settings shown as `***` (URL, headers, body)."""
        if self.built_from is None:
            return self
        if callable(self.built_from):  # a function that builds the masked request
            return self.built_from()
        prepared, payload, event, extra = self.built_from
        masked: Request = prepared.build_masked(self.action, payload, event, extra)
        return masked

    def __repr__(self) -> str:
        shown = self.masked()
        return (
            f"Request(method={shown.method!r}, url={shown.url!r}, headers={shown.headers!r}, "
            f"json={shown.json!r}, action={shown.action!r})"
        )

    def to_dict(self, reveal_secrets: bool = False) -> dict[str, Any]:
        shown = self if reveal_secrets else self.masked()
        return {
            "action": shown.action,
            "method": shown.method,
            "url": shown.url,
            "headers": shown.headers,
            "json": shown.json,
        }


@dataclass(frozen=True)
class RequestTemplate:
    """How an action's request is built from `{payload, settings, event}`."""

    method: str
    base_url: str  # a template over settings; substituted as is
    path: str  # a template; substituted values are percent-encoded
    headers: Mapping[str, str]
    body: Callable[[Mapping[str, Any]], Any] | None
    # The body mapping as the spec writes it (`body` is its compiled form).
    body_mapping: Any = None


def render_url(base: str, path: str, context: Mapping[str, Any]) -> str:
    """`base` rendered as is, then `path` with every substituted value percent-encoded."""

    def encoded(match: Any) -> str:
        text = template_text(get_path(context, parse_path(match.group(1))))
        return quote(text, safe="", errors="surrogatepass")  # as template_renderer does

    return render_template(base, context) + TEMPLATE_SLOT.sub(encoded, path)


# --- templates read per event, as functions made once ------------------------------------------


@functools.lru_cache(maxsize=1024)
def template_function(text: str) -> Render:
    """`render_template(text, ·)`; a template that is one slot (`{{payload.x}}`, Loops'
    Idempotency-Key) reads its value directly instead of joining pieces."""
    slot = TEMPLATE_SLOT.fullmatch(text)
    try:
        if slot is None:
            return template_renderer(text)
        path = parse_path(slot.group(1))
    except ValueError:  # a bad path fails when rendered, as render_template fails
        return functools.partial(render_template, text)

    def render_slot(context: Mapping[str, Any]) -> str:
        value = get_path(context, path)
        return value if type(value) is str else template_text(value)

    return render_slot


@functools.lru_cache(maxsize=1024)
def url_function(base: str, path: str) -> Render:
    """`render_url(base, path, ·)` with `path` split into text and slot paths once."""
    try:
        render_path = template_renderer(path, percent_encoded=True)
    except ValueError:  # a bad path fails when rendered, as render_url fails
        return functools.partial(render_url, base, path)
    render_base = template_function(base)

    def render(context: Mapping[str, Any]) -> str:
        return render_base(context) + render_path(context)

    return render


# --- prepared requests -------------------------------------------------------------------------


class PreparedRequest:
    """A request template under checked settings, with what depends only on them done once."""

    __slots__ = (
        "body",
        "destination",
        "header_rest",
        "header_start",
        "json_headers",
        "masked",
        "method",
        "render_url",
        "settings",
        "template",
        "url",
    )

    def __init__(
        self,
        destination: Destination,
        template: RequestTemplate,
        settings: dict[str, Any],
        masked: bool = False,
    ) -> None:
        self.destination = destination
        self.template = template
        self.settings = settings
        self.masked = masked
        self.method = template.method
        self.body = template.body
        context: dict[str, Any] = {"settings": settings}
        # (name, rendered value or None, template): destination headers, auth, action headers.
        parts: list[tuple[str, str | None, str]] = [
            (k, render_template(v, context) if settings_only(v) else None, v)
            for k, v in destination.headers.items()
        ]
        if destination.basic_auth is not None:
            user, password = (render_template(t, context) for t in destination.basic_auth)
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            parts.append(("Authorization", f"Basic {token}", ""))
        parts.extend(
            (k, render_template(v, context) if settings_only(v) else None, v)
            for k, v in template.headers.items()
        )
        # The headers up to the first event-dependent one, copied per request; the rest as
        # (name, value, None) or (name, "", function rendering it per request), in order.
        self.header_start: dict[str, str] = {}
        rest: list[tuple[str, str, Render | None]] = []
        for name, value, text in parts:
            if rest or value is None:
                rest.append(
                    (name, "", template_function(text)) if value is None else (name, value, None)
                )
            else:
                self.header_start[name] = value
        self.header_rest = tuple(rest)
        # With no event-dependent header: the headers of a request with a (JSON) body.
        self.json_headers = self.header_start
        if "Content-Type" not in self.header_start:
            self.json_headers = {**self.header_start, "Content-Type": "application/json"}
        self.url: str | None = None
        self.render_url: Render | None = None
        if settings_only(template.base_url) and settings_only(template.path):
            self.url = self._url(render_url(template.base_url, template.path, context))
        else:
            self.render_url = url_function(template.base_url, template.path)

    def _url(self, url: str) -> str:
        if self.masked:  # a masked secret substituted into the path reads "***", not "%2A%2A%2A"
            url = url.replace(quote(MASK, safe=""), MASK)
        return url

    def build(
        self,
        action: str,
        payload: Any,
        event: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Request:
        context = {"payload": payload, "settings": self.settings, "event": event or {}}
        if extra:
            context.update(extra)
        body_function = self.body
        if self.header_rest:
            headers = self.header_start.copy()  # a copy: callers may change their request
            for name, value, render in self.header_rest:
                if render is not None:
                    value = render(context)
                    if value == "":  # an event-dependent header with no value is not sent
                        continue  # (e.g. Loops' Idempotency-Key for an event without messageId)
                headers[name] = value
            body = body_function(context) if body_function is not None else None
            if body is not None and "Content-Type" not in headers:
                headers["Content-Type"] = "application/json"
        else:
            body = body_function(context) if body_function is not None else None
            headers = (self.header_start if body is None else self.json_headers).copy()
        url = self.url
        if url is None:
            assert self.render_url is not None  # set when the URL reads the payload or event
            url = self._url(self.render_url(context))
        built_from = None if self.masked else (self, payload, event, extra)
        return Request(self.method, url, headers, body, action, built_from)

    def build_masked(
        self,
        action: str,
        payload: Any,
        event: Mapping[str, Any] | None,
        extra: Mapping[str, Any] | None,
    ) -> Request:
        settings = self.destination.masked_settings(self.settings)
        masked = PreparedRequest(self.destination, self.template, settings, masked=True)
        return masked.build(action, payload, event, extra)
