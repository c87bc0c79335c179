"""The OpenAPI target: valid OpenAPI 3.1 for every spec, and it describes the requests sent."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from actionspec import config, generate, ir
from actionspec.targets import openapi, service_openapi
from actionspec.targets.jsonschema import payload_schema

CFG = config.load(Path(__file__).parent)
DESTINATIONS = generate.load_specs(CFG)


def _by_slug(slug: str) -> ir.Destination:
    return next(d for d in DESTINATIONS if d.slug == slug)


@pytest.mark.parametrize("dest", DESTINATIONS, ids=lambda d: d.slug)
def test_every_spec_gives_a_valid_openapi_document(dest: ir.Destination) -> None:
    doc = openapi.document(dest)
    validate(doc)
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["title"] == f"{dest.name} API (as known to actionspec)"
    assert dest.source in doc["info"]["x-generated-by"]
    operation_ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))
    for action in dest.actions:  # every action has an operation
        assert any(action.key in op_id.split("_or_") for op_id in operation_ids)
    for item in doc["paths"].values():
        for op in item.values():
            assert "default" in op["responses"]


def test_generated_file_is_the_document_and_deterministic() -> None:
    files = generate.render_files(CFG, DESTINATIONS)
    for dest in DESTINATIONS:
        text = files[f"{CFG.package}/{dest.module}/openapi.json"]
        assert json.loads(text) == openapi.document(dest)
        assert (
            text == openapi.generate(dest, CFG.package)[f"{CFG.package}/{dest.module}/openapi.json"]
        )


def _operation_regexes(doc: dict[str, Any]) -> list[tuple[str, re.Pattern[str], dict[str, Any]]]:
    """(method, full-URL regex, operation) for every operation of `doc`."""

    def pattern(template: str) -> str:
        parts = re.split(r"({[^{}]+})", template)
        return "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)

    found = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            for server in op.get("servers", doc["servers"]):
                url = pattern(server["url"].rstrip("/")) + pattern(path)
                found.append((method.upper(), re.compile(url + r"(\?.*)?"), op))
    return found


def test_clay_example_requests_match_operations() -> None:
    dest = _by_slug("clay")
    doc = openapi.document(dest)
    operations = _operation_regexes(doc)
    requests = [r for e in dest.examples for r in e.requests or []]
    assert requests, "clay.yaml has worked examples with requests"
    for request in requests:
        matches = [
            op
            for method, regex, op in operations
            if method == request["method"] and regex.fullmatch(request["url"])
        ]
        assert matches, f"no operation for {request['method']} {request['url']}"
        action = request.get("action")
        if action:
            assert action in matches[0]["operationId"].split("_or_")


def test_clay_document_details() -> None:
    doc = openapi.document(_by_slug("clay"))
    assert doc["servers"] == [{"url": "https://segment-session.clay.com"}]
    assert doc["components"]["securitySchemes"] == {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": "`Authorization: Bearer {{settings.secret_key}}`",
        }
    }
    events = doc["paths"]["/segment/{connection_key}/events"]["post"]
    assert [p["name"] for p in events["parameters"]] == ["connection_key"]
    schemas = doc["components"]["schemas"]
    track = schemas["TrackBody"]
    assert track["properties"]["type"]["const"] == "track"
    assert "type" in track["required"] and "event" in track["required"]
    assert set(schemas["TrackPayload"]["properties"]) < set(track["properties"])
    refs = [
        s["$ref"] for s in events["requestBody"]["content"]["application/json"]["schema"]["anyOf"]
    ]
    assert refs == ["#/components/schemas/PageVisitBody", "#/components/schemas/TrackBody"]
    auth = doc["paths"]["/segment/{connection_key}/auth"]["get"]
    assert auth["operationId"] == "testAuthentication"


RICH_SPEC = """
spec_version: 1
name: Rich
slug: rich
description: A destination using every request form.
accepts: [track, identify]
settings:
  region:
    label: Region
    type: select
    choices: [{label: EU, value: eu}, {label: US, value: us}]
    default: us
  api_key:
    label: API Key
    type: password
    required: true
  user:
    label: User
    type: string
    required: true
base_url: https://api-{{settings.region}}.rich.example/v2
headers:
  X-Client: actionspec
authentication:
  scheme: basic
  username: "{{settings.user}}"
  password: "{{settings.api_key}}"
  headers:
    X-Api-Key: "{{settings.api_key}}"
  test:
    method: GET
    url: https://auth.rich.example/check?key={{settings.api_key}}
actions:
  send:
    title: Send
    description: Send an event
    fields:
      id:
        label: ID
        type: string
        required: true
        default: {"@path": "$.userId"}
      count:
        label: Count
        type: integer
        default: {"@path": "$.properties.count"}
    request:
      method: PUT
      path: /users/{{payload.id}}/events
      headers:
        X-Mode: single
      body:
        id: {"@path": "$.payload.id"}
        source: segment
        label: {"@template": "n={{payload.count}}"}
    batch:
      size: 100
      body: {events: {"@path": "$.payloads"}}
  raw:
    title: Raw
    description: Raw payload
    fields:
      name: {label: Name, type: string, default: {"@path": "$.event"}}
    request:
      method: POST
      url: https://ingest.rich.example/{{settings.region}}/raw
      body: {"@path": "$.payload"}
on_delete:
  method: DELETE
  path: /users/{{settings.user}}
  body: {user: {"@path": "$.userId"}}
"""


@pytest.fixture(scope="module")
def rich(tmp_path_factory: pytest.TempPathFactory) -> ir.Destination:
    folder = tmp_path_factory.mktemp("specs")
    (folder / "rich.yaml").write_text(textwrap.dedent(RICH_SPEC), "utf-8")
    return generate.load_specs(config.load(Path(__file__).parent, specs=str(folder)))[0]


def test_rich_spec_document(rich: ir.Destination) -> None:
    doc = openapi.document(rich)
    validate(doc)
    assert doc["servers"] == [
        {
            "url": "https://api-{region}.rich.example/v2",
            "variables": {
                "region": {
                    "description": "The Region setting.",
                    "enum": ["eu", "us"],
                    "default": "us",
                }
            },
        }
    ]
    schemes = doc["components"]["securitySchemes"]
    assert schemes["basicAuth"]["scheme"] == "basic"
    assert schemes["X-Api-KeyHeader"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Api-Key",
        "description": "The header value is the template `{{settings.api_key}}`.",
    }
    send = doc["paths"]["/users/{id}/events"]["put"]
    assert send["operationId"] == "send"
    names = {(p["in"], p["name"]) for p in send["parameters"]}
    assert names == {("path", "id"), ("header", "X-Client"), ("header", "X-Mode")}
    body = send["requestBody"]["content"]["application/json"]["schema"]["anyOf"]
    assert len(body) == 2  # single and batch bodies
    raw = doc["paths"]["/{region}/raw"]["post"]
    assert raw["servers"][0]["url"] == "https://ingest.rich.example"
    assert raw["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/RawPayload"
    }
    check = doc["paths"]["/check"]["get"]
    assert check["servers"] == [{"url": "https://auth.rich.example"}]
    assert [(p["in"], p["name"]) for p in check["parameters"]] == [
        ("query", "key"),
        ("header", "X-Client"),
    ]
    delete = doc["paths"]["/users/{user}"]["delete"]
    assert delete["operationId"] == "deleteUser"


# --------------------------------------------------------------------------- the preview service


def _refs(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["$ref"]] if isinstance(value.get("$ref"), str) else []
        return found + [r for v in value.values() for r in _refs(v)]
    if isinstance(value, list):
        return [r for v in value for r in _refs(v)]
    return []


@pytest.mark.parametrize("which", ["specs", "rich"])
def test_service_document_is_valid_openapi(which: str, rich: ir.Destination) -> None:
    dests = DESTINATIONS if which == "specs" else [*DESTINATIONS, rich]
    doc = service_openapi.document(CFG, dests)
    validate(doc)
    for ref in _refs(doc):  # every reference resolves
        name = ref.removeprefix("#/components/schemas/")
        assert name in doc["components"]["schemas"], ref
    operations = [op for item in doc["paths"].values() for op in item.values()]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))
    served = [op["x-actionspec-serves"] for op in operations]
    for dest in dests:
        for action in dest.actions:  # one operation per destination action
            assert served.count({"preview": dest.slug, "action": action.key}) == 1
        assert served.count({"route": dest.slug}) == 1
    assert {"catalog": True} in served and {"openapi": True} in served


def test_service_document_reuses_the_payload_and_settings_schemas(rich: ir.Destination) -> None:
    doc = service_openapi.document(CFG, [rich])
    schemas = doc["components"]["schemas"]
    for action in rich.actions:
        expected = {k: v for k, v in payload_schema(rich, action).items() if k != "$schema"}
        assert schemas[f"rich.{action.model_name}"] == expected
        preview = doc["paths"][service_openapi.preview_path(rich, action)]["post"]
        result = preview["responses"]["200"]["content"]["application/json"]["schema"]
        assert schemas[result["$ref"].rsplit("/", 1)[1]]["properties"]["payload"] == {
            "$ref": f"#/components/schemas/rich.{action.model_name}"
        }
        assert set(preview["responses"]) == {"200", "400", "413", "415", "422"}
    settings = schemas["rich.Settings"]
    assert set(settings["required"]) == {"api_key", "user"}
    assert settings["properties"]["user"]["minLength"] == 1  # "" is missing for the runtime
    assert "default" not in settings["properties"]["api_key"]
    assert settings["additionalProperties"] is False


def test_service_paths_percent_encode_hostile_action_keys() -> None:
    sink = generate.load_specs(
        config.load(Path(__file__).parent, specs=str(Path(__file__).parent / "specs/kitchen_sink"))
    )[0]
    doc = service_openapi.document(CFG, [sink])
    validate(doc)
    assert "/destinations/kitchen-sink/actions/%C3%9Cn%C3%AFcode/preview" in doc["paths"]
    assert "/destinations/kitchen-sink/actions/a-b/preview" in doc["paths"]


def test_service_document_is_written_into_the_package() -> None:
    files = generate.render_files(CFG, DESTINATIONS)
    text = files[f"{CFG.package}/openapi.json"]
    assert json.loads(text) == service_openapi.document(CFG, DESTINATIONS)
