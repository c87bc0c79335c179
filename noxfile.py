"""Developer tasks. `nox` runs the default set: lint, typecheck, drift, tests.

nox -s generate            regenerate generated/ from specs/
nox -s generate -- --check fail (naming the files) when generated/ is stale
nox -s build               wheels and sdists of actionspec and the generated package
nox -s bench               speed figures (not part of the default run)
nox -s fuzz                the property tests with fresh random draws (20x the contract's)
"""

from __future__ import annotations

import os

import nox

nox.options.sessions = ["lint", "typecheck", "drift", "tests"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = False

PYTHON = "3.11"
GENERATED = "generated"


def install_toolkit(session: nox.Session, *extras: str) -> None:
    spec = f".[{','.join(extras)}]" if extras else "."
    session.install("-e", spec)


@nox.session(python=PYTHON)
def generate(session: nox.Session) -> None:
    """Regenerate the package from the specs (`-- --check` only checks)."""
    install_toolkit(session)
    session.run("actionspec", "generate", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff check and format check, on the toolkit, the tests and the generated package."""
    session.install("ruff==0.17.5")
    session.run("ruff", "check", "generator", "tests", "noxfile.py")
    session.run("ruff", "format", "--check", "generator", "tests", "noxfile.py")
    with session.chdir(GENERATED):  # the generated package lints with its own pyproject
        session.run("ruff", "check", ".")
        session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the toolkit and on the generated package."""
    install_toolkit(session, "dev")
    session.run("mypy", "--strict", "generator/actionspec")
    with session.chdir(GENERATED):
        session.run("mypy", "--strict", "destinations")


@nox.session(python=PYTHON)
def drift(session: nox.Session) -> None:
    """Regenerate, then fail if anything in the work tree changed (generated/ must be fresh)."""
    install_toolkit(session)
    session.run("actionspec", "generate")
    status = session.run("git", "status", "--porcelain", external=True, silent=True)
    if status and str(status).strip():
        session.error(f"generated/ is stale or the tree is dirty after regenerating:\n{status}")


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The whole test suite, against the committed generated package."""
    install_for_tests(session)
    session.run("pytest", *session.posargs)


def install_for_tests(session: nox.Session) -> None:
    install_toolkit(session, "test")
    session.install("-e", f"{GENERATED}[serve]")  # serve: the delivery runtime's dependencies


@nox.session(python=PYTHON)
def build(session: nox.Session) -> None:
    """Wheel and sdist of both distributions, checked with twine."""
    session.install("build", "twine")
    session.run("python", "-m", "build", "--outdir", "dist/actionspec", ".")
    session.run("python", "-m", "build", "--outdir", "dist/generated", GENERATED)
    session.run("twine", "check", "--strict", "dist/actionspec/*", "dist/generated/*")


# The test files with property tests (hypothesis, schemathesis), but the JetStream cluster's.
# (Not `-m hypothesis`: properties that draw inside a test, as the contract's do, lack the mark.)
PROPERTY_TESTS = [
    "tests/contract",
    "tests/delivery/test_batching.py",
    "tests/delivery/test_queue_retry.py",
    "tests/delivery/test_trigger_runtime.py",
    "tests/test_audiences.py",
    "tests/test_catalog_clevertap.py",
    "tests/test_catalog_loops.py",
    "tests/test_event_json.py",
    "tests/test_mapping_directives.py",
    "tests/test_mapping_properties.py",
    "tests/test_payload_compiled.py",
    "tests/test_runtime_payload.py",
    "tests/test_runtime_request_fast_path.py",
    "tests/test_service_schemathesis.py",
    "tests/test_triggers.py",
    "tests/test_triggers_properties.py",
]


@nox.session(python=PYTHON, default=False)
def fuzz(session: nox.Session) -> None:
    """Explore: the suite's property tests draw fixed examples; this draws fresh ones (a new
    seed each run, printed by hypothesis on failure) and 1,200 per contract property.
    `nox -s fuzz -- tests/contract -x` narrows it."""
    install_for_tests(session)
    session.env["ACTIONSPEC_EXPLORE"] = "1"
    if "ACTIONSPEC_CONTRACT_EXAMPLES" not in os.environ:  # (else nox passes it on)
        session.env["ACTIONSPEC_CONTRACT_EXAMPLES"] = "1200"
    session.run("pytest", "-q", "-p", "no:cacheprovider", *(session.posargs or PROPERTY_TESTS))


@nox.session(python=PYTHON, default=False)
def bench(session: nox.Session) -> None:
    """Speed figures, as ratios against baselines measured in the same run."""
    install_for_tests(session)
    session.run("python", "bench/run.py", *session.posargs)
