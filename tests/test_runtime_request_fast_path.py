"""The request fast path builds what the step-by-step path builds.

`BoundDestination.run` keeps a runner per action (the requirements that apply under the bound
settings, checked with set operations; the payload function called directly) and its request
template prepared once (headers and URLs that read only settings rendered once, the others
turned into functions). Here every request it builds is compared with a reference built step by
step: `Action.payload`, `Action.check_requirements`, then the URL, headers and body rendered
with the unspecialised `render_template` / `render_url` under the documented rules:

- headers in order: the destination's, Basic auth, the action's; a header whose template reads
  the payload or the event and renders "" is not sent; a later header of the same name replaces
  the value of an earlier one;
- a request with a body gets `Content-Type: application/json` unless a header set it;
- values substituted into the URL path are percent-encoded;
- masked: the same with every password setting "***" (which reads "***" in the URL too).

Errors (PayloadValidationError of the payload or of a requirement) must be the same too.
"""

from __future__ import annotations

import base64
import importlib
import re
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ordered

REPO = Path(__file__).resolve().parents[1]
SLOT = re.compile(r"{{\s*([^{}]*?)\s*}}")
SETTINGS_FOR_TESTS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


# --- the reference: one request rendered step by step ------------------------------------------


def reads_only_settings(template: str) -> bool:
    return all(m.group(1).startswith("settings.") for m in SLOT.finditer(template))


def reference_request(
    runtime: Any,
    destination: Any,
    action: Any,
    payload: Any,
    settings: Mapping[str, Any],
    event: Mapping[str, Any],
    masked: bool = False,
) -> tuple[Any, ...]:
    """(method, url, headers as a list, body, action key) of the request, rendered slowly."""
    render_template = runtime.mapping.render_template
    if masked:
        settings = destination.masked_settings(settings)
    template = action.request
    context = {"payload": payload, "settings": settings, "event": event}
    headers: dict[str, str] = {}

    def header(name: str, text: str) -> None:
        value = render_template(text, context)
        if value == "" and not reads_only_settings(text):
            return
        headers[name] = value

    for name, text in destination.headers.items():
        header(name, text)
    if destination.basic_auth is not None:
        user, password = (render_template(t, context) for t in destination.basic_auth)
        headers["Authorization"] = (
            "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        )
    for name, text in template.headers.items():
        header(name, text)
    body = template.body(context) if template.body is not None else None
    if body is not None and "Content-Type" not in headers:
        headers["Content-Type"] = "application/json"
    url = runtime.request_builder.render_url(template.base_url, template.path, context)
    if masked:
        url = url.replace("%2A%2A%2A", "***")
    return (template.method, url, list(headers.items()), ordered(body), action.key)


def shown(request: Any) -> tuple[Any, ...]:
    return (
        request.method,
        request.url,
        list(request.headers.items()),
        ordered(request.json),
        request.action,
    )


def outcome(build: Any, *args: Any) -> tuple[Any, ...]:
    """What `build(*args)` gives: ("requests", revealed, masked) or ("error", message, field)."""
    try:
        requests = build(*args)
    except Exception as exc:  # the fast path must fail exactly as the reference does
        if type(exc).__name__ != "PayloadValidationError":
            raise
        return ("error", str(exc), getattr(exc, "field", None))
    if requests and isinstance(requests[0], tuple):  # the reference: (revealed, masked) pairs
        return ("requests", [r for r, _ in requests], [m for _, m in requests])
    return ("requests", [shown(r) for r in requests], [shown(r.masked()) for r in requests])


def step_by_step(
    runtime: Any,
    bound: Any,
    action: Any,
    event: Any,
    mapping: Any = None,
    compiled: Any = None,
) -> list[tuple[tuple[Any, ...], tuple[Any, ...]]]:
    destination = bound.destination
    if mapping is None:  # the default mapping, without the fused payload function
        payload = action.payload(event, action.default_mapping, None)
    else:
        payload = action.payload(event, mapping, compiled)
    action.check_requirements(payload, bound.settings)
    return [
        (
            reference_request(runtime, destination, action, payload, bound.settings, event),
            reference_request(runtime, destination, action, payload, bound.settings, event, True),
        )
    ]


def step_by_step_route(runtime: Any, bound: Any, event: Any) -> list[Any]:
    destination = bound.destination
    built: list[Any] = []
    for preset in destination.presets:
        if preset.matches(event) and runtime.core.settings_match(
            preset.when_settings, bound.settings
        ):
            action = destination.actions[preset.action]
            built.extend(
                step_by_step(runtime, bound, action, event, preset.mapping, preset.payload)
            )
    return built


@pytest.fixture(scope="module")
def runtime(package: Any) -> Any:
    """The committed package's runtime modules (core, mapping, request_builder)."""
    return SimpleNamespace(
        **{
            name: importlib.import_module(f"{package.__name__}._runtime.{name}")
            for name in ("core", "mapping", "request_builder")
        }
    )


# --- the catalog: random events and settings ---------------------------------------------------

CREDENTIALS = {
    # A secret with characters the URL path percent-encodes (Clay's connection key is in it).
    "clay": {"connection_key": st.sampled_from(["ck_1", "ck/2 ?#"]), "secret_key": st.just("sk")},
    "loops": {"apiKey": st.just("loops_key")},
    "clevertap": {"clevertapAccountId": st.just("ACC-1"), "clevertapPasscode": st.just("pass")},
}

maybe_text = st.one_of(
    st.none(), st.sampled_from(["", "u-1", "a/b c", "ünï"]), st.integers(-3, 3), st.booleans()
)


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    """Segment-shaped events, often valid, sometimes missing or mistyped fields."""
    event: dict[str, Any] = {
        "type": draw(st.sampled_from(["track", "identify", "page", "screen", "alias", "group"]))
    }
    for key in ("userId", "anonymousId", "messageId", "previousId"):
        if draw(st.booleans()):
            event[key] = draw(maybe_text)
    if draw(st.booleans()):
        event["timestamp"] = draw(st.sampled_from(["2024-03-05T10:20:30.123Z", "yesterday", 5]))
    event["event"] = draw(
        st.sampled_from(["Signed Up", "Order Completed", "Delete User", "", None, 7])
    )
    values = st.one_of(maybe_text, st.lists(maybe_text, max_size=2))
    properties = draw(
        st.dictionaries(
            st.sampled_from(["plan", "revenue", "currency", "order_id", "email", "name", "x"]),
            values,
            max_size=4,
        )
    )
    if draw(st.booleans()):
        properties["products"] = [{"product_id": "p1", "price": 9.5, "quantity": 2}]
    event["properties"] = properties
    event["traits"] = draw(
        st.dictionaries(
            st.sampled_from(["email", "firstName", "name", "phone", "birthday", "mailingLists"]),
            values,
            max_size=4,
        )
    )
    if draw(st.booleans()):
        event["context"] = {
            "ip": draw(maybe_text),
            "userAgent": draw(maybe_text),
            "device": {"token": draw(maybe_text)},
            "page": {"url": "https://example.com/a?b=c", "title": "T"},
        }
    return event


@st.composite
def catalog_settings(draw: st.DrawFn, destination: Any) -> dict[str, Any]:
    """Credentials, and each select setting absent or one of its choices."""
    chosen = {key: draw(value) for key, value in CREDENTIALS[destination.slug].items()}
    for setting in destination.settings:
        if setting.type == "select" and draw(st.booleans()):
            chosen[setting.key] = draw(st.sampled_from(setting.choices))
    return chosen


@pytest.mark.parametrize("slug", sorted(CREDENTIALS))
@SETTINGS_FOR_TESTS
@given(data=st.data())
def test_run_and_route_agree_with_the_step_by_step_path(
    package: Any, runtime: Any, slug: str, data: st.DataObject
) -> None:
    destination = package.get(slug)
    bound = destination.bind(data.draw(catalog_settings(destination), "settings"))
    event = data.draw(events(), "event")
    for action in destination.actions.values():
        fast = outcome(bound.run, action, event)
        assert fast == outcome(step_by_step, runtime, bound, action, event), action.key
        # Built from an already validated payload, through `BoundDestination.request`.
        if fast[0] == "requests":
            payload = action.payload(event)
            again = outcome(lambda *a: [bound.request(*a)], action, payload, event)
            assert again == fast, action.key
    routed = outcome(bound.route, event)
    assert routed == outcome(step_by_step_route, runtime, bound, event)


def worked_examples() -> list[Any]:
    found = []
    for path in sorted(REPO.joinpath("specs").glob("*.y*ml")):
        spec = yaml.safe_load(path.read_text("utf-8"))
        for number, example in enumerate(spec.get("examples") or [], start=1):
            found.append(pytest.param(spec["slug"], example, id=f"{path.stem}:{number}"))
    return found


@pytest.mark.parametrize(("slug", "example"), worked_examples())
def test_worked_examples_agree_with_the_step_by_step_path(
    package: Any, runtime: Any, slug: str, example: dict[str, Any]
) -> None:
    destination = package.get(slug)
    if (example.get("error") or {}).get("type") == "SettingsError":
        pytest.skip("an example of rejected settings has no request to compare")
    bound = destination.bind(example["settings"])
    event = example["event"]
    for action in destination.actions.values():
        fast = outcome(bound.run, action, event)
        assert fast == outcome(step_by_step, runtime, bound, action, event), action.key
    routed = outcome(bound.route, event)
    assert routed == outcome(step_by_step_route, runtime, bound, event)


def test_the_checks_that_depend_on_the_settings_switch_with_them(package: Any) -> None:
    """CleverTap's `both` identity policy needs both IDs; `either` one of them."""
    clevertap = package.get("clevertap")
    track = clevertap.actions["trackEvent"]
    event = {"type": "track", "event": "Signed Up", "userId": "u-1"}  # no anonymous ID
    credentials = {"clevertapAccountId": "ACC-1", "clevertapPasscode": "pass"}
    either = clevertap.bind({**credentials, "identityPolicy": "either"})
    assert len(either.run(track, event)) == 1
    with pytest.raises(Exception, match="missing the required field 'objectId'") as raised:
        clevertap.bind({**credentials, "identityPolicy": "both"}).run(track, event)
    assert getattr(raised.value, "field", None) == "/objectId"
    with pytest.raises(Exception, match="'identity' or 'objectId'") as raised:
        either.run(track, {"type": "track", "event": "Signed Up"})
    assert getattr(raised.value, "field", None) == "/identity"


# --- request templates the catalog does not have: drawn header tables and URL paths ------------

HEADER_NAMES = ["X-A", "X-B", "Content-Type", "Authorization"]
HEADER_TEMPLATES = [
    "static",
    "",
    "{{settings.secret}}",
    "Bearer {{settings.secret}}",
    "{{payload.key}}",
    "k={{payload.key}}",
    "{{ payload.key }}",
    "{{event.messageId}}",
    "{{payload.missing}}",
    "{{payload.list}}",
    "{{payload.nested.deep}}",
]
PATHS = [
    "/static",
    "/s/{{settings.secret}}/x",
    "/p/{{payload.key}}",
    "/p/{{payload.key}}/{{event.messageId}}?q={{payload.missing}}",
    "/{{payload.list}}",
]
payload_values = st.one_of(
    st.none(),
    st.sampled_from(["", "v", "a/b c", "***", "ü"]),
    st.integers(),
    st.floats(allow_nan=False),
)


@st.composite
def custom_destinations(draw: st.DrawFn, runtime: Any) -> tuple[Any, Any]:
    core = runtime.core
    headers = st.dictionaries(st.sampled_from(HEADER_NAMES), st.sampled_from(HEADER_TEMPLATES))
    with_body = draw(st.booleans())
    template = core.RequestTemplate(
        method="POST",
        base_url=draw(st.sampled_from(["https://api.example.com", "https://{{settings.region}}"])),
        path=draw(st.sampled_from(PATHS)),
        headers=draw(headers, "action headers"),
        body=(lambda context: {"p": context["payload"]}) if with_body else None,
    )
    action = core.Action(
        key="send",
        title="Send",
        description="",
        trigger=None,
        schema={"type": "object"},
        default_mapping=lambda event: dict(event.get("properties") or {}),
        request=template,
        requirements=tuple(
            core.Requirement(fields=fields, any=any_of, when_settings=when)
            for fields, any_of, when in draw(
                st.lists(
                    st.tuples(
                        st.sampled_from([("key",), ("key", "list"), ("list", "nested")]),
                        st.booleans(),
                        st.sampled_from([{}, {"region": "eu"}, {"region": "us"}]),
                    ),
                    max_size=2,
                ),
                "requirements",
            )
        ),
    )
    auth = draw(st.sampled_from([None, ("{{settings.user}}", "{{settings.secret}}")]))
    destination = core.Destination(
        slug="custom",
        name="Custom",
        description="",
        source="",
        settings=(
            core.Setting(key="secret", label="Secret", type="password", required=True),
            core.Setting(key="user", label="User", type="string", default="me", has_default=True),
            core.Setting(
                key="region", label="Region", type="string", default="eu", has_default=True
            ),
        ),
        headers=draw(headers, "destination headers"),
        basic_auth=auth,
        actions={"send": action},
        presets=(),
    )
    return destination, action


@SETTINGS_FOR_TESTS
@given(data=st.data())
def test_drawn_request_templates_agree_with_the_reference(
    runtime: Any, data: st.DataObject
) -> None:
    destination, action = data.draw(custom_destinations(runtime), "destination")
    secret = data.draw(st.sampled_from(["s3cret", "s/3 c?", ""]), "secret")
    region = data.draw(st.sampled_from([None, "eu", "us"]), "region")
    chosen = {"secret": secret} if region is None else {"secret": secret, "region": region}
    try:
        bound = destination.bind(chosen)
    except runtime.core.SettingsError:
        return  # an empty secret: rejected, as it must be
    properties = data.draw(
        st.dictionaries(
            st.sampled_from(["key", "list", "nested", "other"]),
            st.one_of(
                payload_values,
                st.lists(payload_values, max_size=2),
                st.fixed_dictionaries({"deep": payload_values}),
            ),
        ),
        "properties",
    )
    event: dict[str, Any] = {"type": "track", "properties": properties}
    if data.draw(st.booleans()):
        event["messageId"] = data.draw(payload_values, "messageId")
    fast = outcome(bound.run, action, event)
    assert fast == outcome(step_by_step, runtime, bound, action, event)
    if fast[0] == "requests":
        request = bound.run(action, event)[0]
        assert secret not in repr(request)
        # Destination.build_request (no bound settings, nothing kept) builds the same.
        payload = action.payload(event)
        built = destination.build_request("send", action.request, payload, bound.settings, event)
        assert shown(built) == shown(request)
        assert shown(built.masked()) == shown(request.masked())
