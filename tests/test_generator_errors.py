"""Bad specs: every problem is reported with file:line:column, a clear message and a hint."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from actionspec.cli import main
from actionspec.config import Config
from actionspec.diagnostics import SpecError
from actionspec.generate import load_specs

# A valid spec; each case below changes it a little. Line numbers are those of this text.
BASE = """\
spec_version: 1
name: Bad
slug: bad
description: A spec with one problem.
settings:
  api_key: {label: API Key, type: password, required: true}
base_url: https://api.example.com
presets:
  - name: Track
    trigger: type = "track"
    action: send
actions:
  send:
    title: Send
    description: Send it.
    fields:
      event: {label: Event, type: string, required: true, default: {"@path": "$.event"}}
    request: {method: POST, path: /e, body: {"@path": "$.payload"}}
"""
FILE = "specs/bad.yaml"
EVENT_DEFAULT = 'default: {"@path": "$.event"}'


def changed(*replacements: tuple[str, str]) -> str:
    text = BASE
    for old, new in replacements:
        assert text.count(old) == 1, f"{old!r} must occur once in BASE"
        text = text.replace(old, new)
    return text


def write_project(root: Path, text: str | bytes, name: str = "bad.yaml") -> Path:
    specs = root / "specs"
    specs.mkdir(parents=True, exist_ok=True)
    target = specs / name
    if isinstance(text, bytes):
        target.write_bytes(text)
    else:
        target.write_text(text, "utf-8")
    return root


def validate(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    """Exit status of `actionspec validate` and its stderr lines."""
    status = main(["--root", str(root), "-q", "validate"])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return status, err.splitlines()


# (id, spec text, expected stderr lines before the "N problem(s) found" line)
CASES: list[tuple[str, str | bytes, list[str]]] = [
    (
        "yaml-syntax",
        changed(("name: Bad", "name: [Bad")),
        [
            f"{FILE}:3:5: error: YAML syntax: expected ',' or ']', but got ':' "
            "(while parsing a flow sequence started at line 2, column 7)"
        ],
    ),
    (
        "yaml-tab",
        changed(("  api_key:", "\tapi_key:")),
        [
            f"{FILE}:6:1: error: YAML syntax: found character '\\t' that cannot start any token "
            "(while scanning for the next token)",
            "    hint: indent with spaces: YAML does not allow tabs there",
        ],
    ),
    (
        "yaml-two-documents",
        BASE + "---\nname: Other\n",
        [
            f"{FILE}:19:1: error: YAML syntax: expected a single document in the stream, "
            "but found another document",
            "    hint: one spec per file: remove the `---` and what follows, or move it to its own file",
        ],
    ),
    (
        "empty-file",
        "",
        [f"{FILE}:1:1: error: the file is empty", "    hint: run `actionspec new NAME`"],
    ),
    (
        "not-utf8",
        b"\xff\xfe name: x\n",
        [
            f"{FILE}: error: cannot read the file: 'utf-8' codec can't decode byte 0xff in position 0: "
            "invalid start byte"
        ],
    ),
    (
        "duplicate-key",
        changed(("slug: bad\n", "slug: bad\nname: Again\n")),
        [
            f"{FILE}:4:1: error: duplicate key 'name' (first defined at line 2)",
            "    hint: remove or rename one of them; duplicate keys are never merged",
        ],
    ),
    (
        "yaml-merge-key",
        changed(("settings:\n", "settings:\n  <<: {x: 1}\n")),
        [
            f"{FILE}:6:3: error: YAML merge keys (<<) are not supported",
            "    hint: repeat the keys, or reuse a whole value with an anchor (&name) and alias (*name)",
        ],
    ),
    (
        "unknown-key-did-you-mean",
        changed(("    title: Send\n", "    title: Send\n    tittle: Send\n")),
        [
            f"{FILE}:15:5: error: unknown key 'tittle' in actions.send",
            "    hint: did you mean 'title'?",
        ],
    ),
    (
        "unknown-top-level-key",
        changed(("base_url:", "base_urls:")),
        [
            f"{FILE}:7:1: error: unknown key 'base_urls' in the document",
            "    hint: did you mean 'base_url'?",
        ],
    ),
    (
        "wrong-type",
        changed(("required: true}", 'required: "yes"}')),
        [
            f'{FILE}:6:55: error: settings.api_key.required must be a boolean, not a string ("yes")',
            "    hint: write true or false, without quotes",
        ],
    ),
    (
        "wrong-type-document",
        "- a list\n",
        [f"{FILE}:1:1: error: the document must be an object, not a list"],
    ),
    (
        "not-allowed-value",
        changed(("type: password", "type: secret")),
        [
            f"{FILE}:6:35: error: settings.api_key.type is 'secret', which is not allowed",
            "    hint: allowed: 'string', 'password', 'boolean', 'number', 'integer', 'select', 'uri'",
        ],
    ),
    (
        "missing-required-key",
        changed(("description: A spec with one problem.\n", "")),
        [f"{FILE}:1:1: error: the document is missing the required key 'description'"],
    ),
    (
        "missing-required-key-nested",
        changed(("    description: Send it.\n", "")),
        [f"{FILE}:14:5: error: actions.send is missing the required key 'description'"],
    ),
    (
        "empty-actions",
        changed(
            *[(line + "\n", "") for line in BASE.splitlines()[7:11] + BASE.splitlines()[12:]],
            ("actions:\n", "actions: {}\n"),
        ),
        [f"{FILE}:8:10: error: actions is empty; it needs at least one entry"],
    ),
    (
        "bad-slug",
        changed(("slug: bad", "slug: Bad Slug")),
        [
            f"{FILE}:3:7: error: slug 'Bad Slug' is not allowed",
            "    hint: use lower case letters, digits, '_' and '-', starting with a letter",
        ],
    ),
    (
        "unknown-directive",
        changed((EVENT_DEFAULT, 'default: {"@pth": "$.event"}')),
        [
            f"{FILE}:17:69: error: actions.send.fields.event.default.@pth: unknown directive '@pth'",
            "    hint: did you mean '@path'?",
        ],
    ),
    (
        "directive-mixed-with-keys",
        changed((EVENT_DEFAULT, 'default: {"@path": "$.event", other: 1}')),
        [
            f"{FILE}:17:69: error: actions.send.fields.event.default.@path: directive '@path' is mixed "
            "with other keys (other)",
            "    hint: a directive must be the only key of its object; nest it under a plain key",
        ],
    ),
    (
        "bad-path",
        changed((EVENT_DEFAULT, 'default: {"@path": "$.a..b"}')),
        [
            f"{FILE}:17:69: error: actions.send.fields.event.default.@path: invalid path '$.a..b' at "
            "character 4",
            "    hint: paths look like $.properties.plan or $.products[0].sku",
        ],
    ),
    (
        "path-not-a-string",
        changed(('body: {"@path": "$.payload"}', 'body: {"@path": 3}')),
        [
            f"{FILE}:18:46: error: actions.send.request.body.@path: @path takes a string, not a number",
            '    hint: e.g. "$.context.ip"',
        ],
    ),
    (
        "if-without-condition",
        changed((EVENT_DEFAULT, 'default: {"@if": {then: 1}}')),
        [
            f"{FILE}:17:69: error: actions.send.fields.event.default.@if: @if needs exactly one "
            "condition: 'exists' or 'blank'"
        ],
    ),
    (
        "preset-missing-action",
        changed(("    action: send", "    action: sned")),
        [
            f"{FILE}:11:13: error: preset 'Track' names the action 'sned', which does not exist",
            "    hint: did you mean 'send'?",
        ],
    ),
    (
        "preset-maps-unknown-field",
        changed(
            ("    action: send", '    action: send\n    mapping:\n      evnt: {"@path": "$.event"}')
        ),
        [
            f"{FILE}:13:7: error: preset 'Track' maps 'evnt', which is not a field of action 'send'",
            "    hint: did you mean 'event'?",
        ],
    ),
    (
        "unparsable-trigger",
        changed(('    trigger: type = "track"', '    trigger: type = "track" and and event = "x"')),
        # column 33 is the second `and`: 14 (start of the value) + 19 characters into the string
        [
            f"{FILE}:10:33: error: presets[0].trigger: trigger syntax: expected a condition before 'and'",
            '    hint: triggers look like: type = "track" and event = "Order Completed"',
        ],
    ),
    (
        "unparsable-trigger-quoted",
        changed(
            ('    trigger: type = "track"', '    trigger: \'type = "track" and and event = "x"\'')
        ),
        # a quoted scalar: one more column for the opening quote
        [
            f"{FILE}:10:34: error: presets[0].trigger: trigger syntax: expected a condition before 'and'",
            '    hint: triggers look like: type = "track" and event = "Order Completed"',
        ],
    ),
    (
        "secret-looking-setting",
        changed(("settings:\n", "settings:\n  auth_token: {label: Token, type: string}\n")),
        [
            f"{FILE}:6:36: error: setting 'auth_token' looks like a secret but its type is 'string'",
            "    hint: make it type: password, or say why not in not_secret_because",
        ],
    ),
    (
        "required-field-without-default",
        changed((', default: {"@path": "$.event"}}', "}")),
        [
            f"{FILE}:17:7: error: required field 'event' has no default mapping",
            "    hint: add default: {'@path': '$...'}, or say why not in no_default_because",
        ],
    ),
    (
        "template-slot-unknown-setting",
        changed(("path: /e,", 'path: "/e/{{settings.api_kye}}",')),
        [
            f"{FILE}:18:39: error: actions.send.request.path: 'settings.api_kye' does not exist",
            "    hint: did you mean 'settings.api_key'?",
        ],
    ),
    (
        "template-slot-wrong-root",
        changed(
            (
                "base_url: https://api.example.com",
                'base_url: "https://{{payload.region}}.example.com"',
            )
        ),
        [
            f"{FILE}:7:20: error: base_url: template slot {{{{payload.region}}}} is not allowed here",
            "    hint: allowed here: {{settings.x}}",
        ],
    ),
    (
        "path-without-base-url",
        changed(("base_url: https://api.example.com\n", "")),
        [
            f"{FILE}:17:35: error: actions.send.request.path needs a base_url in the spec",
            "    hint: add base_url, or give a full 'url' instead",
        ],
    ),
    (
        "select-without-choices",
        changed(("settings:\n", "settings:\n  region: {label: Region, type: select}\n")),
        [
            f"{FILE}:6:11: error: select setting 'region' has no choices",
            "    hint: add choices: [...]",
        ],
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"), [(t, e) for _, t, e in CASES], ids=[c[0] for c in CASES]
)
def test_bad_spec_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str | bytes, expected: list[str]
) -> None:
    status, lines = validate(write_project(tmp_path, text), capsys)
    problems = sum(1 for line in expected if not line.startswith("    hint:"))
    assert status == 1
    assert lines == [*expected, f"{problems} problem(s) found"]


def test_every_problem_of_a_file_is_reported_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Structural problems are all collected in one pass (and YAML-level ones with them)."""
    text = changed(
        ("slug: bad\n", "slug: bad\nslug: again\n"),  # duplicate key
        ("required: true}", 'required: "yes"}'),  # wrong type
        ("    title: Send\n", "    title: Send\n    tittle: Send\n"),  # unknown key
        ("    description: Send it.\n", ""),  # missing key
        ("type: password", "type: secret"),  # not allowed
    )
    status, lines = validate(write_project(tmp_path, text), capsys)
    errors = [line for line in lines if ": error: " in line]
    assert status == 1
    assert lines[-1] == "5 problem(s) found"
    assert [e.split(": error: ")[0] for e in errors] == [
        f"{FILE}:4:1",
        f"{FILE}:7:35",
        f"{FILE}:7:53",
        f"{FILE}:15:5",
        f"{FILE}:16:5",
    ]
    assert "duplicate key 'slug' (first defined at line 3)" in errors[0]
    assert "settings.api_key.type is 'secret'" in errors[1]
    assert "settings.api_key.required must be a boolean" in errors[2]
    assert "actions.send is missing the required key 'description'" in errors[3]
    assert "unknown key 'tittle' in actions.send" in errors[4]


def test_every_reference_problem_is_reported_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = changed(
        ("settings:\n", "settings:\n  auth_token: {label: Token, type: string}\n"),
        ('    trigger: type = "track"', '    trigger: type = "track" and and event = "x"'),
        ("    action: send", "    action: sned"),
        (', default: {"@path": "$.event"}}', "}"),
        ("path: /e,", 'path: "/e/{{settings.api_kye}}",'),
        ('body: {"@path": "$.payload"}', 'body: {"@pth": "$.payload"}'),
    )
    status, lines = validate(write_project(tmp_path, text), capsys)
    errors = [line for line in lines if ": error: " in line]
    assert status == 1
    assert lines[-1] == "6 problem(s) found"
    assert [e.split(": error: ")[0] for e in errors] == [
        f"{FILE}:6:36",
        f"{FILE}:11:33",
        f"{FILE}:12:13",
        f"{FILE}:18:7",
        f"{FILE}:19:39",
        f"{FILE}:19:69",
    ]


def test_problems_of_several_files_are_all_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_project(tmp_path, changed(("    action: send", "    action: sned")), "a.yaml")
    write_project(
        tmp_path, changed(("slug: bad", "slug: other"), ("name: Bad", "name: [Bad")), "b.yaml"
    )
    write_project(tmp_path, changed(("slug: bad", "slug: fine")), "c.yaml")
    status, lines = validate(tmp_path, capsys)
    assert status == 1
    assert [line.split(": error: ")[0] for line in lines if ": error: " in line] == [
        "specs/a.yaml:11:13",
        "specs/b.yaml:3:5",
    ]
    assert lines[-1] == "2 problem(s) found"


def test_duplicate_slugs_across_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_project(tmp_path, BASE, "a.yaml")
    write_project(tmp_path, BASE, "b.yaml")
    status, lines = validate(tmp_path, capsys)
    assert status == 1
    assert "specs/b.yaml: error: slug 'bad' clashes with specs/a.yaml" in lines


def test_no_spec_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "specs").mkdir()
    status, lines = validate(tmp_path, capsys)
    assert status == 1
    assert lines == [
        "specs: error: no spec files (*.yaml) found",
        "    hint: create one with `actionspec new NAME`",
        "1 problem(s) found",
    ]


def test_load_specs_raises_spec_error_with_located_diagnostics(tmp_path: Path) -> None:
    write_project(tmp_path, changed(("    action: send", "    action: sned")))
    config = Config(
        root=tmp_path,
        specs=tmp_path / "specs",
        output=tmp_path / "out",
        package="errors_pkg",
        distribution="errors-pkg",
        version="0.1.0",
    )
    with pytest.raises(SpecError) as caught:
        load_specs(config)
    [diagnostic] = caught.value.diagnostics
    assert (diagnostic.location.file, diagnostic.location.line, diagnostic.location.column) == (
        FILE,
        11,
        13,
    )
    assert diagnostic.message == "preset 'Track' names the action 'sned', which does not exist"
    assert diagnostic.hint == "did you mean 'send'?"


def test_cli_process_exits_1_without_traceback(tmp_path: Path) -> None:
    text = changed(
        ("    action: send", "    action: sned"), ("required: true}", 'required: "yes"}')
    )
    root = write_project(tmp_path, text)
    for command in ("validate", "generate"):
        result = subprocess.run(
            [sys.executable, "-m", "actionspec.cli", "--root", str(root), "-q", command],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 1
        assert "Traceback" not in result.stderr
        assert result.stderr.endswith("1 problem(s) found\n")
        assert f"{FILE}:6:55: error: settings.api_key.required must be a boolean" in result.stderr
        assert not (root / "generated").exists()


def test_bad_path_names_the_character_in_the_written_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, lines = validate(
        write_project(tmp_path, changed((EVENT_DEFAULT, 'default: {"@path": "$.a..b"}'))), capsys
    )
    assert "invalid path '$.a..b' at character 4" in lines[0]
