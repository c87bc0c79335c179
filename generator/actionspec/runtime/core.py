"""Destinations, actions and the requests they build (the generated package's runtime)."""

from __future__ import annotations

import difflib
import functools
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .event_json import EventDecoder, event_decoder
from .hooks import ActionHooks, HookRequest
from .payload import PayloadValidationError, process
from .request_builder import MASK, PreparedRequest, Request, RequestTemplate

__all__ = [
    "MASK",
    "Action",
    "BoundDestination",
    "Destination",
    "DestinationError",
    "PayloadValidationError",
    "Preset",
    "Request",
    "RequestTemplate",
    "Setting",
    "SettingsError",
    "UnknownDestinationError",
]

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
    # `fields` as a set: a payload that passes is checked with one set operation.
    field_set: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "field_set", frozenset(self.fields))

    def check(self, payload: Mapping[str, Any], settings: Mapping[str, Any]) -> None:
        """PayloadValidationError naming the first missing field, when the check applies."""
        if settings_match(self.when_settings, settings):
            self.check_payload(payload)

    def check_payload(self, payload: Mapping[str, Any]) -> None:
        """PayloadValidationError naming the first missing field (settings already matched)."""
        why = f" {self.description}" if self.description else ""
        if self.any:
            if payload.keys().isdisjoint(self.field_set):
                names = " or ".join(f"'{key}'" for key in self.fields)
                message = f"The root value is missing the required field {names}.{why}"
                raise PayloadValidationError(message, f"/{self.fields[0]}")
            return
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
    # What of an event the action reads (key -> what below it; None: the whole value), so
    # `run_json` decodes only that (event_json.py). None: the whole event.
    event_shape: dict[str, Any] | None = None
    hooks: ActionHooks | None = None  # hand-written code the spec declares (hooks.py)
    destination: Destination | None = field(default=None, repr=False)
    requirements: tuple[Requirement, ...] = ()
    batch: BatchSpec | None = None
    _decoder: EventDecoder | None = field(init=False, repr=False)

    def __post_init__(self) -> None:  # (mypyc leaves an init=False default unset)
        self._decoder = None

    def json_decoder(self) -> EventDecoder:
        """The decoder of this action's events (event_json.py), made once, on first use;
        hooks see the whole event (the generator gives hooked actions no shape besides)."""
        if self._decoder is None:
            self._decoder = event_decoder(None if self.hooks else self.event_shape)
        return self._decoder

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
            raise _not_an_object()
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
    # What of an event routing reads (see Action.event_shape), for `route_json`.
    route_event_shape: dict[str, Any] | None = None
    _route_decoder: EventDecoder | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._route_decoder = None
        for action in self.actions.values():
            action.destination = self

    def __repr__(self) -> str:
        return f"<Destination {self.slug!r}: {', '.join(self.actions)}>"

    def route_json_decoder(self) -> EventDecoder:
        """The decoder of events to route (event_json.py), made once, on first use."""
        if self._route_decoder is None:
            self._route_decoder = event_decoder(self.route_event_shape)
        return self._route_decoder

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
        return PreparedRequest(self, template, settings, masked).build(
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


class _ActionRunner:
    """One action under a bound destination's settings, with what does not depend on the event
    found once: the requirements that apply under these settings and the prepared request."""

    __slots__ = (
        "action",
        "all_of",
        "any_of",
        "compiled",
        "decode",
        "key",
        "prepared",
        "requirements",
    )

    def __init__(self, bound: BoundDestination, action: Action) -> None:
        self.action = action
        self.key = action.key
        self.compiled = action.compiled_payload
        self.requirements = tuple(
            r for r in action.requirements if settings_match(r.when_settings, bound.settings)
        )
        # What those requirements ask, as sets: the fields all of them need, and one set per
        # `any` requirement (one field of it is enough), so a payload that passes (nearly all
        # do) is checked with a few set operations, not a call per requirement.
        self.all_of = frozenset().union(*(r.field_set for r in self.requirements if not r.any))
        self.any_of = tuple(r.field_set for r in self.requirements if r.any)
        self.prepared = bound.prepared(action.request)
        self.decode: EventDecoder | None = None  # the action's, on the first run_json

    def check(self, payload: Mapping[str, Any]) -> None:
        """PayloadValidationError of the first requirement `payload` misses, if any."""
        keys = payload.keys()
        missing = not keys >= self.all_of
        for fields in self.any_of:
            missing = missing or keys.isdisjoint(fields)
        if missing:  # the requirements in order, for the first one's message
            for requirement in self.requirements:
                requirement.check_payload(payload)

    def request(self, payload: Any, event: Mapping[str, Any]) -> Request:
        if self.requirements:
            self.check(payload)
        return self.prepared.build(self.key, payload, event)

    def run(
        self,
        event: Mapping[str, Any],
        mapping: Callable[[Mapping[str, Any]], Any] | None,
        compiled: CompiledPayload | None,
    ) -> list[Request]:
        """The requests of an action without hooks (`request` and `Action.payload` inlined)."""
        if mapping is None and type(event) is dict and self.compiled is not None:
            payload = self.compiled(event)
            if payload is None:  # invalid: the pipeline step by step says why
                payload = process(self.action.default_mapping(event), self.action.schema)
        else:
            payload = self.action.payload(event, mapping, compiled)
        if self.requirements:
            self.check(payload)
        return [self.prepared.build(self.key, payload, event)]


class BoundDestination:
    """A destination with checked settings; requests reuse what depends only on the settings."""

    def __init__(self, destination: Destination, settings: Mapping[str, Any]) -> None:
        self.destination = destination
        self.settings = destination.validate_settings(settings)
        self._prepared: dict[int, PreparedRequest] = {}  # by id(): templates are unhashable
        self._runners: dict[Action, _ActionRunner] = {}
        # The presets that run under these settings (alternative preset sets), with their
        # actions: `route` tests no trigger of a preset that cannot run.
        self._presets = tuple(
            (preset, destination.actions[preset.action])
            for preset in destination.presets
            if settings_match(preset.when_settings, self.settings)
        )

    def __repr__(self) -> str:  # never the settings: they hold secrets
        return f"<BoundDestination {self.destination.slug!r}>"

    def prepared(self, template: RequestTemplate) -> PreparedRequest:
        """`template` prepared under these settings (once; actions may share a template)."""
        prepared = self._prepared.get(id(template))
        if prepared is None:  # the prepared request keeps `template` alive: its id stays its own
            prepared = self._prepared[id(template)] = PreparedRequest(
                self.destination, template, self.settings
            )
        return prepared

    def _runner(self, action: Action) -> _ActionRunner:
        runner = self._runners.get(action)
        if runner is None:
            runner = self._runners[action] = _ActionRunner(self, action)
        return runner

    def request(self, action: Action, payload: Any, event: Mapping[str, Any]) -> Request:
        """The request `action` sends for an already validated `payload`."""
        return self._runner(action).request(payload, event)

    def run(
        self,
        action: Action,
        event: Mapping[str, Any],
        mapping: Callable[[Mapping[str, Any]], Any] | None = None,
        compiled: CompiledPayload | None = None,
    ) -> list[Request]:
        """The requests `action` sends for `event`: mapping, payload, hooks, request."""
        runner = self._runners.get(action) or self._runner(action)
        if action.hooks is None:
            return runner.run(event, mapping, compiled)
        return self._run_with_hooks(runner, action.hooks, event, mapping, compiled)

    def run_json(self, action: Action, data: bytes | str) -> list[Request]:
        """`run(action, json.loads(data))`, with the event decoded only as far as the action
        reads it (event_json.py); PayloadValidationError when `data` is not JSON."""
        runner = self._runners.get(action) or self._runner(action)
        decode = runner.decode
        if decode is None:  # (held by the runner: a call saved per event)
            decode = runner.decode = action.json_decoder()
        event = _decoded(decode, data)
        if action.hooks is None:
            return runner.run(event, None, None)
        return self._run_with_hooks(runner, action.hooks, event, None, None)

    # A method of its own: its closure's variables would cost every call of `run` (cells).
    def _run_with_hooks(
        self,
        runner: _ActionRunner,
        hooks: ActionHooks,
        event: Mapping[str, Any],
        mapping: Callable[[Mapping[str, Any]], Any] | None,
        compiled: CompiledPayload | None,
    ) -> list[Request]:
        action = runner.action
        if type(event) is not dict and not isinstance(event, Mapping):  # before any hook
            raise _not_an_object()
        settings = hooks.settings(self.settings)
        event = hooks.run_before_mapping(event, settings)
        payload = hooks.run_after_payload(action.payload(event, mapping, compiled), settings)
        if hooks.build_request is None:
            return [runner.request(payload, event)]
        runner.check(payload)
        built = hooks.run_build_request(payload, settings)

        # Masked: the hook runs again on masked settings, so a secret it encodes (URL-quoted,
        # in Basic auth, ...) is masked as well; its own text is masked besides, in case the
        # hook read it from elsewhere. (Only when a masked form is asked for, and once for all
        # the requests it built.)
        @functools.cache
        def masked_build() -> tuple[list[HookRequest], frozenset[str]]:
            masked = self.destination.masked_settings(self.settings)
            again = hooks.run_build_request(payload, hooks.settings(masked))
            return again, self.destination.secrets(self.settings)

        def masked_request(index: int) -> Request:
            again, secrets = masked_build()
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

    def route_json(self, data: bytes | str) -> list[Request]:
        """`route(json.loads(data))`, with the event decoded only as far as the presets read it
        (event_json.py); PayloadValidationError when `data` is not JSON."""
        return self.route(_decoded(self.destination.route_json_decoder(), data))

    def route(self, event: Mapping[str, Any]) -> list[Request]:
        """The requests of every preset whose trigger matches `event`, in preset order."""
        if type(event) is not dict and not isinstance(event, Mapping):  # triggers read keys
            raise _not_an_object()
        requests: list[Request] = []
        for preset, action in self._presets:
            if preset.matches(event):
                requests.extend(self.run(action, event, preset.mapping, preset.payload))
        return requests


def _not_an_object() -> PayloadValidationError:
    return PayloadValidationError("The event must be a JSON object.", "")


def _decoded(decode: EventDecoder, data: bytes | str) -> Any:
    """The event `decode` reads from `data`; PayloadValidationError when it is not JSON."""
    try:
        return decode(data)
    except (ValueError, RecursionError) as exc:  # json.loads's errors
        raise PayloadValidationError(f"The event is not JSON: {exc}", "") from None
