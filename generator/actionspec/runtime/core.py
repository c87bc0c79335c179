"""Destinations, actions and the requests they build (the generated package's runtime)."""

from __future__ import annotations

import base64
import difflib
import functools
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from .hooks import ActionHooks
from .mapping import _TEMPLATE_SLOT, get_path, parse_path, render_template, template_text
from .payload import PayloadValidationError, process

__all__ = [
    "Action",
    "BoundDestination",
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

CompiledPayload = Callable[[Mapping[str, Any]], "dict[str, Any] | None"]


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


def load_settings_file(path: str) -> dict[str, Any]:
    """Settings from a JSON file, or SettingsError saying what is wrong with the file."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as exc:
        raise SettingsError(
            f"cannot read settings file {path}: {exc.strerror}", "settings"
        ) from None
    except ValueError as exc:
        raise SettingsError(f"settings file {path} is not valid JSON: {exc}", "settings") from None
    if not isinstance(data, dict):
        raise SettingsError(f"settings file {path} must hold a JSON object", "settings")
    return data


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
    # The body mapping as the spec writes it (`body` is its compiled form).
    body_mapping: Any = None


def settings_match(condition: Mapping[str, Any], settings: Mapping[str, Any]) -> bool:
    """Whether every setting named in `condition` has the value given there."""
    return all(settings.get(key) == value for key, value in condition.items())


@dataclass(frozen=True)
class Requirement:
    """Fields that must all (`any`: at least one) be in a payload, when the settings match.

    For rules a JSON Schema of the payload cannot say because they depend on the settings,
    e.g. CleverTap's identity policy.
    """

    fields: tuple[str, ...]
    any: bool = False
    when_settings: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""

    def check(self, payload: Mapping[str, Any], settings: Mapping[str, Any]) -> None:
        """PayloadValidationError naming the first missing field, when the check applies."""
        if settings_match(self.when_settings, settings):
            self.check_payload(payload)

    def check_payload(self, payload: Mapping[str, Any]) -> None:
        """PayloadValidationError naming the first missing field (settings already matched)."""
        if self.any:
            if any(key in payload for key in self.fields):
                return
        elif all(key in payload for key in self.fields):
            return
        why = f" {self.description}" if self.description else ""
        if self.any:
            names = " or ".join(f"'{key}'" for key in self.fields)
            message = f"The root value is missing the required field {names}.{why}"
            raise PayloadValidationError(message, f"/{self.fields[0]}")
        for key in self.fields:
            if key not in payload:
                message = f"The root value is missing the required field '{key}'.{why}"
                raise PayloadValidationError(message, f"/{key}")


@dataclass(frozen=True)
class BatchSpec:
    """How an action's requests are batched (see batching.py)."""

    size: int
    merge: str | None = None  # key of the list in each body whose items a batch concatenates
    results: str | None = None  # name of the reader of batch responses (batching.py)


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
    # The default mapping as the spec writes it (`default_mapping` is its compiled form), for
    # the reference interpreter and for mappings that override some fields at run time.
    mapping: Any = None
    # The default mapping and the payload pipeline fused (None: the payload is invalid).
    compiled_payload: CompiledPayload | None = None
    hooks: ActionHooks | None = None  # hand-written code the spec declares (hooks.py)
    destination: Destination | None = field(default=None, repr=False)
    requirements: tuple[Requirement, ...] = ()
    batch: BatchSpec | None = None

    def check_requirements(self, payload: Mapping[str, Any], settings: Mapping[str, Any]) -> None:
        """The settings-dependent checks of a validated payload (PayloadValidationError)."""
        for requirement in self.requirements:
            requirement.check(payload, settings)

    def payload(
        self,
        event: Mapping[str, Any],
        mapping: Callable[[Mapping[str, Any]], Any] | None = None,
        compiled: CompiledPayload | None = None,
    ) -> dict[str, Any]:
        """The validated payload for `event`, or PayloadValidationError naming the field.

        `mapping` replaces the default mapping; `compiled` is the same mapping fused with the
        payload pipeline (generated code), tried first.
        """
        if type(event) is not dict and not isinstance(event, Mapping):  # dict: the fast check
            raise PayloadValidationError("The event must be a JSON object.", "")
        if mapping is None:
            mapping, compiled = self.default_mapping, self.compiled_payload
        if compiled is not None and (result := compiled(event)) is not None:
            return result
        # The pipeline step by step: Segment's error messages (or the payload, if valid).
        return process(mapping(event), self.schema)

    def requests(
        self,
        event: Mapping[str, Any],
        settings: Mapping[str, Any],
        mapping: Callable[[Mapping[str, Any]], Any] | None = None,
    ) -> list[Request]:
        """The requests this action would send for `event`."""
        assert self.destination is not None, "actions belong to a destination"
        return self.destination.bind(settings).run(self, event, mapping)


@dataclass(frozen=True)
class Preset:
    name: str
    trigger: str
    action: str
    matches: Callable[[Mapping[str, Any]], bool]
    mapping: Callable[[Mapping[str, Any]], Any]
    payload: CompiledPayload | None = None
    # The preset runs only when these settings have these values (alternative preset sets).
    when_settings: Mapping[str, Any] = field(default_factory=dict)


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
        """The request `template` makes of `payload` under checked `settings`."""
        return _PreparedRequest(self, template, settings, masked).build(
            action, payload, event, extra
        )

    def no_action_note(self, event: Mapping[str, Any]) -> str:
        """Why routing `event` sent nothing (said by `preview` and the preview service)."""
        kind = event.get("type", "untyped")
        if kind in self.accepts or not self.accepts:
            return f"no preset of {self.name} matches this {kind} event, so no action runs"
        return f"{self.name} does not accept {kind} events; no action runs"

    def bind(self, settings: Mapping[str, Any]) -> BoundDestination:
        """This destination with `settings` checked once, for building many requests fast."""
        return BoundDestination(self, settings)

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
        return self.bind(settings).route(event)


def _settings_only(text: str) -> bool:
    """Whether a template reads nothing but settings (so it renders once per settings)."""
    return all(m.group(1).startswith("settings.") for m in _TEMPLATE_SLOT.finditer(text))


class _PreparedRequest:
    """A request template with everything that depends only on the settings rendered once."""

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
        context: dict[str, Any] = {"settings": settings}
        # (name, rendered value or None, template): destination headers, auth, action headers.
        parts: list[tuple[str, str | None, str]] = [
            (k, render_template(v, context) if _settings_only(v) else None, v)
            for k, v in destination.headers.items()
        ]
        if destination.basic_auth is not None:
            user, password = (render_template(t, context) for t in destination.basic_auth)
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            parts.append(("Authorization", f"Basic {token}", ""))
        parts.extend(
            (k, render_template(v, context) if _settings_only(v) else None, v)
            for k, v in template.headers.items()
        )
        self.header_parts = parts
        self.static_headers: dict[str, str] | None = None
        if all(value is not None for _, value, _ in parts):
            self.static_headers = {k: v for k, v, _ in parts if v is not None}
        self.url: str | None = None
        if _settings_only(template.base_url) and _settings_only(template.path):
            self.url = self._url(context)

    def _url(self, context: Mapping[str, Any]) -> str:
        url = render_url(self.template.base_url, self.template.path, context)
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
        if self.static_headers is not None:
            headers = self.static_headers.copy()  # a copy: callers may change their request
        else:
            headers = {}
            for name, rendered, text in self.header_parts:
                if rendered is None:
                    rendered = render_template(text, context)
                    if rendered == "":  # an event-dependent header with no value is not sent
                        continue  # (e.g. Loops' Idempotency-Key for an event without messageId)
                headers[name] = rendered
        body = self.template.body(context) if self.template.body is not None else None
        if body is not None and "Content-Type" not in headers:
            headers["Content-Type"] = "application/json"
        url = self.url if self.url is not None else self._url(context)
        built_from = None if self.masked else (self, payload, event, extra)
        return Request(self.template.method, url, headers, body, action, built_from)

    def build_masked(
        self,
        action: str,
        payload: Any,
        event: Mapping[str, Any] | None,
        extra: Mapping[str, Any] | None,
    ) -> Request:
        settings = self.destination.masked_settings(self.settings)
        masked = _PreparedRequest(self.destination, self.template, settings, masked=True)
        return masked.build(action, payload, event, extra)


class BoundDestination:
    """A destination with checked settings; requests reuse what depends only on the settings."""

    def __init__(self, destination: Destination, settings: Mapping[str, Any]) -> None:
        self.destination = destination
        self.settings = destination.validate_settings(settings)
        self._prepared: dict[int, _PreparedRequest] = {}
        self._requirements: dict[int, tuple[Requirement, ...]] = {}

    def __repr__(self) -> str:  # never the settings: they hold secrets
        return f"<BoundDestination {self.destination.slug!r}>"

    def _prepare(self, template: RequestTemplate) -> _PreparedRequest:
        prepared = _PreparedRequest(self.destination, template, self.settings)
        self._prepared[id(template)] = prepared
        return prepared

    def requirements(self, action: Action) -> tuple[Requirement, ...]:
        """The requirements of `action` that apply under these settings (found once)."""
        found = self._requirements.get(id(action))
        if found is None:
            found = tuple(
                r for r in action.requirements if settings_match(r.when_settings, self.settings)
            )
            self._requirements[id(action)] = found
        return found

    def request(self, action: Action, payload: Any, event: Mapping[str, Any]) -> Request:
        """The request `action` sends for an already validated `payload`."""
        for requirement in self.requirements(action):
            requirement.check_payload(payload)
        prepared = self._prepared.get(id(action.request)) or self._prepare(action.request)
        return prepared.build(action.key, payload, event)

    def run(
        self,
        action: Action,
        event: Mapping[str, Any],
        mapping: Callable[[Mapping[str, Any]], Any] | None = None,
        compiled: CompiledPayload | None = None,
    ) -> list[Request]:
        """The requests `action` sends for `event`: mapping, payload, hooks, request."""
        if action.hooks is None:
            return [self.request(action, action.payload(event, mapping, compiled), event)]
        hooks = action.hooks
        settings = hooks.settings(self.settings)
        event = hooks.run_before_mapping(event, settings)
        payload = hooks.run_after_payload(action.payload(event, mapping, compiled), settings)
        if hooks.build_request is None:
            return [self.request(action, payload, event)]
        action.check_requirements(payload, self.settings)
        built = hooks.run_build_request(payload, settings)
        # Masked: the hook runs again on masked settings, so a secret it encodes (URL-quoted,
        # in Basic auth, ...) is masked as well; its own text is masked besides, in case the
        # hook read it from elsewhere.
        masked = self.destination.masked_settings(self.settings)
        secrets = self.destination.secrets(self.settings)

        def masked_request(index: int) -> Request:
            again = hooks.run_build_request(payload, hooks.settings(masked))
            r = again[index] if index < len(again) else built[index]
            return Request(
                r.method,
                mask_secrets(r.url, secrets),
                mask_secrets(dict(r.headers), secrets),
                mask_secrets(r.json, secrets),
                action.key,
            )

        return [
            Request(
                r.method,
                r.url,
                dict(r.headers),
                r.json,
                action.key,
                functools.partial(masked_request, i),
            )
            for i, r in enumerate(built)
        ]

    def requests(self, action_key: str, event: Mapping[str, Any]) -> list[Request]:
        """The requests the action `action_key` would send for `event`."""
        return self.run(self.destination.action(action_key), event)

    def route(self, event: Mapping[str, Any]) -> list[Request]:
        """The requests of every preset whose trigger matches `event`, in preset order."""
        requests: list[Request] = []
        for preset in self.destination.presets:
            if preset.matches(event) and settings_match(preset.when_settings, self.settings):
                action = self.destination.actions[preset.action]
                requests.extend(self.run(action, event, preset.mapping, preset.payload))
        return requests
