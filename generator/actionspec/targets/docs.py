"""A Markdown page per destination, in the layout of Segment's destination pages."""

from __future__ import annotations

from actionspec import ir
from actionspec.targets.render import render


def generate(dest: ir.Destination) -> dict[str, str]:
    return {f"docs/{dest.slug}.md": render("docs.md.jinja", dest=dest)}
