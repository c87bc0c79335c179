"""Coverage by construction: a new spec gets the whole contract suite with no new test code.

A small destination spec is written into a temporary folder, and this very suite runs on it in
a child pytest (ACTIONSPEC_CONTRACT_SPECS / _ONLY); so does a copy whose mappings were broken
the two usual ways, a mistyped path and a wrong field type, which must fail.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import REPO
from contract.matrix import PROPERTIES

ACME = """\
spec_version: 1
name: Acme CRM
slug: acme
description: A destination written for this test.
accepts: [track, identify]
settings:
  api_key: {label: API Key, type: password, required: true}
  region:
    label: Region
    type: select
    choices: [eu, us]
    default: eu
base_url: https://{{settings.region}}.acme.example
authentication:
  scheme: custom
  headers: {Authorization: "Bearer {{settings.api_key}}"}
presets:
  - {name: Tracks, trigger: type = "track", action: trackEvent}
  - {name: Identifies, trigger: type = "identify", action: upsertContact}
actions:
  trackEvent:
    title: Track Event
    description: Sends an event.
    trigger: type = "track"
    fields:
      name: {label: Event, type: string, required: true, default: {"@path": "$.event"}}
      ip: {label: IP, type: string, format: ipv4, required: true, default: {"@path": "$.context.ip"}}
      count: {label: Count, type: integer, default: {"@path": "$.properties.count"}}
      at: {label: At, type: datetime, default: {"@path": "$.timestamp"}}
      data: {label: Data, type: object, default: {"@path": "$.properties"}}
    request:
      method: POST
      path: /events
      body: {"@merge": {objects: [{"@path": "$.payload"}, {kind: event}]}}
    invariants:
      - {description: at most a few data keys, in: body, path: $.data, keys: lower_case}
  upsertContact:
    title: Upsert Contact
    description: Creates or updates a contact.
    trigger: type = "identify"
    fields:
      userId: {label: User ID, type: string, required: true, default: {"@path": "$.userId"}}
      email: {label: Email, type: string, format: email, default: {"@path": "$.traits.email"}}
      plan: {label: Plan, type: string, choices: [free, pro], default: {"@path": "$.traits.plan"}}
    request:
      method: PUT
      path: /contacts/{{payload.userId}}
      body: {"@path": "$.payload"}
"""
# The same spec, broken: a mistyped path for a required field, a field of the wrong type.
BROKEN = (
    ACME.replace("slug: acme", "slug: acme-broken")
    .replace('"$.context.ip"', '"$.context.ipp"')
    .replace("{label: User ID, type: string,", "{label: User ID, type: integer,")
)


def run_suite(tmp_path: Path, *specs: tuple[str, str]) -> subprocess.CompletedProcess[str]:
    folders = []
    for name, text in specs:
        folder = tmp_path / name
        folder.mkdir()
        (folder / f"{name}.yaml").write_text(text, "utf-8")
        folders.append(str(folder))
    env = {
        **os.environ,
        "ACTIONSPEC_CONTRACT_ONLY": "1",
        "ACTIONSPEC_CONTRACT_SPECS": os.pathsep.join(folders),
        "ACTIONSPEC_CONTRACT_EXAMPLES": "20",
    }
    command = [sys.executable, "-m", "pytest", "tests/contract/test_contract.py", "-q"]
    command += ["-p", "no:cacheprovider", "--tb=line"]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def matrix_rows(output: str, slug: str) -> dict[str, list[str]]:
    rows = {}
    for line in output.splitlines():
        cells = line.split()
        if cells and cells[0].endswith(f":{slug}"):
            rows[cells[1]] = cells[2:]
    return rows


def test_a_new_spec_is_covered_and_a_broken_one_fails(tmp_path: Path) -> None:
    result = run_suite(tmp_path, ("acme", ACME), ("broken", BROKEN))
    output = result.stdout
    assert result.returncode == 1, output[-3000:]

    # The new spec: every property ran on every action, and passed.
    rows = matrix_rows(output, "acme")
    assert set(rows) == {"trackEvent", "upsertContact", "*"}, output[-3000:]
    invariants = PROPERTIES.index("invariants")
    for action in ("trackEvent", "upsertContact"):
        for prop, cell in zip(PROPERTIES, rows[action], strict=True):
            if prop == "invariants" and action == "upsertContact":
                assert cell == "-"  # it declares none
            elif prop == "presets":  # counts the events that matched this action's preset
                assert re.fullmatch(r"\d+/\d+", cell), (action, prop, rows[action])
            else:
                assert re.fullmatch(r"[1-9]\d*/\d+", cell), (action, prop, rows[action])
    assert rows["trackEvent"][invariants] != "-"
    failed = re.findall(r"^FAILED (\S+)", output, re.M)
    assert failed and all("acme-broken" in name for name in failed), failed

    # The broken copy: both mistakes are caught, each by name.
    assert "test_realistic_events_are_accepted[extra2:acme-broken/trackEvent]" in output
    assert "did you mean 'ip'?" in output
    assert "test_realistic_events_are_accepted[extra2:acme-broken/upsertContact]" in output
    assert "User ID must be an integer" in output
