"""The intermediate representation: a validated spec as typed objects, names made safe once.

Every target reads only this. Mappings stay as mapping-language data (JSON-like values);
triggers stay as their text (the triggers module parses and compiles them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from actionspec.naming import UniqueNames, pascal, snake


@dataclass(frozen=True)
class Choice:
    label: str
    value: str | int | float | bool


def _choices(raw: list[Any] | None) -> tuple[Choice, ...]:
    return tuple(
        Choice(str(c["label"]), c["value"]) if isinstance(c, dict) else Choice(str(c), c)
        for c in raw or ()
    )


@dataclass(frozen=True)
class Setting:
    key: str
    label: str
    description: str
    type: str
    required: bool
    default: Any
    has_default: bool
    choices: tuple[Choice, ...]
    format: str | None

    @property
    def secret(self) -> bool:
        return self.type == "password"


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    description: str
    type: str
    required: bool
    default: Any  # a mapping, or None when `has_default` is False
    has_default: bool
    format: str | None = None
    multiple: bool = False
    choices: tuple[Choice, ...] = ()
    allow_null: bool = False
    properties: tuple[Field, ...] = ()
    additional_properties: bool | None = None  # None: not said in the spec
    minimum: float | None = None
    maximum: float | None = None
    placeholder: str | None = None
    no_default_because: str | None = None


@dataclass(frozen=True)
class Request:
    method: str
    url: str  # a template; `path` requests are joined to base_url here
    url_is_absolute: bool
    path: str | None
    headers: dict[str, str]
    body: Any
    has_body: bool


# `$.d[*].evtData`: `.key` and `[n]` steps, `[*]` (None here) for every item of a list.
InvariantPath = tuple[str | int | None, ...]
_INVARIANT_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+|\*)\]")


class InvariantPathError(ValueError):
    """An invariant path that does not parse; `offset` is the 0-based character of the problem."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def parse_invariant_path(text: str) -> InvariantPath:
    """`$.d[*].evtData` -> ("d", None, "evtData"); InvariantPathError when it does not parse."""
    if not text.startswith("$"):
        raise InvariantPathError("an invariant path starts with `$`", 0)
    steps: list[str | int | None] = []
    position = 1
    while position < len(text):
        match = _INVARIANT_STEP.match(text, position)
        if match is None:
            raise InvariantPathError(
                f"unexpected {text[position]!r}: steps are `.key`, `[n]` or `[*]`", position
            )
        name, index = match.groups()
        steps.append(name if name is not None else None if index == "*" else int(index))
        position = match.end()
    return tuple(steps)


@dataclass(frozen=True)
class Invariant:
    """A promise about every successful payload (`where="payload"`) or request JSON body."""

    description: str
    where: str  # "payload" or "body"
    path: str
    steps: InvariantPath
    keys: str | None = None  # "snake_case" or "lower_case"
    flat: bool = False
    max_items: int | None = None


@dataclass(frozen=True)
class Requirement:
    """Fields that must all (or with `any`, one of them) be in the payload, when settings match."""

    fields: tuple[str, ...]
    any: bool = False
    when_settings: dict[str, Any] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class Action:
    key: str
    name: str  # snake_case Python name, unique in the destination
    model_name: str  # PascalCase payload model name, unique in the destination
    title: str
    description: str
    trigger: str | None
    fields: tuple[Field, ...]
    request: Request
    batch_size: int | None
    batch_body: Any
    invariants: tuple[Invariant, ...] = ()
    requirements: tuple[Requirement, ...] = ()
    batch_merge: str | None = None  # key of the list whose items batched requests concatenate
    batch_results: str | None = None  # name of the batch response reader (runtime/batching.py)
    hooks: dict[str, str] = field(default_factory=dict)  # hook point -> description (hooks.py)

    def default_mapping(self) -> dict[str, Any]:
        return {f.key: f.default for f in self.fields if f.has_default}


@dataclass(frozen=True)
class Preset:
    name: str
    trigger: str
    action: str
    mapping: dict[str, Any]  # the full mapping: the action's defaults, then the preset's own
    when_settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Example:
    name: str
    action: str | None
    event: dict[str, Any]
    settings: dict[str, Any]
    requests: list[dict[str, Any]] | None
    error: dict[str, Any] | None


@dataclass(frozen=True)
class Limits:
    max_mappings: int = 50
    batch_size: int | None = None
    rate_requests: int | None = None
    rate_per_seconds: float | None = None
    concurrency: int | None = None
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class Destination:
    source: str  # the spec file, relative to the project root: named in every generated file
    slug: str
    module: str  # Python module name inside the package
    name: str
    description: str
    mode: str
    accepts: tuple[str, ...]
    segment_slug: str | None
    integration_name: str | None
    owner: dict[str, Any]
    settings: tuple[Setting, ...]
    base_url: str | None
    headers: dict[str, str]  # authentication headers, then the destination's own
    auth_scheme: str
    basic_auth: tuple[str, str] | None  # user name and password templates of `basic`
    auth_test: Request | None
    limits: Limits
    presets: tuple[Preset, ...]
    actions: tuple[Action, ...]
    on_delete: Request | None
    notes: tuple[tuple[str, str], ...]
    examples: tuple[Example, ...]
    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    def action(self, key: str) -> Action:
        return next(a for a in self.actions if a.key == key)

    @property
    def secret_settings(self) -> tuple[str, ...]:
        return tuple(s.key for s in self.settings if s.secret)


def _field(key: str, raw: dict[str, Any]) -> Field:
    return Field(
        key=key,
        label=raw["label"],
        description=raw.get("description", ""),
        type=raw["type"],
        required=raw.get("required", False) is True,
        default=raw.get("default"),
        has_default="default" in raw,
        format=raw.get("format"),
        multiple=raw.get("multiple", False),
        choices=_choices(raw.get("choices")),
        allow_null=raw.get("allowNull", False),
        properties=tuple(_field(k, v) for k, v in raw.get("properties", {}).items()),
        additional_properties=raw.get("additionalProperties"),
        minimum=raw.get("minimum"),
        maximum=raw.get("maximum"),
        placeholder=raw.get("placeholder"),
        no_default_because=raw.get("no_default_because"),
    )


def _invariant(raw: dict[str, Any]) -> Invariant:
    return Invariant(
        description=raw["description"],
        where=raw["in"],
        path=raw["path"],
        steps=parse_invariant_path(raw["path"]),
        keys=raw.get("keys"),
        flat=raw.get("flat", False),
        max_items=raw.get("max_items"),
    )


def _request(raw: dict[str, Any], base_url: str | None, extra_headers: dict[str, str]) -> Request:
    absolute = "url" in raw
    url = raw["url"] if absolute else (base_url or "").rstrip("/") + raw["path"]
    return Request(
        method=raw["method"],
        url=url,
        url_is_absolute=absolute,
        path=raw.get("path"),
        headers={**extra_headers, **raw.get("headers", {})},
        body=raw.get("body"),
        has_body="body" in raw,
    )


def build(spec: dict[str, Any], source: str) -> Destination:
    """The IR of one validated spec."""
    auth = spec.get("authentication", {"scheme": "none"})
    headers: dict[str, str] = dict(auth.get("headers", {}))
    headers.update(spec.get("headers", {}))
    base_url = spec.get("base_url")

    action_names = UniqueNames()
    model_names = UniqueNames({"Settings"})
    actions = []
    for key, raw in spec["actions"].items():
        actions.append(
            Action(
                key=key,
                name=action_names.claim(snake(key)),
                model_name=model_names.claim(pascal(key) + "Payload"),
                title=raw["title"],
                description=raw["description"],
                trigger=raw.get("trigger"),
                fields=tuple(_field(k, v) for k, v in raw["fields"].items()),
                request=_request(raw["request"], base_url, {}),
                batch_size=raw.get("batch", {}).get("size"),
                batch_body=raw.get("batch", {}).get("body"),
                invariants=tuple(_invariant(i) for i in raw.get("invariants", [])),
                requirements=tuple(
                    Requirement(
                        fields=tuple(r["fields"]),
                        any=r.get("any", False),
                        when_settings=dict(r.get("when_settings", {})),
                        description=r.get("description", ""),
                    )
                    for r in raw.get("requirements", [])
                ),
                batch_merge=raw.get("batch", {}).get("merge"),
                batch_results=raw.get("batch", {}).get("results"),
                hooks={k: v["description"] for k, v in raw.get("hooks", {}).items()},
            )
        )
    by_key = {a.key: a for a in actions}
    presets = tuple(
        Preset(
            name=p["name"],
            trigger=p["trigger"],
            action=p["action"],
            mapping={**by_key[p["action"]].default_mapping(), **p.get("mapping", {})},
            when_settings=dict(p.get("when_settings", {})),
        )
        for p in spec.get("presets", [])
    )
    limits_raw = spec.get("limits", {})
    rate = limits_raw.get("rate", {})
    limits = Limits(
        max_mappings=limits_raw.get("max_mappings", 50),
        batch_size=limits_raw.get("batch_size"),
        rate_requests=rate.get("requests"),
        rate_per_seconds=rate.get("per_seconds"),
        concurrency=limits_raw.get("concurrency"),
        timeout_seconds=limits_raw.get("timeout_seconds", 10.0),
    )
    return Destination(
        source=source,
        slug=spec["slug"],
        module=snake(spec["slug"]),
        name=spec["name"],
        description=spec["description"].strip(),
        mode=spec.get("mode", "cloud"),
        accepts=tuple(spec.get("accepts", [])),
        segment_slug=spec.get("segment_slug"),
        integration_name=spec.get("integration_name"),
        owner=spec.get("owner", {}),
        settings=tuple(
            Setting(
                key=k,
                label=v["label"],
                description=v.get("description", ""),
                type=v["type"],
                required=v.get("required", False),
                default=v.get("default"),
                has_default="default" in v,
                choices=_choices(v.get("choices")),
                format=v.get("format"),
            )
            for k, v in spec["settings"].items()
        ),
        base_url=base_url,
        headers=headers,
        auth_scheme=auth.get("scheme", "none"),
        basic_auth=(auth["username"], auth["password"]) if auth.get("scheme") == "basic" else None,
        auth_test=_request(auth["test"], base_url, {}) if "test" in auth else None,
        limits=limits,
        presets=presets,
        actions=tuple(actions),
        on_delete=_request(spec["on_delete"], base_url, {}) if "on_delete" in spec else None,
        notes=tuple((n["title"], n["body"]) for n in spec.get("notes", [])),
        examples=tuple(
            Example(
                name=e["name"],
                action=e.get("action"),
                event=e["event"],
                settings=e["settings"],
                requests=e.get("requests"),
                error=e.get("error"),
            )
            for e in spec.get("examples", [])
        ),
        raw=spec,
    )
