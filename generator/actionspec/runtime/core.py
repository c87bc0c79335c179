"""Destinations, actions and the requests they build (the generated package's runtime)."""

from __future__ import annotations

import base64
import difflib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from .mapping import _TEMPLATE_SLOT, get_path, parse_path, render_template, template_text
from .payload import PayloadValidationError, process

__all__ = [
    "Action",
    "Destination",
    "DestinationError",
    "PayloadValidationError",
    "Preset",
    "Request",
    "Setting",
    "SettingsError",
    "UnknownDestinationError",
]

MASK = "***"


class DestinationError(Exception):
    """Base of the errors this package raises on bad input."""


class SettingsError(DestinationError, ValueError):
    """Settings are missing, unknown or of the wrong type; `.field` names the setting."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class UnknownDestinationError(DestinationError, LookupError):
    """No destination or action by that name; the message lists the known ones."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def mask_secrets(value: Any, secrets: frozenset[str]) -> Any:
    """`value` with every occurrence of a secret string replaced by `***`."""
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in sorted(secrets, key=len, reverse=True):
            value = value.replace(secret, MASK)
        return value
    if isinstance(value, dict):
        return {mask_secrets(k, secrets): mask_secrets(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_secrets(v, secrets) for v in value]
    return value


@dataclass(frozen=True)
class Request:
    """One HTTP request an action would send. Its repr never shows secret values."""

    method: str
    url: str
    headers: dict[str, str]
    json: Any
    action: str = ""
    # Builds this request again with every password setting replaced by "***".
    rebuild_masked: Callable[[], Request] | None = field(default=None, repr=False, compare=False)

    def masked(self) -> Request:
        """The same request built with password settings shown as `***` (URL, headers, body)."""
        return self.rebuild_masked() if self.rebuild_masked is not None else self

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


_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "password": (str,),
    "uri": (str,),
    "select": (str, int, float, bool),
    "boolean": (bool,),
    "number": (int, float),
    "integer": (int,),
}


@dataclass(frozen=True)
class Setting:
    key: str
    label: str
    type: str
    required: bool = False
    default: Any = None
    has_default: bool = False
    choices: tuple[Any, ...] = ()
    description: str = ""

    @property
    def secret(self) -> bool:
        return self.type == "password"

    def check(self, value: Any) -> Any:
        """The value, checked; never echoes a secret value in an error."""
        shown = "" if self.secret else f" (got {value!r})"
        expected = _PYTHON_TYPES[self.type]
        ok = isinstance(value, expected) and not (
            self.type in ("number", "integer") and isinstance(value, bool)
        )
        if self.type == "number" and ok and not math.isfinite(value):
            ok = False
        if not ok:
            kind = {"number": "a number", "integer": "an integer", "boolean": "true or false"}.get(
                self.type, "a string"
            )
            raise SettingsError(f"setting '{self.key}' must be {kind}{shown}", self.key)
        if self.type == "uri" and "://" not in value:
            raise SettingsError(
                f"setting '{self.key}' must be a URL like https://...{shown}", self.key
            )
        if self.choices and value not in self.choices:
            allowed = ", ".join(repr(c) for c in self.choices)
            raise SettingsError(f"setting '{self.key}' must be one of {allowed}{shown}", self.key)
        return value


@dataclass(frozen=True)
class RequestTemplate:
    """How an action's request is built from `{payload, settings, event}`."""

    method: str
    base_url: str  # a template over settings; substituted as is
    path: str  # a template; substituted values are percent-encoded
    headers: Mapping[str, str]
    body: Callable[[Mapping[str, Any]], Any] | None


def render_url(base: str, path: str, context: Mapping[str, Any]) -> str:
    def encoded(match: Any) -> str:
        return quote(template_text(get_path(context, parse_path(match.group(1)))), safe="")

    return render_template(base, context) + _TEMPLATE_SLOT.sub(encoded, path)


@dataclass(eq=False)
class Action:
    """An action: its mapping, its payload checks and the request it sends."""

    key: str
    title: str
    description: str
    trigger: str | None
    schema: dict[str, Any]
    default_mapping: Callable[[Mapping[str, Any]], Any]
    request: RequestTemplate
    model: type[Any] | None = None
    destination: Destination | None = field(default=None, repr=False)

    def payload(
        self, event: Mapping[str, Any], mapping: Callable[[Mapping[str, Any]], Any] | None = None
    ) -> dict[str, Any]:
        """The validated payload for `event`, or PayloadValidationError naming the field."""
        if not isinstance(event, Mapping):
            raise PayloadValidationError("The event must be a JSON object.", "")
        return process((mapping or self.default_mapping)(event), self.schema)

    def requests(
        self,
        event: Mapping[str, Any],
        settings: Mapping[str, Any],
        mapping: Callable[[Mapping[str, Any]], Any] | None = None,
    ) -> list[Request]:
        """The requests this action would send for `event`."""
        assert self.destination is not None, "actions belong to a destination"
        checked = self.destination.validate_settings(settings)
        payload = self.payload(event, mapping)
        return [self.destination.build_request(self.key, self.request, payload, checked, event)]


@dataclass(frozen=True)
class Preset:
    name: str
    trigger: str
    action: str
    matches: Callable[[Mapping[str, Any]], bool]
    mapping: Callable[[Mapping[str, Any]], Any]


@dataclass(eq=False)
class Destination:
    """A destination of the catalog; `actions` by key, `presets` in spec order."""

    slug: str
    name: str
    description: str
    source: str
    settings: tuple[Setting, ...]
    headers: Mapping[str, str]
    basic_auth: tuple[str, str] | None
    actions: dict[str, Action]
    presets: tuple[Preset, ...]
    accepts: tuple[str, ...] = ()
    limits: Mapping[str, Any] = field(default_factory=dict)
    test_request: RequestTemplate | None = None
    delete_request: RequestTemplate | None = None

    def __post_init__(self) -> None:
        for action in self.actions.values():
            action.destination = self

    def __repr__(self) -> str:
        return f"<Destination {self.slug!r}: {', '.join(self.actions)}>"

    def action(self, key: str) -> Action:
        try:
            return self.actions[key]
        except KeyError:
            known = ", ".join(self.actions)
            raise UnknownDestinationError(
                f"{self.name} has no action '{key}'; its actions: {known}", "action"
            ) from None

    def validate_settings(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        """Settings with defaults applied, or SettingsError naming the setting."""
        if not isinstance(settings, Mapping):
            raise SettingsError("settings must be a JSON object", "")
        by_key = {s.key: s for s in self.settings}
        for key in settings:
            if key not in by_key:
                close = difflib.get_close_matches(str(key), list(by_key), n=1)
                hint = f"; did you mean '{close[0]}'?" if close else f"; known: {', '.join(by_key)}"
                raise SettingsError(f"unknown setting '{key}' for {self.name}{hint}", str(key))
        result: dict[str, Any] = {}
        for setting in self.settings:
            value = settings.get(setting.key)
            if value is None or value == "":
                if setting.required:
                    # Segment's message (its settings schema is validated by AJV).
                    raise SettingsError(
                        f"The root value is missing the required field '{setting.key}'.",
                        setting.key,
                    )
                if setting.has_default:
                    result[setting.key] = setting.default
                continue
            result[setting.key] = setting.check(value)
        return result

    def secrets(self, settings: Mapping[str, Any]) -> frozenset[str]:
        return frozenset(
            str(settings[s.key]) for s in self.settings if s.secret and settings.get(s.key)
        )

    def masked_settings(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        """`settings` with the value of every password setting replaced by `***`."""
        secret = {s.key for s in self.settings if s.secret}
        return {
            k: (MASK if k in secret and v not in (None, "") else v) for k, v in settings.items()
        }

    def build_request(
        self,
        action: str,
        template: RequestTemplate,
        payload: Any,
        settings: dict[str, Any],
        event: Mapping[str, Any] | None = None,
        masked: bool = False,
        extra: Mapping[str, Any] | None = None,
    ) -> Request:
        def rebuild_masked() -> Request:
            return self.build_request(
                action, template, payload, self.masked_settings(settings), event, True, extra
            )

        context = {"payload": payload, "settings": settings, "event": event or {}, **(extra or {})}
        headers = {k: render_template(v, context) for k, v in self.headers.items()}
        if self.basic_auth is not None:
            user, password = (render_template(t, context) for t in self.basic_auth)
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        headers.update({k: render_template(v, context) for k, v in template.headers.items()})
        body = template.body(context) if template.body is not None else None
        if body is not None:
            headers.setdefault("Content-Type", "application/json")
        url = render_url(template.base_url, template.path, context)
        if masked:  # a masked secret substituted into the path reads "***", not "%2A%2A%2A"
            url = url.replace(quote(MASK, safe=""), MASK)
        return Request(
            method=template.method,
            url=url,
            headers=headers,
            json=body,
            action=action,
            rebuild_masked=None if masked else rebuild_masked,
        )

    def authentication_request(self, settings: Mapping[str, Any]) -> Request | None:
        """The request that proves the credentials work, if the spec has one."""
        if self.test_request is None:
            return None
        checked = self.validate_settings(settings)
        return self.build_request("testAuthentication", self.test_request, None, checked)

    def deletion_request(
        self,
        settings: Mapping[str, Any],
        user_id: str | None = None,
        anonymous_id: str | None = None,
    ) -> Request | None:
        """The request that deletes a user (GDPR), if the spec has one."""
        if self.delete_request is None:
            return None
        checked = self.validate_settings(settings)
        ids = {"userId": user_id, "anonymousId": anonymous_id}
        return self.build_request("onDelete", self.delete_request, None, checked, extra=ids)

    def route(self, event: Mapping[str, Any], settings: Mapping[str, Any]) -> list[Request]:
        """The requests of every preset whose trigger matches `event`, in preset order."""
        checked = self.validate_settings(settings)
        requests: list[Request] = []
        for preset in self.presets:
            if preset.matches(event):
                action = self.actions[preset.action]
                payload = action.payload(event, preset.mapping)
                requests.append(
                    self.build_request(action.key, action.request, payload, checked, event)
                )
        return requests
