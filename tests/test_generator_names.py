"""Names from specs become safe, unique identifiers; hostile display names stay text."""

from __future__ import annotations

import keyword
import tomllib
from pathlib import Path
from typing import Any

import pytest

from actionspec import ir
from actionspec.naming import UniqueNames, pascal, snake
from conftest import generate_into

HOSTILE = [
    "class",
    "from",
    "__init__",
    "a-b",
    "1st",
    "type",
    "Ünïcode",
    "fooBar",
    "foo_bar",
    "",
    "---",
    "None",
    "match",
    "self",
    "print",
    "_",
    "x" * 200,
    "日本語",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_snake_and_pascal_give_identifiers(name: str) -> None:
    for made in (snake(name), pascal(name) + "Payload"):  # pascal() is only used with a suffix
        assert made.isidentifier() and made.isascii()
        assert not keyword.iskeyword(made) and not keyword.issoftkeyword(made)
    assert not snake(name).startswith("__")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("class", "class_"),
        ("from", "from_"),
        ("a-b", "a_b"),
        ("1st", "n_1st"),
        ("type", "type_"),
        ("Ünïcode", "unicode"),
        ("fooBar", "foo_bar"),
        ("foo_bar", "foo_bar"),
        ("pageVisit", "page_visit"),
        ("HTTPRequest", "http_request"),
    ],
)
def test_snake(name: str, expected: str) -> None:
    assert snake(name) == expected


def test_unique_names_suffix_snake_and_pascal_names() -> None:
    snakes = UniqueNames()
    assert [snakes.claim(snake(k)) for k in ("fooBar", "foo_bar", "foo-bar")] == [
        "foo_bar",
        "foo_bar_2",
        "foo_bar_3",
    ]
    classes = UniqueNames({"Settings"})
    assert [classes.claim(pascal(k) + "Payload") for k in ("fooBar", "foo_bar", "FooBar")] == [
        "FooBarPayload",
        "FooBarPayload2",
        "FooBarPayload3",
    ]  # class names keep no underscore
    assert classes.claim("Settings") == "Settings2"


def test_ir_names_are_unique(tmp_path: Path) -> None:
    spec: dict[str, Any] = {
        "slug": "x",
        "name": "X",
        "description": "d",
        "settings": {},
        "actions": {
            key: {
                "title": key,
                "description": "d",
                "fields": {},
                "request": {"method": "GET", "url": "https://e.com"},
            }
            for key in ("fooBar", "foo_bar", "FooBar", "settings", "Settings")
        },
    }
    dest = ir.build(spec, "specs/x.yaml")
    names = [a.name for a in dest.actions]
    models = [a.model_name for a in dest.actions]
    assert len(set(names)) == len(names) == 5
    assert len(set(models)) == 5 and "Settings" not in models


SPEC = """\
spec_version: 1
name: {name}
slug: odd-name
description: A destination whose display name needs escaping everywhere.
settings: {{}}
actions:
  send:
    title: Send
    description: Send.
    fields: {{x: {{label: X, type: string, default: {{"@path": "$.x"}}}}}}
    request: {{method: POST, url: "https://e.com", body: {{"@path": "$.payload"}}}}
"""


def test_destination_name_with_quotes_and_backslash(tmp_path: Path, import_generated: Any) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "odd.yaml").write_text(SPEC.format(name="'Odd \"Name\" \\ Co'"), "utf-8")
    out = generate_into(tmp_path, specs, "odd_name_pkg")
    project = tomllib.loads((out / "pyproject.toml").read_text("utf-8"))
    assert 'Odd "Name" \\ Co' in project["project"]["description"]
    assert import_generated(out, "odd_name_pkg").get("odd-name").name == 'Odd "Name" \\ Co'


def test_destination_name_with_unicode_and_punctuation(
    tmp_path: Path, import_generated: Any
) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "odd.yaml").write_text(SPEC.format(name="'Odd: Näme & <Co> {{x}} #1'"), "utf-8")
    out = generate_into(tmp_path, specs, "odd_name_pkg2")
    project = tomllib.loads((out / "pyproject.toml").read_text("utf-8"))
    assert "Odd: Näme & <Co> {{x}} #1" in project["project"]["description"]
    assert (
        import_generated(out, "odd_name_pkg2").get("odd-name").name == "Odd: Näme & <Co> {{x}} #1"
    )
