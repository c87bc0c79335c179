"""`actionspec accelerate`: the mypyc-compiled package does exactly what the Python one does.

The committed package is compiled once per session (about 25 s) into a temporary folder. A child
process imports the compiled package, checks that its hot modules really are C extensions, and
writes what every catalog action and `route` give for a corpus of events (analytics.js shapes,
odd values included) under several settings, from the decoded event and, through `run_json` and
`route_json`, from its JSON: requests with secrets masked and revealed, or the error. A second
child does the same with the Python package; the two must be equal, line by line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from actionspec import accelerate

REPO = Path(__file__).resolve().parents[1]

COMPILER = (sysconfig.get_config_var("CC") or "cc").split()[0]  # the one Python was built with
pytestmark = pytest.mark.skipif(shutil.which(COMPILER) is None, reason="mypyc needs a C compiler")

# The child's work, run with either package first on sys.path.
OUTCOMES = r"""
import json, sys
sys.path.insert(0, sys.argv[1])  # bench/: the corpus of bench/run.py
import destinations
from run import corpus
from destinations._runtime.payload import PayloadValidationError

SETTINGS = {
    "clay": [{"connection_key": "ck/?#", "secret_key": "sk_1"}],
    "loops": [{"apiKey": "loops_key"}],
    "clevertap": [
        {"clevertapAccountId": "ACC", "clevertapPasscode": "PASS"},
        {"clevertapAccountId": "ACC", "clevertapPasscode": "PASS", "identityPolicy": "both"},
    ],
}
bound = {slug: [destinations.get(slug).bind(s) for s in ss] for slug, ss in SETTINGS.items()}
compiled = sorted(
    name for name, module in sys.modules.items()
    if name.startswith("destinations.") and not str(getattr(module, "__file__", "")).endswith(".py")
    and getattr(module, "__file__", None)
)
print(json.dumps({"compiled": compiled}))
for dest, action, raw in corpus(int(sys.argv[2]), seed=11):
    event = json.loads(raw)
    for b in bound[dest.slug]:
        for run in (
            lambda: b.run(action, event),
            lambda: b.route(event),
            lambda: b.run_json(action, raw),
            lambda: b.route_json(raw),
        ):
            try:
                requests = run()
                line = [[r.to_dict(), r.to_dict(reveal_secrets=True), repr(r)] for r in requests]
            except PayloadValidationError as exc:
                line = {"error": exc.message, "field": exc.field}
            print(json.dumps(line, sort_keys=False))
"""


def outcomes(path: Path, events: int) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", OUTCOMES, str(REPO / "bench"), str(events)],
        env={**os.environ, "PYTHONPATH": str(path)},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.splitlines()  # compared as text: values and key order


@pytest.fixture(scope="session")
def accelerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("accelerated")
    return accelerate.accelerate(REPO / "generated" / "destinations", out)


def test_compiled_package_gives_what_the_python_package_gives(accelerated: Path) -> None:
    fast = outcomes(accelerated, 1_500)
    slow = outcomes(REPO / "generated", 1_500)
    hot = {f"destinations._runtime.{m}" for m in accelerate.RUNTIME_MODULES}
    dests = {"destinations.clay", "destinations.loops", "destinations.clevertap"}
    assert hot | dests <= set(json.loads(fast[0])["compiled"])
    assert json.loads(slow[0])["compiled"] == []
    assert len(fast) == len(slow) > 8_000
    errors = 0
    for got, expected in zip(fast[1:], slow[1:], strict=True):
        assert got == expected
        errors += expected.startswith('{"error"')
    assert errors > 100  # odd events take the error paths too


def test_modules_lists_the_runtime_and_every_destination() -> None:
    found = accelerate.modules(REPO / "generated" / "destinations")
    names = {str(p) for p in found}
    assert "destinations/_runtime/mapping.py" in names
    assert {"destinations/clay/__init__.py", "destinations/loops/__init__.py"} <= names


def test_a_folder_that_is_not_a_generated_package_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    with pytest.raises(accelerate.AccelerateError, match="not a generated package"):
        accelerate.accelerate(tmp_path / "pkg", tmp_path / "out")


def test_an_output_folder_that_would_overwrite_the_package_is_refused(tmp_path: Path) -> None:
    package = tmp_path / "generated" / "destinations"  # refused before its files are read
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", "utf-8")
    for out in (tmp_path / "generated", package, package / "inside"):
        with pytest.raises(accelerate.AccelerateError, match="would overwrite the package"):
            accelerate.accelerate(package, out)
    assert (package / "__init__.py").is_file()  # nothing was removed
