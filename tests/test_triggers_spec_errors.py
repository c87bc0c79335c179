"""A bad trigger in a spec is reported at file:line:column of the offending character.

Every syntax error of test_triggers.py is embedded in a spec (as a plain, a single-quoted and a
double-quoted YAML scalar, where YAML can hold it on one line unchanged) and the reported
location must point at the character the parser blames, inside the YAML file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from actionspec.cli import main
from actionspec.diagnostics import Diagnostic, Diagnostics
from actionspec.spec.loader import load_yaml
from actionspec.spec.validate import validate_document
from test_triggers import SYNTAX_ERRORS

FILE = "specs/bad.yaml"
SPEC = """\
spec_version: 1
name: Bad
slug: bad
description: A spec with one bad trigger.
settings:
  api_key: {{label: API Key, type: password, required: true}}
base_url: https://api.example.com
presets:
  - name: Track
    trigger: {preset}
    action: send
actions:
  send:
    title: Send
    description: Send it.
    trigger: {action}
    fields:
      event: {{label: Event, type: string, required: true, default: {{"@path": "$.event"}}}}
    request: {{method: POST, path: /e, body: {{"@path": "$.payload"}}}}
"""
GOOD = 'type = "track"'  # the trigger that is not under test


def scalar(text: str, style: str) -> str | None:
    """`text` as a one-line YAML scalar of `style`, or None when YAML cannot keep it as is."""
    if any(c in text for c in "\n\r\t") or not text.strip():
        return None
    if style == "plain":
        written = text
    elif style == "single":
        if "'" in text:  # '' would stand for one quote: columns would shift
            return None
        written = f"'{text}'"
    else:
        if '"' in text or "\\" in text:  # escapes would shift columns
            return None
        written = f'"{text}"'
    try:
        loaded = yaml.safe_load(f"key: {written}")
    except yaml.YAMLError:
        return None
    return written if loaded == {"key": text} else None


def problems(text: str) -> list[Diagnostic]:
    loading = Diagnostics()
    doc = load_yaml(text, FILE, loading)
    assert doc is not None and not loading
    return validate_document(doc).sorted()


CASES = [
    pytest.param(text, offset, message, style, where, id=f"{style}-{where}-{i}")
    for i, (text, offset, message) in enumerate(SYNTAX_ERRORS)
    for style in ("plain", "single", "double")
    for where in ("preset", "action")
    if scalar(text, style) is not None
]


def test_most_errors_can_be_embedded() -> None:
    assert len(CASES) >= 2 * len(SYNTAX_ERRORS)


@pytest.mark.parametrize(("text", "offset", "message", "style", "where"), CASES)
def test_error_points_at_the_offending_character(
    text: str, offset: int, message: str, style: str, where: str
) -> None:
    written = scalar(text, style)
    assert written is not None
    spec = SPEC.format(
        preset=written if where == "preset" else GOOD,
        action=written if where == "action" else GOOD,
    )
    (problem,) = problems(spec)
    field = "presets[0].trigger" if where == "preset" else "actions.send.trigger"
    assert problem.message == f"{field}: trigger syntax: {message}"
    line = spec.splitlines()[problem.location.line - 1]
    assert line.strip().endswith(written) and "trigger: " in line
    column = problem.location.column - 1  # 0-based index into the line
    if offset < len(text):
        assert line[column] == text[offset]
        # ... and it is that character of the trigger, not an equal one elsewhere.
        assert column == line.index(written) + (style != "plain") + offset
    else:  # the end of the trigger: just after its last character
        assert column == line.index(written) + (style != "plain") + len(text)


def test_cli_reports_file_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    bad = 'type = "track" and not (event = "A" or properties.total >=5)'
    (specs / "bad.yaml").write_text(SPEC.format(preset=bad, action=GOOD), "utf-8")
    status = main(["--root", str(tmp_path), "-q", "validate"])
    err = capsys.readouterr().err.splitlines()
    assert status != 0
    column = len("    trigger: ") + bad.index(">=") + len(">=") + 1
    assert err[0] == (
        f"{FILE}:10:{column}: error: presets[0].trigger: trigger syntax: put a space after '>='"
    )
    assert err[1] == '    hint: triggers look like: type = "track" and event = "Order Completed"'
