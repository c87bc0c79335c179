"""Malformed mappings in a spec: `actionspec validate` names each problem at file:line:column.

The spec below maps an object field with MAPPING (YAML, at line 18); each case puts a mapping
with one problem there. Lines and columns are those of the YAML text, 1-based.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from actionspec.cli import main

SPEC = """\
spec_version: 1
name: Bad
slug: bad
description: A spec with one malformed mapping.
settings:
  api_key: {label: API Key, type: password, required: true}
base_url: https://api.example.com
actions:
  send:
    title: Send
    description: Send it.
    fields:
      event: {label: Event, type: string, required: true, default: {"@path": "$.event"}}
      props:
        label: Props
        type: object
        default:
          MAPPING
    request: {method: POST, path: /e, body: {"@path": "$.payload"}}
"""
FILE = "specs/bad.yaml"
AT = "actions.send.fields.props.default"

# (id, the mapping's YAML lines at indentation 10, expected stderr lines)
CASES: list[tuple[str, list[str], list[str]]] = [
    (
        "unknown-directive",
        ['"@lookp": {value: {"@path": "$.a"}, table: {}}'],
        [
            f"{FILE}:18:11: error: {AT}.@lookp: unknown directive '@lookp'",
            "    hint: did you mean '@lookup'?",
        ],
    ),
    (
        "unknown-option",
        ['"@keys":', '  value: {"@path": "$.traits"}', "  cse: snake"],
        [
            f"{FILE}:20:13: error: {AT}.@keys.cse: @keys has no option 'cse'",
            "    hint: did you mean 'case'?",
        ],
    ),
    (
        "option-value-not-allowed",
        ['"@keys": {value: {"@path": "$.traits"}, case: kebab}'],
        [
            f"{FILE}:18:51: error: {AT}.@keys.case: 'kebab' is not allowed",
            "    hint: allowed: snake, lower, upper, camel, keep",
        ],
    ),
    (
        "missing-option",
        ['"@encodeNested": {value: {"@path": "$.properties"}, objects: json}'],
        [
            f"{FILE}:18:11: error: {AT}.@encodeNested: @encodeNested needs 'arrays'",
            "    hint: options: value, objects, arrays, separator",
        ],
    ),
    (
        "wrong-type",
        ['"@replace": {value: {"@path": "$.a"}, pattern: 5}'],
        [f"{FILE}:18:49: error: {AT}.@replace.pattern: expected a string, not a number"],
    ),
    (
        "pattern-too-long",
        ['"@replace": {value: {"@path": "$.a"}, pattern: "eleven char"}'],
        [
            f"{FILE}:18:49: error: {AT}.@replace.pattern: 'eleven char' is longer than 10 "
            "characters (Segment's limit)"
        ],
    ),
    (
        "bad-path-deep-inside",
        [
            '"@eachValue":',
            '  value: {"@path": "$.traits"}',
            "  mapping:",
            '    "@lookup": {value: {"@path": "$.a..b"}, table: {x: 1}}',
        ],
        [
            f"{FILE}:21:35: error: {AT}.@eachValue.mapping.@lookup.value.@path: invalid path "
            "'$.a..b' at character 4",
            "    hint: paths look like $.properties.plan or $.products[0].sku",
        ],
    ),
    (
        "disabled-liquid-tag",
        ['"@liquid": "{% for t in tags %}{{ t }}{% endfor %}"'],
        [
            f"{FILE}:18:11: error: {AT}.@liquid: @liquid: tag 'for' is disabled (as in Segment)",
            "    hint: Liquid as in Segment: no loops, includes or sorting",
        ],
    ),
    (
        "liquid-too-long",
        [f'"@liquid": "{"x" * 1001}"'],
        [
            f"{FILE}:18:11: error: {AT}.@liquid: @liquid: a template is limited to 1000 characters",
            "    hint: Liquid as in Segment: no loops, includes or sorting",
        ],
    ),
    (
        "falsy-else",
        ['"@if": {exists: {"@path": "$.a"}, then: 1, else: null}'],
        [
            f"{FILE}:18:54: error: {AT}.@if.else: else: None is ignored (Segment drops the key "
            "instead)",
            '    hint: omit else to drop the key, or write {"@literal": ...} for this value',
        ],
    ),
    (
        "table-result-is-a-directive",
        ['"@lookup": {value: {"@path": "$.a"}, table: {x: {"@path": "$.b"}}}'],
        [
            f"{FILE}:18:56: error: {AT}.@lookup.table.x: table results are plain JSON; directives "
            "are not evaluated here"
        ],
    ),
    (
        "two-problems-at-once",
        ['"@merge":', "  objects: [[1], {a: 1}]", "  direction: up"],
        [
            f"{FILE}:19:23: error: {AT}.@merge.objects[0]: expected an object or a directive, "
            "not a list",
            f"{FILE}:20:13: error: {AT}.@merge.direction: 'up' is not allowed",
            "    hint: allowed: left, right",
        ],
    ),
]


def _spec(lines: list[str]) -> str:
    return SPEC.replace("MAPPING", "\n".join(" " * 10 + line for line in lines).lstrip())


@pytest.mark.parametrize(
    ("lines", "expected"), [(lines, e) for _, lines, e in CASES], ids=[c[0] for c in CASES]
)
def test_malformed_mapping_is_located(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: list[str], expected: list[str]
) -> None:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "bad.yaml").write_text(_spec(lines), "utf-8")
    status = main(["--root", str(tmp_path), "-q", "validate"])
    err = capsys.readouterr().err.splitlines()
    problems = sum(1 for line in expected if not line.startswith("    hint:"))
    assert status == 1
    assert err == [*expected, f"{problems} problem(s) found"]


def test_the_base_spec_is_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "specs").mkdir()
    mapping = ['"@keys": {value: {"@path": "$.traits"}, case: snake}']
    (tmp_path / "specs" / "bad.yaml").write_text(_spec(mapping), "utf-8")
    assert main(["--root", str(tmp_path), "-q", "validate"]) == 0, capsys.readouterr().err
