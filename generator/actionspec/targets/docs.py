"""A Markdown page per destination, in the layout of Segment's destination pages.

The page follows Segment's published destination pages (see the seeds in the shared folder):
Destination Info, Destination Settings, Available Presets, Available Actions (one field table
per action) and a closing Settings table. It adds what the spec knows beyond them: each
action's request and default mapping, limits, the accepted calls that run no action, the
spec's notes and its worked examples. Secret setting values never appear on the page.

Every table cell goes through the `md` filter (in the template); this module prepares the
values (plain text, HTML `<` escaped) and everything that is not a simple substitution.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from actionspec import hooks as hooks_module
from actionspec import ir
from actionspec.languages import triggers
from actionspec.targets.render import render

MESSAGE_TYPES = ("track", "identify", "page", "screen", "group", "alias")
_SPEC_LINKS = "/docs/segment/connections/spec/"
_MASK = "***"


def text(value: Any) -> str:
    """Spec text as plain Markdown text: raw HTML cannot open (`<` becomes `&lt;`)."""
    return str(value).replace("<", "&lt;")


def one_line(value: Any) -> str:
    return " ".join(text(value).split())


def code(value: Any) -> str:
    """An inline code span for any text (a fence longer than any backtick run inside it)."""
    body = " ".join(str(value).split())
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * (longest + 1)
    if body.startswith("`") or body.endswith("`") or not body:
        body = f" {body} "
    return f"{fence}{body}{fence}"


def code_block(value: str, language: str = "") -> str:
    longest = max((len(run) for run in re.findall(r"`{3,}", value)), default=2)
    fence = "`" * (longest + 1)
    return f"{fence}{language}\n{value}\n{fence}"


def json_block(value: Any) -> str:
    return code_block(json.dumps(value, indent=2, ensure_ascii=False), "json")


def compact_json_block(value: dict[str, Any]) -> str:
    """A JSON object with one line per key: a mapping at a glance."""
    lines = [
        f"  {json.dumps(k, ensure_ascii=False)}: {json.dumps(v, ensure_ascii=False)}"
        for k, v in value.items()
    ]
    return code_block("{\n" + ",\n".join(lines) + "\n}", "json")


def anchor(action: ir.Action) -> str:
    return "action-" + action.name.replace("_", "-")


def _type_values(trigger: triggers.Trigger) -> set[str]:
    """The message types an event matching `trigger` may have (an over-approximation)."""
    everything = set(MESSAGE_TYPES)
    if isinstance(trigger, triggers.And):
        found = everything
        for term in trigger.terms:
            found = found & _type_values(term)
        return found
    if isinstance(trigger, triggers.Or):
        union: set[str] = set()
        for term in trigger.terms:
            union |= _type_values(term)
        return union
    if (
        isinstance(trigger, triggers.Comparison)
        and trigger.path.parts == ("type",)
        and isinstance(trigger.value, triggers.String)
    ):
        if trigger.op == "=":
            return {trigger.value.value} & everything
        if trigger.op == "!=":
            return everything - {trigger.value.value}
    return everything


def _parsed(trigger: str) -> triggers.Trigger | None:
    try:
        return triggers.parse(trigger)
    except (triggers.TriggerSyntaxError, ValueError):
        return None


def matched_types(trigger: str) -> set[str]:
    parsed = _parsed(trigger)
    return set(MESSAGE_TYPES) if parsed is None else _type_values(parsed)


def trigger_cell(trigger: str) -> str:
    """`Event type = "track"` for a plain type trigger (as Segment's pages), else the FQL."""
    parsed = _parsed(trigger)
    if (
        isinstance(parsed, triggers.Comparison)
        and parsed.path.parts == ("type",)
        and parsed.op == "="
        and isinstance(parsed.value, triggers.String)
        and re.fullmatch(r"[A-Za-z_]+", parsed.value.value)
    ):
        return f'Event type = "{parsed.value.value}"'
    return code(trigger)


def mask(value: Any, secrets: frozenset[str]) -> Any:
    """`value` with every secret string (and any text containing one) masked."""
    if isinstance(value, dict):
        return {k: mask(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v, secrets) for v in value]
    if isinstance(value, str):
        for secret in sorted(secrets, key=len, reverse=True):
            value = value.replace(secret, _MASK)
    return value


def _field_rows(fields: tuple[ir.Field, ...], prefix: str = "") -> list[dict[str, str]]:
    rows = []
    for field in fields:
        kind = field.type.upper()
        if field.multiple:
            kind += " (list)"
        label = f"{prefix}{one_line(field.label)}"
        rows.append(
            {
                "field": label,
                "description": text(field.description),
                "required": "Yes" if field.required else "No",
                "type": kind,
            }
        )
        rows.extend(_field_rows(field.properties, f"{label} \u203a "))
    return rows


def _support_link(support: str) -> str:
    if "@" in support and ":" not in support:
        return f"mailto:{support}"
    return support


def _maintainer(owner: dict[str, Any]) -> str | None:
    maintainer = owner.get("maintainer")
    support = owner.get("support")
    sentences = []
    if maintainer:
        sentences.append(f"This destination is maintained by {one_line(maintainer)}.")
    if support:
        team = f"the {one_line(maintainer)} Support team" if maintainer else "the support team"
        link = _support_link(str(support)).replace(" ", "%20").replace(")", "%29")
        sentences.append(f"For any issues with the destination, [contact {team}]({link}).")
    return " ".join(sentences) or None


def _body_description(action_key: str, body: Any, has_body: bool) -> tuple[str, str | None]:
    """A sentence about the request body, and the body mapping as a code block if needed."""
    if not has_body:
        return "The request has no body.", None
    if body == {"@path": "$.payload"}:
        return "The body is the payload (the fields below) as JSON.", None
    merge = body.get("@merge") if isinstance(body, dict) and len(body) == 1 else None
    if isinstance(merge, dict) and merge.get("direction", "right") == "right":
        objects = merge.get("objects", [])
        if (
            objects
            and objects[0] == {"@path": "$.payload"}
            and all(
                isinstance(o, dict) and not any(str(k).startswith("@") for k in o)
                for o in objects[1:]
            )
        ):
            constants: dict[str, Any] = {}
            for extra in objects[1:]:
                constants.update(extra)
            if all(not isinstance(v, dict | list) for v in constants.values()):
                added = ", ".join(
                    f"{code(k)}: {code(json.dumps(v, ensure_ascii=False))}"
                    for k, v in constants.items()
                )
                if added:
                    return f"The body is the payload as JSON, with {added} added.", None
                return "The body is the payload (the fields below) as JSON.", None
    return "The body is built by this mapping:", json_block(body)


def _examples(dest: ir.Destination) -> list[dict[str, Any]]:
    secret_keys = set(dest.secret_settings)
    shown = []
    for example in dest.examples:
        secrets = frozenset(
            str(v) for k, v in example.settings.items() if k in secret_keys and v not in (None, "")
        )
        settings = {k: (_MASK if k in secret_keys else v) for k, v in example.settings.items()}
        if example.action:
            title = (
                dest.action(example.action).title
                if any(a.key == example.action for a in dest.actions)
                else example.action
            )
            runs = f"Runs the **{one_line(title)}** action with its default mapping."
        else:
            runs = "The event goes through the presets."
        shown.append(
            {
                "summary": html.escape(" ".join(str(example.name).split())),
                "runs": runs,
                "event": json_block(mask(example.event, secrets)),
                "settings": json_block(settings),
                "requests": None
                if example.requests is None
                else json_block(mask(example.requests, secrets)),
                "no_requests": example.requests == [],
                "error": None
                if example.error is None
                else json_block(mask(example.error, secrets)),
            }
        )
    return shown


def _limits(dest: ir.Destination) -> list[str]:
    limits = dest.limits
    raw = dest.raw.get("limits", {})
    lines = []
    if limits.rate_requests is not None and limits.rate_per_seconds is not None:
        per = f"{limits.rate_per_seconds:g}"
        lines.append(f"At most {limits.rate_requests} requests every {per} seconds.")
    if limits.concurrency is not None:
        lines.append(f"At most {limits.concurrency} requests in flight at once.")
    if limits.batch_size is not None:
        lines.append(f"At most {limits.batch_size} records in one request.")
    batched = [a for a in dest.actions if a.batch_size is not None]
    for action in batched:
        unit = "records" if action.batch_merge else "payloads"
        lines.append(
            f"{one_line(action.title)} sends up to {action.batch_size} {unit} per request."
        )
    if lines or "timeout_seconds" in raw:
        lines.append(f"Requests time out after {limits.timeout_seconds:g} seconds.")
    return lines


def _settings_condition(dest: ir.Destination, condition: dict[str, Any]) -> str:
    """`Presets` is `cloud_mode`: a settings condition in words, by setting label."""
    labels = {s.key: s.label for s in dest.settings}
    return " and ".join(
        f"{one_line(labels.get(k, k))} ({code(k)}) is {code(json.dumps(v, ensure_ascii=False))}"
        for k, v in condition.items()
    )


def _requirement(dest: ir.Destination, requirement: ir.Requirement) -> str:
    """One settings-dependent payload check in words."""
    joined = (" or " if requirement.any else " and ").join(code(f) for f in requirement.fields)
    rule = f"{joined} must be present"
    if requirement.any and len(requirement.fields) > 1:
        rule = f"at least one of {joined} must be present"
    when = requirement.when_settings
    sentence = f"When {_settings_condition(dest, when)}, {rule}" if when else rule
    why = one_line(requirement.description)
    return f"{sentence[:1].upper()}{sentence[1:]}.{f' {why}' if why else ''}"


def context(dest: ir.Destination) -> dict[str, Any]:
    """Everything the template shows, prepared."""
    handled: set[str] = set()
    for preset in dest.presets:
        handled |= matched_types(preset.trigger)
    settings_rows = [
        {
            "field": one_line(s.label),
            "description": text(s.description),
            "required": "Yes" if s.required else "No",
            "type": s.type,
        }
        for s in dest.settings
    ]
    titles = {a.key: a.title for a in dest.actions}
    presets = [
        {
            "name": one_line(p.name),
            "trigger": trigger_cell(p.trigger),
            "action": one_line(titles.get(p.action, p.action)),
            "mapping": compact_json_block(p.mapping)
            if p.mapping != dest.action(p.action).default_mapping()
            else None,
        }
        for p in dest.presets
    ]
    # Presets that run only under some settings, grouped by the condition.
    conditional: dict[str, list[str]] = {}
    for p in dest.presets:
        if p.when_settings:
            condition = _settings_condition(dest, p.when_settings)
            conditional.setdefault(condition, []).append(one_line(p.name))
    actions = []
    for action in dest.actions:
        request = action.request
        sentence, block = _body_description(action.key, request.body, request.has_body)
        actions.append(
            {
                "anchor": anchor(action),
                "title": one_line(action.title),
                "description": text(action.description.strip()),
                "trigger": code(action.trigger) if action.trigger else None,
                "rows": _field_rows(action.fields),
                "request": code(f"{request.method} {request.url}"),
                "headers": [f"{code(k)}: {code(v)}" for k, v in request.headers.items()],
                "body": sentence,
                "body_block": block,
                "requirements": [_requirement(dest, r) for r in action.requirements],
                "hooks": [
                    f"{code(point)} ({code(hooks_module.function_name(action, point) + '()')} in "
                    f"{code(hooks_module.hooks_path(Path(dest.source)).as_posix())}): "
                    f"{text(description.strip())}"
                    for point, description in action.hooks.items()
                ],
                "batch": None
                if action.batch_size is None
                else {
                    "size": action.batch_size,
                    "merge": code(action.batch_merge) if action.batch_merge else None,
                    "body": json_block(action.batch_body)
                    if action.batch_body is not None
                    else None,
                },
                "mapping": compact_json_block(action.default_mapping())
                if action.default_mapping()
                else None,
            }
        )
    accepts = [f"[{t.capitalize()}]({_SPEC_LINKS}{t})" for t in dest.accepts]
    return {
        "banner": f"<!-- Generated by actionspec from {dest.source.replace('--', '-')}; do not edit. -->",
        "name": one_line(dest.name),
        "accepts": ", ".join(accepts),
        "integration_name": one_line(dest.integration_name) if dest.integration_name else None,
        "partner_owned": dest.owner.get("partner_owned") is True,
        "description": text(dest.description),
        "maintainer": _maintainer(dest.owner),
        "settings": settings_rows,
        "presets": presets,
        "conditional_presets": list(conditional.items()),
        "max_mappings": dest.limits.max_mappings,
        "actions": actions,
        "limits": _limits(dest),
        "unhandled": [t.capitalize() for t in dest.accepts if t not in handled],
        "notes": [(one_line(title), body.strip()) for title, body in dest.notes],
        "examples": _examples(dest),
    }


def page(dest: ir.Destination) -> str:
    rendered = render("docs.md.jinja", **context(dest))
    return re.sub(r"\n{3,}", "\n\n", rendered).rstrip("\n") + "\n"


def generate(dest: ir.Destination) -> dict[str, str]:
    return {f"docs/{dest.slug}.md": page(dest)}
