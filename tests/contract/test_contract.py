"""Contract tests: every property below runs on every action of every spec, by construction.

A spec added to `specs/` is covered with no new test code (test_coverage_by_construction.py
proves it). Properties, as named in the matrix printed at the end of the run:

crash       never a crash: requests, or a PayloadValidationError whose errors name fields
realistic   complete realistic events of the action's trigger are accepted
paths       a field mapped by a plain path carries the event's value (cleaned and coerced as
            documented); required fields are in every payload; paths exist in Segment events
schemas     payloads validate against the generated JSON Schema and the pydantic model
openapi     requests match the destination's OpenAPI description (path, method, headers, body)
presets     the route runs exactly the presets whose trigger matches, with their actions
invariants  what a spec declares under `invariants:` holds
secrets     password settings never show in a request's repr, masked form or an error
json        `run_json` on the event's JSON text (decoded only as far as the action reads it)
            gives what `run` gives on json.loads of the text, for odd texts too; `route_json`
            what `route` gives (the destination's row)
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from actionspec.languages import mapping as mapping_language
from contract import checks, oracle, spec_facts
from contract.conftest import EXAMPLES, TARGETS, Subject, expect_known_issue, subject_params
from contract.matrix import MATRIX
from contract.strategies import (
    MISSING,
    get_path,
    hostile_event,
    realistic_event,
    segment_path_problem,
    settings_for,
)

CONTRACT = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.large_base_example,
    ],
)
ACTIONS = subject_params("action")
DESTINATIONS = subject_params("destination")
WITH_INVARIANTS = [p for p in ACTIONS if p.values[0][2].invariants]
NO_SUBJECT = pytest.param(None, marks=pytest.mark.skip(reason="no spec declares invariants"))


def _top_key(pointer: str) -> str:
    first = pointer.split("/")[1] if pointer.startswith("/") else ""
    return first.replace("~1", "/").replace("~0", "~")


def skip_for_hooks(subject: Subject, prop: str, points: set[str]) -> None:
    """Hand-written hooks (`hooks:` in the spec) may change what the spec says; a property
    the named hook points can defeat does not apply to the action."""
    assert subject.action is not None
    declared = set(subject.dest.raw["actions"][subject.action.key].get("hooks", {}))
    if declared & points:
        MATRIX.cell(subject.row, prop).note = "hook"
        pytest.skip(f"the action's {', '.join(sorted(declared & points))} hook decides this")


def events_for(subject: Subject) -> st.SearchStrategy[dict[str, Any]]:
    """Realistic events of the action's trigger, and hostile events (half each)."""
    assert subject.action is not None
    mapping = subject.action.default_mapping()
    fills = spec_facts.fills(subject.action.fields, mapping)
    literals = spec_facts.literals(subject.action.trigger)
    literals.pop(("type",), None)
    types = spec_facts.message_types(
        subject.action.trigger, spec_facts.required_paths(fills, subject.action)
    )
    read = list(mapping_language.paths_read(mapping))  # by any directive, not only @path

    @st.composite
    def realistic(draw: st.DrawFn) -> dict[str, Any]:
        chosen = [(path, draw(st.sampled_from(values))) for path, values in literals.items()]
        return realistic_event(draw, types, fills, chosen)

    @st.composite
    def hostile_events(draw: st.DrawFn) -> dict[str, Any]:
        return hostile_event(draw, fills, read)

    return st.one_of(realistic(), hostile_events())


def attempt(subject: Subject, event: dict[str, Any], config: dict[str, Any]) -> Any:
    """The action's requests for `event`, or the PayloadValidationError it raised."""
    try:
        return subject.runtime_action.requests(event, config)
    except subject.package.PayloadValidationError as exc:
        return exc


# --------------------------------------------------------------------------- 1. crash


@pytest.mark.parametrize("subject", ACTIONS, indirect=True)
def test_never_crashes(subject: Subject, request: pytest.FixtureRequest) -> None:
    assert subject.action is not None
    MATRIX.cell(subject.row, "crash", request.node.nodeid)
    expect_known_issue(request, subject, "crash")
    fields = {f.key for f in subject.action.fields}
    key = subject.action.key

    @CONTRACT
    @given(event=events_for(subject), config=settings_for(subject.runtime))
    def run(event: dict[str, Any], config: dict[str, Any]) -> None:
        outcome = attempt(subject, event, config)
        MATRIX.count(subject.row, "crash", not isinstance(outcome, Exception))
        if isinstance(outcome, Exception):
            errors: list[tuple[str, str]] = getattr(outcome, "errors", [])
            assert errors, "a PayloadValidationError lists its errors"
            for pointer, message in errors:
                assert _top_key(pointer) in fields, (
                    f"error {message!r} names {pointer!r}, not a field of {key}"
                )
                assert message.strip()
            return
        assert [r.action for r in outcome] == [key]
        for sent in outcome:
            json.dumps(sent.json, allow_nan=False)  # the body is JSON
            assert sent.url.startswith(("https://", "http://")), sent.url

    run()


# --------------------------------------------------------------------------- 2. realistic


@pytest.mark.parametrize("subject", ACTIONS, indirect=True)
def test_realistic_events_are_accepted(subject: Subject, request: pytest.FixtureRequest) -> None:
    assert subject.action is not None
    cell = MATRIX.cell(subject.row, "realistic", request.node.nodeid)
    expect_known_issue(request, subject, "realistic")
    source = spec_facts.realistic_source(subject.dest, subject.action, subject.runtime)
    if source is None:
        cell.note = "n/a"
        pytest.skip("no mapping of this action fills every required field")
    fills = spec_facts.fills(subject.action.fields, source.mapping)
    literals = spec_facts.literals(source.trigger)
    literals.pop(("type",), None)
    types = spec_facts.message_types(
        source.trigger, spec_facts.required_paths(fills, subject.action)
    )

    @st.composite
    def events(draw: st.DrawFn) -> dict[str, Any]:
        chosen = [(path, draw(st.sampled_from(values))) for path, values in literals.items()]
        return realistic_event(draw, types, fills, chosen)

    @CONTRACT
    @given(event=events())
    def run(event: dict[str, Any]) -> None:
        assume(spec_facts.matches(source.trigger, event))
        try:
            subject.runtime_action.payload(event, source.runtime_mapping)
        except subject.package.PayloadValidationError as exc:
            MATRIX.count(subject.row, "realistic", False)
            raise AssertionError(
                f"a realistic {event['type']} event (through the {source.via}) was rejected:"
                f" {exc.field}: {exc}"
            ) from None
        MATRIX.count(subject.row, "realistic", True)

    run()


# --------------------------------------------------------------------------- 3. paths


@pytest.mark.parametrize("subject", ACTIONS, indirect=True)
def test_plain_paths_carry_event_values(subject: Subject, request: pytest.FixtureRequest) -> None:
    assert subject.action is not None
    MATRIX.cell(subject.row, "paths", request.node.nodeid)
    expect_known_issue(request, subject, "paths")
    skip_for_hooks(subject, "paths", {"before_mapping", "after_payload"})
    action = subject.action
    mapping = action.default_mapping()
    for path, field in spec_facts.fills(action.fields, mapping):
        problem = segment_path_problem(path)
        assert problem is None, f"field {field.key!r} reads {problem}"
    plain = {f.key: spec_facts.plain_path(mapping.get(f.key)) for f in action.fields}
    objects = {f.key: spec_facts.object_of_paths(f, mapping.get(f.key)) for f in action.fields}
    fields = {f.key: f for f in action.fields}

    def expectations(event: dict[str, Any]) -> dict[str, tuple[Any, oracle.Expect]]:
        found = {}
        for key, path in plain.items():
            if path is not None:
                raw = get_path(event, path)
                found[key] = (raw, oracle.top_level(fields[key], raw))
        for key, paths in objects.items():
            if paths is not None:
                raws = {k: get_path(event, p) for k, p in paths.items()}
                found[key] = (raws, oracle.object_from_paths(fields[key], raws))
        return found

    @CONTRACT
    @given(event=events_for(subject))
    def run(event: dict[str, Any]) -> None:
        expected = expectations(event)
        try:
            payload = subject.runtime_action.payload(event)
        except subject.package.PayloadValidationError as exc:
            MATRIX.count(subject.row, "paths", False)
            rejected = {_top_key(p) for p, _ in exc.errors}
            for key, (raw, want) in expected.items():
                if want.kind == oracle.ERROR:
                    assert key in rejected, f"{key} = {raw!r} should be rejected; errors: {exc}"
                if want.kind in (oracle.VALUE, oracle.ABSENT):
                    assert key not in rejected, f"{key} = {raw!r} was rejected: {exc}"
            return
        MATRIX.count(subject.row, "paths", True)
        for key, (raw, want) in expected.items():
            got = payload.get(key, MISSING)
            if want.kind == oracle.ERROR:
                raise AssertionError(f"{key} = {raw!r} should be rejected; payload has {got!r}")
            if want.kind == oracle.ABSENT:
                assert got is MISSING, f"{key} = {raw!r} should be dropped; payload has {got!r}"
            elif want.kind in (oracle.VALUE, oracle.VALUE_OR_ERROR):
                assert got is not MISSING and oracle.same(got, want.value), (
                    f"{key}: the event has {raw!r}, so the payload should have {want.value!r},"
                    f" not {'nothing' if got is MISSING else repr(got)}"
                )
            elif (
                fields[key].type in ("string", "text")
                and not fields[key].multiple
                and oracle.number(raw)
            ):
                assert oracle.check_string_spelling(raw, got), f"{key}: {raw!r} became {got!r}"
        for field in action.fields:
            if field.required:
                assert field.key in payload, f"required field {field.key!r} missing from {payload}"

    run()


# --------------------------------------------------------------------------- 4. schemas


@pytest.mark.parametrize("subject", ACTIONS, indirect=True)
def test_payloads_match_schema_and_model(subject: Subject, request: pytest.FixtureRequest) -> None:
    assert subject.action is not None
    MATRIX.cell(subject.row, "schemas", request.node.nodeid)
    expect_known_issue(request, subject, "schemas")
    schema = subject.resource("schemas", f"{subject.action.name}.json")
    validator = jsonschema.Draft202012Validator(schema)
    model = subject.runtime_action.model

    @CONTRACT
    @given(event=events_for(subject))
    def run(event: dict[str, Any]) -> None:
        try:
            payload = subject.runtime_action.payload(event)
        except subject.package.PayloadValidationError:
            MATRIX.count(subject.row, "schemas", False)
            return
        MATRIX.count(subject.row, "schemas", True)
        problems = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(payload)]
        assert not problems, f"payload {payload!r} breaks its JSON Schema: {problems}"
        parsed = model.model_validate(payload)
        dumped = parsed.model_dump(mode="json", by_alias=True, exclude_unset=True)
        assert oracle.same(dumped, payload), f"the model changes the payload: {dumped!r}"

    run()


# --------------------------------------------------------------------------- 5. openapi


@pytest.mark.parametrize("subject", ACTIONS, indirect=True)
def test_requests_match_openapi(subject: Subject, request: pytest.FixtureRequest) -> None:
    assert subject.action is not None
    MATRIX.cell(subject.row, "openapi", request.node.nodeid)
    expect_known_issue(request, subject, "openapi")
    skip_for_hooks(subject, "openapi", {"build_request"})
    doc = subject.resource("openapi.json")

    @CONTRACT
    @given(event=events_for(subject), config=settings_for(subject.runtime))
    def run(event: dict[str, Any], config: dict[str, Any]) -> None:
        outcome = attempt(subject, event, config)
        MATRIX.count(subject.row, "openapi", not isinstance(outcome, Exception))
        if isinstance(outcome, Exception):
            return
        for sent in outcome:
            problems = checks.request_problems(doc, sent)
            assert not problems, f"{sent.method} {sent.url}: {problems}"

    run()


@pytest.mark.parametrize("subject", DESTINATIONS, indirect=True)
def test_auth_and_deletion_requests_match_openapi(
    subject: Subject, request: pytest.FixtureRequest
) -> None:
    runtime = subject.runtime
    if runtime.test_request is None and runtime.delete_request is None:
        pytest.skip("no authentication test or deletion request")
    MATRIX.cell(subject.row, "openapi", request.node.nodeid)
    expect_known_issue(request, subject, "openapi")
    doc = subject.resource("openapi.json")
    ids = st.text(min_size=1, max_size=20)

    @CONTRACT  # a deletion names the user; the anonymous ID may be unknown
    @given(config=settings_for(runtime), user_id=ids, anonymous_id=st.none() | ids)
    def run(config: dict[str, Any], user_id: str, anonymous_id: str | None) -> None:
        sent = [
            runtime.authentication_request(config),
            runtime.deletion_request(config, user_id=user_id, anonymous_id=anonymous_id),
        ]
        for item in filter(None, sent):
            MATRIX.count(subject.row, "openapi", True)
            problems = checks.request_problems(doc, item)
            assert not problems, f"{item.method} {item.url}: {problems}"

    run()


# --------------------------------------------------------------------------- 6. presets


def preset_cases(subject: Subject) -> st.SearchStrategy[tuple[dict[str, Any], dict[str, Any]]]:
    """Events aimed at one preset (its trigger's values), with settings (often the preset's)."""
    presets = subject.dest.presets
    runtime = subject.runtime
    # `when_settings:` limits a preset to settings with the given values (defaults apply).
    conditions = [p.get("when_settings", {}) for p in subject.dest.raw.get("presets", [])]
    fills = [
        fill
        for preset in presets
        for fill in spec_facts.fills(subject.dest.action(preset.action).fields, preset.mapping)
    ]

    @st.composite
    def cases(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
        config: dict[str, Any] = draw(settings_for(runtime))
        if draw(st.integers(0, 9)) == 0:  # now and then an event with no usable field
            return draw(st.dictionaries(st.text(max_size=8), st.none())), config
        aimed = draw(st.integers(0, len(presets) - 1))
        literals = spec_facts.literals(presets[aimed].trigger)
        types = spec_facts.message_types(presets[aimed].trigger)
        chosen = [
            (path, draw(st.sampled_from(values)))
            for path, values in literals.items()
            if path != ("type",)
        ]
        if draw(st.booleans()):
            config = {**config, **conditions[aimed]}
        return realistic_event(draw, types, fills, chosen), config

    return cases()


@pytest.mark.parametrize("subject", DESTINATIONS, indirect=True)
def test_presets_route_matching_events(subject: Subject, request: pytest.FixtureRequest) -> None:
    presets = subject.dest.presets
    if not presets:
        pytest.skip("no presets")
    MATRIX.cell(subject.row, "presets", request.node.nodeid)
    expect_known_issue(request, subject, "presets")
    for action in subject.dest.actions:
        if all(p.action != action.key for p in presets):
            continue
        MATRIX.cell(
            (subject.target.name, subject.dest.slug, action.key), "presets", request.node.nodeid
        )
    runtime = subject.runtime
    compiled = runtime.presets
    conditions = [p.get("when_settings", {}) for p in subject.dest.raw.get("presets", [])]
    defaults = {s.key: s.default for s in subject.dest.settings if s.has_default}

    @CONTRACT
    @given(case=preset_cases(subject))
    def run(case: tuple[dict[str, Any], dict[str, Any]]) -> None:
        event, config = case
        triggered = [p for p in presets if spec_facts.matches(p.trigger, event)]
        for preset, code in zip(presets, compiled, strict=True):
            assert code.matches(event) == (preset in triggered), (
                f"preset {preset.name!r}: the generated trigger says {code.matches(event)},"
                f" the reference interpreter says {preset in triggered}"
            )
        chosen = {**defaults, **config}
        expected = [
            p
            for p, condition in zip(presets, conditions, strict=True)
            if p in triggered and all(chosen.get(k) == v for k, v in condition.items())
        ]
        try:
            routed = runtime.route(event, config)
        except subject.package.PayloadValidationError:
            MATRIX.count(subject.row, "presets", False)
            for preset in expected:
                MATRIX.count((*subject.row[:2], preset.action), "presets", False)
            assert any(
                _rejects(runtime.actions[p.action], code, event, subject)
                for p, code in zip(presets, compiled, strict=True)
                if p in expected
            ), "route failed although every matching preset's payload is valid"
            return
        MATRIX.count(subject.row, "presets", True)
        assert [r.action for r in routed] == [p.action for p in expected]
        for preset in expected:
            MATRIX.count((*subject.row[:2], preset.action), "presets", True)

    run()


def _rejects(action: Any, preset: Any, event: dict[str, Any], subject: Subject) -> bool:
    try:
        action.payload(event, preset.mapping)
    except subject.package.PayloadValidationError:
        return True
    return False


# --------------------------------------------------------------------------- 7. invariants


@pytest.mark.parametrize("subject", WITH_INVARIANTS or [NO_SUBJECT], indirect=True)
def test_declared_invariants_hold(subject: Subject, request: pytest.FixtureRequest) -> None:
    assert subject.action is not None
    MATRIX.cell(subject.row, "invariants", request.node.nodeid)
    expect_known_issue(request, subject, "invariants")
    invariants = subject.action.invariants

    @CONTRACT
    @given(event=events_for(subject), config=settings_for(subject.runtime))
    def run(event: dict[str, Any], config: dict[str, Any]) -> None:
        outcome = attempt(subject, event, config)
        MATRIX.count(subject.row, "invariants", not isinstance(outcome, Exception))
        if isinstance(outcome, Exception):
            return
        payload = subject.runtime_action.payload(event)
        for invariant in invariants:
            documents = [payload] if invariant.where == "payload" else [r.json for r in outcome]
            for document in documents:
                problems = checks.invariant_problems(invariant, document)
                assert not problems, f"{invariant.description}: {problems}"

    run()


# --------------------------------------------------------------------------- 8. secrets


@pytest.mark.parametrize("subject", ACTIONS, indirect=True)
def test_secrets_never_shown(subject: Subject, request: pytest.FixtureRequest) -> None:
    secret_keys = [s.key for s in subject.runtime.settings if s.secret]
    if not secret_keys:
        pytest.skip("no password settings")
    MATRIX.cell(subject.row, "secrets", request.node.nodeid)
    expect_known_issue(request, subject, "secrets")

    @CONTRACT
    @given(event=events_for(subject), config=settings_for(subject.runtime))
    def run(event: dict[str, Any], config: dict[str, Any]) -> None:
        secrets = [str(config[k]) for k in secret_keys if k in config]
        outcome = attempt(subject, event, config)
        MATRIX.count(subject.row, "secrets", not isinstance(outcome, Exception))
        if isinstance(outcome, Exception):
            shown = [str(outcome), repr(outcome)]
        else:
            shown = [repr(r) for r in outcome]
            shown += [json.dumps(r.to_dict(), ensure_ascii=False) for r in outcome]
        for text in shown:
            for secret in secrets:
                assert secret not in text, f"a password setting shows in {text[:200]!r}"

    run()


# --------------------------------------------------------------------------- 9. json

# Texts json.loads reads one way and a partial decoder might read another: the same key twice
# (json.loads keeps the last), numbers beyond a double, NaN, lone surrogates, a byte-order
# mark, UTF-16, invalid UTF-8 in a part no action reads, and documents that are not objects.
TEXT_VARIANTS = [
    "plain",
    "ascii",
    "duplicate-first",
    "duplicate-last",
    "big-integer",
    "nan",
    "surrogate",
    "bad-utf8",
    "bom",
    "utf16",
    "list",
    "truncated",
]


def json_text(event: dict[str, Any], variant: str, key: str) -> bytes:
    """`event` as JSON bytes, changed as `variant` says (`key`: a key the action reads)."""
    text = json.dumps(event, ensure_ascii=variant == "ascii")

    def members(*items: str) -> str:  # the event's members with others before or after
        return "{" + ", ".join(item for item in items if item) + "}"

    inner, key = text[1:-1], json.dumps(key)
    changed = {
        "duplicate-first": members(f'{key}: {{"x": 1}}', inner),
        "duplicate-last": members(inner, f'{key}: "again"'),
        "big-integer": members(inner, f"{key}: 123456789012345678901234567890"),
        "nan": members(inner, '"unread": NaN'),
        "surrogate": members(inner, f'{key}: "\\ud800"'),
        "list": f"[{text}]",
        "truncated": text[:-1],
    }.get(variant, text)
    data = changed.encode()
    if variant == "bad-utf8":
        data = data[:-1] + b', "unread": "\xff"}'
    elif variant == "bom":
        data = b"\xef\xbb\xbf" + data
    elif variant == "utf16":
        data = changed.encode("utf-16")
    return data


def shown_requests(requests: list[Any]) -> str:
    """Requests, revealed and masked, as text (key order and NaN compare as written)."""
    return repr([(r.to_dict(reveal_secrets=True), r.to_dict()) for r in requests])


def json_result(subject: Subject, run: Any, *args: Any) -> tuple[str, str]:
    """("requests", the requests shown) or ("error", the PayloadValidationError and field)."""
    try:
        return ("requests", shown_requests(run(*args)))
    except subject.package.PayloadValidationError as exc:
        return ("error", f"{exc} at {exc.field!r}")


def json_reference(subject: Subject, run: Any, data: bytes, *args: Any) -> tuple[str, str]:
    """What `run(*args, json.loads(data))` gives (the error of text that is not JSON)."""
    try:
        decoded = json.loads(data)
    except (ValueError, RecursionError) as exc:
        return ("error", f"The event is not JSON: {exc} at ''")
    return json_result(subject, run, *args, decoded)


@pytest.mark.parametrize("subject", ACTIONS, indirect=True)
def test_run_json_is_run_of_the_decoded_event(
    subject: Subject, request: pytest.FixtureRequest
) -> None:
    MATRIX.cell(subject.row, "json", request.node.nodeid)
    expect_known_issue(request, subject, "json")
    action = subject.runtime_action
    shape = action.event_shape
    keys = sorted(shape) if shape else ["userId"]

    @CONTRACT
    @given(
        event=events_for(subject),
        config=settings_for(subject.runtime),
        variant=st.sampled_from(TEXT_VARIANTS),
        key=st.sampled_from(keys),
    )
    def run(event: dict[str, Any], config: dict[str, Any], variant: str, key: str) -> None:
        bound = subject.runtime.bind(config)
        data = json_text(event, variant, key)
        expected = json_reference(subject, bound.run, data, action)
        outcome = json_result(subject, bound.run_json, action, data)
        MATRIX.count(subject.row, "json", outcome[0] == "requests")
        assert outcome == expected, variant

    run()


@pytest.mark.parametrize("subject", DESTINATIONS, indirect=True)
def test_route_json_is_route_of_the_decoded_event(
    subject: Subject, request: pytest.FixtureRequest
) -> None:
    if not subject.dest.presets:
        pytest.skip("no presets")
    MATRIX.cell(subject.row, "json", request.node.nodeid)
    expect_known_issue(request, subject, "json")
    shape = subject.runtime.route_event_shape
    keys = sorted(shape) if shape else ["type"]

    @CONTRACT
    @given(
        case=preset_cases(subject),
        variant=st.sampled_from(TEXT_VARIANTS),
        key=st.sampled_from(keys),
    )
    def run(case: tuple[dict[str, Any], dict[str, Any]], variant: str, key: str) -> None:
        event, config = case
        bound = subject.runtime.bind(config)
        data = json_text(event, variant, key)
        expected = json_reference(subject, bound.route, data)
        outcome = json_result(subject, bound.route_json, data)
        MATRIX.count(subject.row, "json", outcome[0] == "requests" and outcome[1] != "[]")
        assert outcome == expected, variant

    run()


def test_every_spec_folder_has_destinations() -> None:
    for target in TARGETS:
        assert target.destinations, f"{target.specs} has no specs"
