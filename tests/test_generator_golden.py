"""The kitchen sink spec: golden output, lint/format/type checks, injection safety, banners."""

from __future__ import annotations

import difflib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import KITCHEN_SINK_PACKAGE, KITCHEN_SINK_SPECS, generate_into
from update_golden import GOLDEN, golden_files, golden_view, render_golden

INJECTION = '"); import os; os.system("echo pwned"); ("'
INJECTION_2 = '\'\'\'"""\\"); open("pwned.marker", "w"); ("\n</script>'
SPEC_SOURCE = "tests/specs/kitchen_sink/kitchen_sink.yaml"
SLUG = "kitchen-sink"


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    return render_golden()


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(
        (KITCHEN_SINK_SPECS / "kitchen_sink.yaml").read_text("utf-8")
    )
    return data


# --- golden tree ---------------------------------------------------------------------------------


def test_golden_file_set(rendered: dict[str, str]) -> None:
    committed, expected = set(golden_files()), set(golden_view(rendered))
    missing, extra = sorted(expected - committed), sorted(committed - expected)
    assert not missing and not extra, (
        f"golden tree {GOLDEN} is out of date: not committed {missing}, no longer generated {extra}."
        "\nIf the change is intended, run `python tests/update_golden.py` and review the diff."
    )


def test_golden_files_byte_for_byte(rendered: dict[str, str]) -> None:
    committed = golden_files()
    rendered = golden_view(rendered)
    diffs = []
    for name in sorted(set(rendered) & set(committed)):
        expected, actual = committed[name], rendered[name].encode("utf-8")
        if expected != actual:
            diffs.append(
                "".join(
                    difflib.unified_diff(
                        expected.decode("utf-8", "replace").splitlines(keepends=True),
                        actual.decode("utf-8").splitlines(keepends=True),
                        fromfile=f"golden/{name}",
                        tofile=f"generated/{name}",
                    )
                )
                or f"{name}: differs in bytes only (line endings or encoding?)\n"
            )
    assert not diffs, (
        f"{len(diffs)} generated file(s) differ from {GOLDEN}:\n\n"
        + "\n".join(diffs)
        + "\nIf the change is intended, run `python tests/update_golden.py` and review the diff."
    )


def test_golden_tree_covers_every_target(rendered: dict[str, str]) -> None:
    pkg = KITCHEN_SINK_PACKAGE
    for name in (
        "pyproject.toml",
        "README.md",
        f"docs/{SLUG}.md",
        f"{pkg}/__init__.py",
        f"{pkg}/py.typed",
        f"{pkg}/kitchen_sink/__init__.py",
        f"{pkg}/kitchen_sink/models.py",
        f"{pkg}/kitchen_sink/openapi.json",
        f"{pkg}/kitchen_sink/schemas/settings.json",
    ):
        assert name in rendered
    # One schema per action; colliding keys (fooBar, foo_bar) get distinct files.
    schemas = sorted(n for n in rendered if n.startswith(f"{pkg}/kitchen_sink/schemas/"))
    assert len(schemas) == 1 + 7
    assert f"{pkg}/kitchen_sink/schemas/foo_bar.json" in schemas
    assert f"{pkg}/kitchen_sink/schemas/foo_bar_2.json" in schemas


# --- the generated code passes its own linters and mypy --strict -------------------------------


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RUFF_NO_CACHE": "true", "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_ruff_check_passes(kitchen_sink_out: Path) -> None:
    result = _run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], kitchen_sink_out)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_check_passes(kitchen_sink_out: Path) -> None:
    result = _run(
        [sys.executable, "-m", "ruff", "format", "--check", "--no-cache", "."], kitchen_sink_out
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def mypy_result(
    kitchen_sink_out: Path, tmp_path_factory: pytest.TempPathFactory
) -> subprocess.CompletedProcess[str]:
    """mypy --strict once per session (it is the slow check)."""
    cache = tmp_path_factory.mktemp("mypy-cache")
    return _run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--cache-dir",
            str(cache),
            "--no-error-summary",
            KITCHEN_SINK_PACKAGE,
        ],
        kitchen_sink_out,
    )


def test_mypy_strict_passes(mypy_result: subprocess.CompletedProcess[str]) -> None:
    assert mypy_result.returncode == 0, mypy_result.stdout + mypy_result.stderr


# --- hostile text stays data ---------------------------------------------------------------------


def test_injection_never_executes(
    kitchen_sink_out: Path, tmp_path: Path, spec: dict[str, Any]
) -> None:
    """Import the package and run every example in a fresh interpreter with cwd=tmp_path."""
    package = tmp_path / "pkg"
    shutil.copytree(kitchen_sink_out, package)
    script = f"""
import json, sys
sys.path.insert(0, {str(package)!r})
import {KITCHEN_SINK_PACKAGE} as pkg
dest = pkg.get({SLUG!r})
examples = json.loads(sys.stdin.read())
for example in examples:
    try:
        if "action" in example:
            dest.actions[example["action"]].requests(example["event"], example["settings"])
        else:
            dest.route(example["event"], example["settings"])
    except pkg.DestinationError:
        pass
    except ValueError:
        pass
import {KITCHEN_SINK_PACKAGE}.kitchen_sink.models
print("done")
"""
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        input=json.dumps(spec["examples"]),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "done\n", result.stdout
    assert "pwned" not in result.stderr
    assert not (tmp_path / "pwned.marker").exists()
    assert not list(tmp_path.rglob("pwned.marker"))


def test_injection_round_trips_as_data(kitchen_sink_out: Path, import_generated: Any) -> None:
    pkg = import_generated(kitchen_sink_out, KITCHEN_SINK_PACKAGE)
    dest = pkg.get(SLUG)
    action = dest.actions["class"]
    payload = action.payload({"type": "track", "properties": {"from": "x"}})
    assert payload["injected"] == INJECTION
    assert payload["injected2"] == INJECTION_2
    assert INJECTION in action.description
    assert '"""triple"""' in action.description and "back\\slash \\n" in action.description
    assert action.title == 'Class """Action""" \\ </script>'
    # The preset's literal reaches the URL percent-encoded, and the body as is.
    [request] = dest.route(
        {"type": "track", "event": "E", "properties": {"from": "y"}},
        {"api_key": "k", "region": "us"},
    )
    assert request.json["from"] == INJECTION
    assert request.url.endswith(
        "/events/main/%22%29%3B%20import%20os%3B%20os.system%28%22echo%20pwned%22%29%3B%20%28%22"
    )
    # The setting default holding the injection string is a plain default.
    token_style = next(s for s in dest.settings if s.key == "token_style")
    assert token_style.default == INJECTION
    preset = dest.presets[0]
    assert preset.name == 'Track "Calls" \'"""\' \\ </script>'


def test_schemas_and_openapi_keep_hostile_text(
    rendered: dict[str, str], spec: dict[str, Any]
) -> None:
    pkg = KITCHEN_SINK_PACKAGE
    schema = json.loads(rendered[f"{pkg}/kitchen_sink/schemas/class_.json"])
    fields = spec["actions"]["class"]["fields"]
    assert list(schema["properties"]) == list(fields)  # spec order, original keys
    assert schema["properties"]["from"]["description"] == fields["from"]["description"]
    assert schema["required"] == ["from"]
    openapi = json.loads(rendered[f"{pkg}/kitchen_sink/openapi.json"])
    assert any(INJECTION in text for text in _strings(openapi))
    assert spec["description"].strip() in _strings(openapi)


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in [*value, *value.values()] for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def test_docs_escape_script_tags(rendered: dict[str, str], spec: dict[str, Any]) -> None:
    """Markdown may be shown as HTML: outside code, spec text must not open or close tags."""
    page = rendered[f"docs/{SLUG}.md"]
    # Notes are Markdown written by the spec author and pass through as they are.
    for note in spec["notes"]:
        page = page.replace(note["body"].strip(), "")
    prose = re.sub(r"```.*?```", "", page, flags=re.DOTALL)
    prose = re.sub(r"`[^`\n]*`", "", prose)
    assert "&lt;/script>" in prose
    assert "<script" not in prose.lower() and "</script" not in prose.lower()
    assert 'os.system("echo pwned")' in prose  # shown as text, not dropped


# --- banners -------------------------------------------------------------------------------------


def _banner_problem(name: str, text: str) -> str | None:
    """Why `name` lacks its 'Generated by actionspec from <spec>' mark, or None."""
    runtime = name.startswith(f"{KITCHEN_SINK_PACKAGE}/_runtime/")
    if name.endswith(".json"):
        data = json.loads(text)
        # JSON Schemas carry the banner in "$comment"; OpenAPI allows only x- extensions there.
        comment = (
            data.get("$comment")
            or data.get("x-generated-by")
            or data.get("info", {}).get("x-generated-by", "")
        )
        marked = comment
    elif name.endswith((".py", ".md", ".toml")):
        marked = text
    else:
        return "a new kind of file: decide how it carries the banner, then extend this test"
    if "Generated by actionspec" not in marked:
        return "no 'Generated by actionspec'"
    # Files made from the toolkit itself name their source there: the copied runtime its
    # module, the spec reference the meta-schema.
    source = "actionspec/runtime/" if runtime else SPEC_SOURCE
    if name == "docs/spec-reference.md":
        source = "generator/actionspec/spec/metaschema.yaml"
    if source not in marked:
        return f"does not name {source}"
    return None


def test_every_generated_file_says_generated_and_names_its_spec(rendered: dict[str, str]) -> None:
    problems = {
        name: problem
        for name, text in sorted(rendered.items())
        if not name.endswith("py.typed") and (problem := _banner_problem(name, text))
    }
    assert not problems, f"generated files without a proper banner: {problems}"


def test_generated_package_imports_and_lists_the_destination(
    kitchen_sink_out: Path, import_generated: Any
) -> None:
    pkg = import_generated(kitchen_sink_out, KITCHEN_SINK_PACKAGE)
    assert pkg.catalog() == [SLUG]
    dest = pkg.get(SLUG)
    assert list(dest.actions) == ["class", "fooBar", "foo_bar", "__init__", "1st", "a-b", "Ünïcode"]
    assert [p.action for p in dest.presets] == ["class", "fooBar", "foo_bar"]
    assert {s.key for s in dest.settings if s.secret} == {"api_key"}


def test_generated_package_for_another_name_does_not_collide(
    tmp_path: Path, import_generated: Any
) -> None:
    out = generate_into(tmp_path, KITCHEN_SINK_SPECS, "kitchen_sink_other")
    pkg = import_generated(out, "kitchen_sink_other")
    assert pkg.__name__ == "kitchen_sink_other"
    assert pkg.get(SLUG).actions["class"].payload({"properties": {"from": "a"}})["from"] == "a"
    assert "kitchen_sink_other" in (out / "pyproject.toml").read_text("utf-8")


# --- the kitchen sink's worked examples hold ------------------------------------------------------


def _ordered(value: Any) -> Any:
    if isinstance(value, dict):
        return [("{}", [(k, _ordered(v)) for k, v in value.items()])]
    if isinstance(value, list):
        return [_ordered(v) for v in value]
    return value


def _example_params() -> list[Any]:
    data = yaml.safe_load((KITCHEN_SINK_SPECS / "kitchen_sink.yaml").read_text("utf-8"))
    return [pytest.param(e, id=e["name"]) for e in data["examples"]]


@pytest.mark.parametrize("example", _example_params())
def test_kitchen_sink_example(
    kitchen_sink_out: Path, import_generated: Any, example: dict[str, Any]
) -> None:
    pkg = import_generated(kitchen_sink_out, KITCHEN_SINK_PACKAGE)
    dest = pkg.get(SLUG)

    def run() -> list[Any]:
        if "action" in example:
            return list(
                dest.action(example["action"]).requests(example["event"], example["settings"])
            )
        return list(dest.route(example["event"], example["settings"]))

    if "error" in example:
        with pytest.raises((pkg.DestinationError, pkg.PayloadValidationError)) as caught:
            run()
        expected = example["error"]
        assert type(caught.value).__name__ == expected["type"]
        if "field" in expected:
            assert caught.value.field == expected["field"]
        return
    actual = run()
    assert len(actual) == len(example["requests"]), [r.to_dict() for r in actual]
    for got, want in zip(actual, example["requests"], strict=True):
        assert (got.method, got.url) == (want["method"], want["url"])
        if "action" in want:
            assert got.action == want["action"]
        headers = {k.lower(): v for k, v in got.headers.items()}
        for name, value in want.get("headers", {}).items():
            assert headers.get(name.lower()) == value, name
        if "json" in want:
            assert _ordered(got.json) == _ordered(want["json"])  # key order included
        else:
            assert got.json is None
