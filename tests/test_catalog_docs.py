"""The catalog as a whole: every action has worked examples, every page is linked, and the seed
pages' tables and rules for CleverTap and Loops are on the generated pages.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SEEDS = Path("/work/shared/seeds")
SPECS = sorted((ROOT / "specs").glob("*.yaml"))


def _spec(slug: str) -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "specs" / f"{slug}.yaml").read_text("utf-8")))


def _page(slug: str) -> str:
    return (ROOT / "generated" / "docs" / f"{slug}.md").read_text("utf-8")


def _plain(text: str) -> str:
    """Markdown text compared loosely: no escapes, emphasis, code marks or link targets."""
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"[\\*`\[\]]", "", text)
    return " ".join(text.split())


def _table_rows(markdown: str, header: str) -> list[list[str]]:
    """The rows of the first table whose header row starts with `| header`."""
    lines = [line.strip() for line in markdown.splitlines()]
    start = next(i for i, line in enumerate(lines) if re.match(rf"\|\s*{header}\s*\|", line))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_every_action_has_three_examples_one_an_error(path: Path) -> None:
    spec = yaml.safe_load(path.read_text("utf-8"))
    examples: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    for example in spec["examples"]:
        actions = {example["action"]} if "action" in example else set()
        actions |= {r["action"] for r in example.get("requests", []) if "action" in r}
        for action in actions:
            examples[action] += 1
            errors[action] += "error" in example
    for action in spec["actions"]:
        assert examples[action] >= 3, f"{action}: {examples[action]} examples"
        assert errors[action] >= 1, f"{action}: no example of an expected error"


def test_readme_links_every_page() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    for path in SPECS:
        slug = _spec(path.stem)["slug"]
        assert f"(generated/docs/{slug}.md)" in readme, slug
        assert (ROOT / "generated" / "docs" / f"{slug}.md").is_file()


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the shared seed pages are not here")
def test_clevertap_page_has_the_seed_settings_table() -> None:
    seed = (SEEDS / "clevertap-destination.md").read_text("utf-8")
    ours = {row[0]: row for row in _table_rows(_page("clevertap"), "Field")}
    for field, description, required, kind in _table_rows(seed, "Field"):
        assert field in ours, field
        _, our_description, our_required, our_kind = ours[field]
        assert (our_required, our_kind) == (required, kind), field
        # Ours may say more after the seed's words (e.g. which header carries the value).
        assert _plain(our_description).startswith(_plain(description).replace(":Add", ": Add"))


SPECIAL_TRAITS = {
    "name": "Name",
    "birthday": "DOB",
    "avatar": "Photo",
    "gender": "Gender",
    "phone": "Phone",
    "email": "Email",
}
CLEVERTAP_RULES = [
    *(f"`{trait}` to `{key}`" for trait, key in SPECIAL_TRAITS.items()),
    "lower-cased and snake_cased",
    "does not take nested objects or lists in event properties",
    "`Charged`",
    "`Web Page Viewed`",
    "`App Screen Viewed`",
    "`context.device.token`",
    "anonymous ID as the CleverTap ID",
    "both `anonymousId` and `userId` are required",
    "a user ID or an anonymous ID is enough",
    "up to 1,000 records",
    "at most 15 requests in flight",
    '`"status": "partial"`',
    "User Upload",
    "User Delete",
    "Event Name is Delete User",
    "Event Type is Identify",
]


@pytest.mark.parametrize("rule", CLEVERTAP_RULES)
def test_clevertap_page_states_the_seed_rules(rule: str) -> None:
    assert rule in " ".join(_page("clevertap").split())


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the shared seed pages are not here")
@pytest.mark.parametrize("slug", ["clevertap", "clay"])
def test_engage_section_reproduces_the_seed(slug: str) -> None:
    seed = (SEEDS / f"{slug}-destination.md").read_text("utf-8")
    section = seed.split("## Engage", 1)[1].split("\n## ", 1)[0]
    page = _plain(_page(slug).split("## Engage", 1)[1])
    for paragraph in section.strip().split("\n\n"):
        text = _plain(paragraph.replace(">", "")).replace("!NOTE", "").strip()
        text = text.replace(" To learn more about Engage, schedule a demo.", "")
        text = text.replace("CleverTap  may", "CleverTap may").replace("Clay  may", "Clay may")
        if text:
            assert text in page, text


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the shared seed pages are not here")
def test_loops_page_has_the_seed_clay_integration() -> None:
    seed = (SEEDS / "loops-clay-integration.md").read_text("utf-8")
    page = _page("loops")
    rows = _table_rows(seed, "Key")
    assert rows == _table_rows(page.split("## Using Loops with Clay", 1)[1], "Key")
    for fact in (
        "https://app.loops.so/api/v1/contacts/update",
        "https://app.loops.so/api/v1/events/send",
        "`contact.created`",
        "*Only run if*",
        "*Auto-update*",
    ):
        assert fact in page
        assert fact.strip("*`") in seed
