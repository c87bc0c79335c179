"""The `actionspec` command: new, validate, generate, generate --check."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from actionspec.cli import main
from conftest import CLAY_SPEC

PYPROJECT = """\
[project]
name = "acme-project"

[tool.actionspec]
specs = "specs"
output = "generated"
package = "cli_test_pkg"
distribution = "cli-test-pkg"
version = "0.1.0"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, "utf-8")
    return tmp_path


def run(project: Path, *args: str) -> int:
    return main(["--root", str(project), "-q", *args])


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# --- new -----------------------------------------------------------------------------------------


def test_new_scaffolds_a_spec_that_validates_and_generates(
    project: Path, capsys: pytest.CaptureFixture[str], import_generated: object
) -> None:
    assert run(project, "new", "Acme CRM") == 0
    spec = project / "specs" / "acme-crm.yaml"
    assert spec.is_file()
    assert f"created {spec}" in capsys.readouterr().out
    text = spec.read_text("utf-8")
    assert "name: Acme CRM" in text and "slug: acme-crm" in text
    assert run(project, "validate") == 0
    assert "ok  specs/acme-crm.yaml: Acme CRM (1 actions, 1 presets)" in capsys.readouterr().out
    assert run(project, "generate") == 0
    generated = project / "generated"
    assert (generated / "cli_test_pkg" / "acme_crm" / "__init__.py").is_file()
    assert (generated / "docs" / "acme-crm.md").is_file()
    # The scaffold's examples hold for the generated code.
    pkg = import_generated(generated, "cli_test_pkg")  # type: ignore[operator]
    dest = pkg.get("acme-crm")
    [request] = dest.actions["sendEvent"].requests(
        {"type": "track", "event": "Signed Up", "userId": "u1", "properties": {"plan": "pro"}},
        {"api_key": "k"},
    )
    assert (request.method, request.url) == ("POST", "https://api.example.com/v1/events")
    assert request.json == {"event": "Signed Up", "userId": "u1", "properties": {"plan": "pro"}}
    assert [r.action for r in dest.route({"type": "track", "event": "E"}, {"api_key": "k"})] == [
        "sendEvent"
    ]


def test_new_refuses_to_overwrite(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(project, "new", "Acme CRM") == 0
    spec = project / "specs" / "acme-crm.yaml"
    spec.write_text("# my edits\n", "utf-8")
    capsys.readouterr()
    assert run(project, "new", "Acme CRM") == 1
    err = capsys.readouterr().err
    assert "already exists; not overwritten" in err and "acme-crm.yaml" in err
    assert spec.read_text("utf-8") == "# my edits\n"


@pytest.mark.parametrize(
    ("name", "slug"),
    [("Acme CRM", "acme-crm"), ("HubSpot Cloud", "hub-spot-cloud"), ("Ünïcode Co.", "unicode-co")],
)
def test_new_derives_the_slug(project: Path, name: str, slug: str) -> None:
    assert run(project, "new", name) == 0
    assert (project / "specs" / f"{slug}.yaml").is_file()
    assert run(project, "validate") == 0


# --- generate / generate --check ------------------------------------------------------------------


@pytest.fixture
def generated(project: Path) -> Path:
    (project / "specs").mkdir()
    shutil.copy(CLAY_SPEC, project / "specs" / "clay.yaml")
    assert run(project, "generate") == 0
    return project / "generated"


def test_check_passes_on_a_fresh_tree(
    project: Path, generated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert run(project, "generate", "--check") == 0
    out = capsys.readouterr().out
    assert "generated/ is up to date" in out and "from 1 specs" in out


def test_check_names_an_edited_file(
    project: Path, generated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    models = generated / "cli_test_pkg" / "clay" / "models.py"
    models.write_text(models.read_text("utf-8") + "# hand edit\n", "utf-8")
    capsys.readouterr()
    assert run(project, "generate", "--check") == 1
    out = capsys.readouterr().out
    assert "generated/ is stale; `actionspec generate` would change 1 file(s):" in out
    assert "  changed  generated/cli_test_pkg/clay/models.py" in out
    assert models.read_text("utf-8").endswith("# hand edit\n")  # --check changes nothing


def test_check_names_a_stray_file(
    project: Path, generated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (generated / "cli_test_pkg" / "clay" / "stray.py").write_text("x = 1\n", "utf-8")
    capsys.readouterr()
    assert run(project, "generate", "--check") == 1
    assert "  removed  generated/cli_test_pkg/clay/stray.py" in capsys.readouterr().out
    assert (generated / "cli_test_pkg" / "clay" / "stray.py").exists()


def test_check_names_a_deleted_file(
    project: Path, generated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (generated / "docs" / "clay.md").unlink()
    capsys.readouterr()
    assert run(project, "generate", "--check") == 1
    assert "  new      generated/docs/clay.md" in capsys.readouterr().out


def test_check_ignores_caches(project: Path, generated: Path) -> None:
    for cache in ("__pycache__", ".mypy_cache", ".ruff_cache"):
        (generated / "cli_test_pkg" / cache).mkdir()
        (generated / "cli_test_pkg" / cache / "x.pyc").write_bytes(b"\0")
    assert run(project, "generate", "--check") == 0


def test_check_fails_after_a_spec_change(
    project: Path, generated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = project / "specs" / "clay.yaml"
    spec.write_text(
        spec.read_text("utf-8").replace(
            "description: Your Clay secret key", "description: Your Clay secret key (changed)"
        ),
        "utf-8",
    )
    capsys.readouterr()
    assert run(project, "generate", "--check") == 1
    out = capsys.readouterr().out
    assert "  changed  generated/docs/clay.md" in out
    assert run(project, "generate") == 0
    assert run(project, "generate", "--check") == 0


def test_generate_only_rewrites_changed_files(
    project: Path, generated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = 1_000_000_000  # 2001: any rewrite would give a newer mtime
    for path in generated.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(old * 10**9, old * 10**9))
    models = generated / "cli_test_pkg" / "clay" / "models.py"
    models.write_text("# broken\n", "utf-8")
    stray = generated / "cli_test_pkg" / "stray.txt"
    stray.write_text("x", "utf-8")
    before = _tree(generated)
    capsys.readouterr()
    assert run(project, "generate") == 0
    out = capsys.readouterr().out
    assert "  changed  generated/cli_test_pkg/clay/models.py" in out
    assert "  removed  generated/cli_test_pkg/stray.txt" in out
    assert "2 file(s) written" in out
    assert not stray.exists()
    after = _tree(generated)
    assert set(after) == set(before) - {"cli_test_pkg/stray.txt"}
    rewritten = sorted(
        name for name in after if (generated / name).stat().st_mtime_ns != old * 10**9
    )
    assert rewritten == ["cli_test_pkg/clay/models.py"]
    assert after["cli_test_pkg/clay/models.py"] != b"# broken\n"
    # A second run writes nothing at all.
    assert run(project, "generate") == 0
    assert "0 file(s) written" in capsys.readouterr().out


def test_generate_removes_folders_left_empty(project: Path, generated: Path) -> None:
    (project / "specs" / "clay.yaml").rename(project / "specs" / "clay2.yaml")
    spec = project / "specs" / "clay2.yaml"
    spec.write_text(spec.read_text("utf-8").replace("slug: clay", "slug: clay-two"), "utf-8")
    assert run(project, "generate") == 0
    assert not (generated / "cli_test_pkg" / "clay").exists()
    assert (generated / "cli_test_pkg" / "clay_two" / "__init__.py").is_file()


def test_validate_reports_each_spec(
    project: Path, generated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert run(project, "validate") == 0
    assert capsys.readouterr().out == "ok  specs/clay.yaml: Clay (2 actions, 2 presets)\n"
