"""Checking a spec: the meta-schema first, then cross references and the spec languages.

Every problem is collected with its `file:line:column`, what is wrong and what is allowed.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from importlib import resources
from typing import Any

import jsonschema
import yaml

from actionspec import ir
from actionspec.diagnostics import Diagnostics
from actionspec.languages import mapping as mapping_language
from actionspec.languages import triggers
from actionspec.runtime.mapping import TEMPLATE_SLOT, parse_path
from actionspec.spec.loader import LocatedDocument, PathKey

SECRET_NAME = re.compile(r"key|token|secret|password|passcode|code", re.IGNORECASE)
TEMPLATE_ROOTS = ("settings", "payload", "event")


@functools.cache
def metaschema() -> dict[str, Any]:
    text = resources.files("actionspec.spec").joinpath("metaschema.yaml").read_text("utf-8")
    schema: dict[str, Any] = yaml.safe_load(text)
    return schema


def dotted(path: PathKey) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "the document"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    names: dict[type, str] = {dict: "an object", list: "a list", str: "a string"}
    return names.get(type(value), type(value).__name__)


_TYPE_NAMES = {
    "object": "an object",
    "array": "a list",
    "string": "a string",
    "boolean": "a boolean",
    "integer": "an integer",
    "number": "a number",
    "null": "null",
}
_BOOLEAN_WORDS = {"yes", "no", "true", "false", "on", "off", "y", "n"}


def _schema_problem(
    error: jsonschema.ValidationError, doc: LocatedDocument, out: Diagnostics
) -> None:
    path: PathKey = tuple(error.absolute_path)
    where = dotted(path)
    validator = error.validator
    schema: dict[str, Any] = error.schema if isinstance(error.schema, dict) else {}
    if validator == "additionalProperties" and isinstance(error.instance, dict):
        known = sorted(schema.get("properties", {}))
        for key in error.instance:
            if key in known or not isinstance(schema.get("properties"), dict):
                continue
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"allowed keys: {', '.join(known)}"
            out.add(doc.locate((*path, key), key=True), f"unknown key '{key}' in {where}", hint)
        return
    if validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        name = missing[0] if missing else error.message
        out.add(doc.locate(path), f"{where} is missing the required key '{name}'")
        return
    if validator == "type":
        expected = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        expected_text = " or ".join(_TYPE_NAMES.get(t) or str(t) for t in expected)
        value = error.instance
        shown = (
            f" ({json.dumps(value, ensure_ascii=False)})"
            if isinstance(value, str | int | float)
            else ""
        )
        hint = ""
        if expected == ["boolean"] and isinstance(value, str) and value.lower() in _BOOLEAN_WORDS:
            hint = "write true or false, without quotes"
        elif isinstance(value, str) and set(expected) & {"integer", "number"}:
            hint = "write the number without quotes"
        out.add(
            doc.locate(path), f"{where} must be {expected_text}, not {_kind(value)}{shown}", hint
        )
        return
    if validator in ("minProperties", "minItems") and schema.get(validator) == 1:
        out.add(doc.locate(path), f"{where} is empty; it needs at least one entry")
        return
    if validator in ("enum", "const"):
        allowed = schema.get("enum", [schema.get("const")])
        out.add(
            doc.locate(path),
            f"{where} is {error.instance!r}, which is not allowed",
            f"allowed: {', '.join(repr(a) for a in allowed)}",
        )
        return
    if validator == "oneOf" and path and path[0] == "examples":
        out.add(doc.locate(path), f"{where} needs exactly one of 'requests' or 'error'")
        return
    if validator == "oneOf" and error.context:
        best = min(error.context, key=lambda e: len(list(e.absolute_path)))
        _schema_problem(best, doc, out)
        return
    if validator == "pattern" and path == ("slug",):
        out.add(
            doc.locate(path),
            f"slug {error.instance!r} is not allowed",
            "use lower case letters, digits, '_' and '-', starting with a letter",
        )
        return
    out.add(doc.locate(path), f"{where}: {error.message}")


def _check_mapping(value: Any, at: PathKey, doc: LocatedDocument, out: Diagnostics) -> None:
    def report(relative: PathKey, message: str, hint: str = "") -> None:
        where = (*at, *relative)
        out.add(doc.locate(where, key=bool(relative)), f"{dotted(where)}: {message}", hint)

    mapping_language.check(value, report)


def _check_trigger(text: str, at: PathKey, doc: LocatedDocument, out: Diagnostics) -> None:
    try:
        triggers.parse(text)
    except triggers.TriggerSyntaxError as exc:
        out.add(
            doc.locate_in_string(at, exc.offset),
            f"{dotted(at)}: trigger syntax: {exc.message}",
            'triggers look like: type = "track" and event = "Order Completed"',
        )


def _check_template(
    text: str, at: PathKey, doc: LocatedDocument, out: Diagnostics, names: dict[str, set[str]]
) -> None:
    for slot in TEMPLATE_SLOT.finditer(text):
        location = doc.locate_in_string(at, slot.start())
        try:
            parts = parse_path(slot.group(1))
        except ValueError as exc:
            out.add(location, f"{dotted(at)}: {exc}")
            continue
        root = parts[0] if parts else ""
        if root not in names:
            allowed = ", ".join(f"{{{{{r}.x}}}}" for r in names)
            out.add(
                location,
                f"{dotted(at)}: template slot {slot.group(0)} is not allowed here",
                f"allowed here: {allowed}",
            )
        elif names[root] and (len(parts) < 2 or parts[1] not in names[root]):
            name = parts[1] if len(parts) > 1 else ""
            close = difflib.get_close_matches(str(name), sorted(names[root]), n=1)
            out.add(
                location,
                f"{dotted(at)}: '{root}.{name}' does not exist",
                f"did you mean '{root}.{close[0]}'?"
                if close
                else f"known: {', '.join(sorted(names[root]))}",
            )


def _check_references(spec: dict[str, Any], doc: LocatedDocument, out: Diagnostics) -> None:
    settings: dict[str, Any] = spec.get("settings", {})
    actions: dict[str, Any] = spec.get("actions", {})
    setting_names = set(settings)
    base_scope = {"settings": setting_names}

    for key, setting in settings.items():
        at: PathKey = ("settings", key)
        if (
            SECRET_NAME.search(key)
            and setting["type"] != "password"
            and "not_secret_because" not in setting
        ):
            out.add(
                doc.locate((*at, "type")),
                f"setting '{key}' looks like a secret but its type is '{setting['type']}'",
                "make it type: password, or say why not in not_secret_because",
            )
        if setting["type"] == "select" and "choices" not in setting:
            out.add(doc.locate(at), f"select setting '{key}' has no choices", "add choices: [...]")
        if "choices" in setting and "default" in setting:
            values = [c["value"] if isinstance(c, dict) else c for c in setting["choices"]]
            if setting["default"] not in values:
                out.add(
                    doc.locate((*at, "default")),
                    f"default {setting['default']!r} of setting '{key}' is not one of its choices",
                    f"choices: {values}",
                )

    for name in ("base_url",):
        if isinstance(spec.get(name), str):
            _check_template(spec[name], (name,), doc, out, base_scope)
    for name, template in spec.get("headers", {}).items():
        _check_template(template, ("headers", name), doc, out, base_scope)
    auth = spec.get("authentication", {})
    for name, template in auth.get("headers", {}).items():
        _check_template(template, ("authentication", "headers", name), doc, out, base_scope)
    for part in ("username", "password"):
        if part in auth:
            _check_template(auth[part], ("authentication", part), doc, out, base_scope)
    if auth.get("scheme") == "basic" and not ("username" in auth and "password" in auth):
        out.add(doc.locate(("authentication",)), "basic authentication needs username and password")
    if "test" in auth:
        _check_request(auth["test"], ("authentication", "test"), spec, doc, out, base_scope)

    for action_key, action in actions.items():
        at = ("actions", action_key)
        if "trigger" in action:
            _check_trigger(action["trigger"], (*at, "trigger"), doc, out)
        _check_fields(action["fields"], (*at, "fields"), doc, out)
        scope = {"settings": setting_names, "payload": set(action["fields"]), "event": set()}
        _check_request(action["request"], (*at, "request"), spec, doc, out, scope)
        if "batch" in action and "body" in action["batch"]:
            _check_mapping(action["batch"]["body"], (*at, "batch", "body"), doc, out)
        for i, invariant in enumerate(action.get("invariants", [])):
            _check_invariant(invariant, (*at, "invariants", i), action["fields"], doc, out)
        for i, requirement in enumerate(action.get("requirements", [])):
            _check_requirement(requirement, (*at, "requirements", i), action, settings, doc, out)
        if {"merge", "body"} <= set(action.get("batch", {})):
            out.add(
                doc.locate((*at, "batch", "merge"), key=True),
                f"{dotted((*at, 'batch'))} has both 'merge' and 'body'",
                "merge concatenates the lists of the per-event bodies; body builds a new one",
            )

    for i, preset in enumerate(spec.get("presets", [])):
        at = ("presets", i)
        _check_trigger(preset["trigger"], (*at, "trigger"), doc, out)
        action = actions.get(preset["action"])
        if action is None:
            close = difflib.get_close_matches(preset["action"], sorted(actions), n=1)
            out.add(
                doc.locate((*at, "action")),
                f"preset '{preset['name']}' names the action "
                f"'{preset['action']}', which does not exist",
                f"did you mean '{close[0]}'?"
                if close
                else f"actions: {', '.join(sorted(actions))}",
            )
            continue
        for field_key, value in preset.get("mapping", {}).items():
            if field_key not in action["fields"]:
                close = difflib.get_close_matches(field_key, sorted(action["fields"]), n=1)
                out.add(
                    doc.locate((*at, "mapping", field_key), key=True),
                    f"preset '{preset['name']}' maps '{field_key}', which is not a field of "
                    f"action '{preset['action']}'",
                    f"did you mean '{close[0]}'?"
                    if close
                    else f"fields: {', '.join(action['fields'])}",
                )
            _check_mapping(value, (*at, "mapping", field_key), doc, out)
        if "when_settings" in preset:
            _check_settings_condition(
                preset["when_settings"], (*at, "when_settings"), settings, doc, out
            )

    if "on_delete" in spec:
        scope = {"settings": setting_names, "userId": set(), "anonymousId": set()}
        _check_request(spec["on_delete"], ("on_delete",), spec, doc, out, scope)

    for i, example in enumerate(spec.get("examples", [])):
        at = ("examples", i)
        if "action" in example and example["action"] not in actions:
            out.add(
                doc.locate((*at, "action")),
                f"example '{example['name']}' names the action "
                f"'{example['action']}', which does not exist",
                f"actions: {', '.join(sorted(actions))}",
            )
        for key in example["settings"]:
            if key not in settings:
                out.add(
                    doc.locate((*at, "settings", key), key=True),
                    f"example '{example['name']}' gives the unknown setting '{key}'",
                    f"settings: {', '.join(sorted(settings))}",
                )


def _check_request(
    request: dict[str, Any],
    at: PathKey,
    spec: dict[str, Any],
    doc: LocatedDocument,
    out: Diagnostics,
    scope: dict[str, set[str]],
) -> None:
    if ("path" in request) == ("url" in request):
        out.add(doc.locate(at), f"{dotted(at)} needs exactly one of 'path' or 'url'")
    if "path" in request and "base_url" not in spec:
        out.add(
            doc.locate((*at, "path")),
            f"{dotted(at)}.path needs a base_url in the spec",
            "add base_url, or give a full 'url' instead",
        )
    for part in ("path", "url"):
        if part in request:
            _check_template(request[part], (*at, part), doc, out, scope)
    for name, template in request.get("headers", {}).items():
        _check_template(template, (*at, "headers", name), doc, out, scope)
    if "body" in request:
        _check_mapping(request["body"], (*at, "body"), doc, out)


def _check_invariant(
    invariant: dict[str, Any],
    at: PathKey,
    fields: dict[str, Any],
    doc: LocatedDocument,
    out: Diagnostics,
) -> None:
    if not {"keys", "flat", "max_items"} & set(invariant):
        out.add(
            doc.locate(at),
            f"{dotted(at)} promises nothing",
            "give keys: snake_case|lower_case, flat: true or max_items: N",
        )
    try:
        steps = ir.parse_invariant_path(invariant["path"])
    except ir.InvariantPathError as exc:
        out.add(
            doc.locate_in_string((*at, "path"), exc.offset),
            f"{dotted((*at, 'path'))}: {exc.message}",
            "e.g. $.d[*].evtData",
        )
        return
    if invariant["in"] == "payload" and steps and steps[0] not in fields:
        first = steps[0]
        close = difflib.get_close_matches(str(first), sorted(fields), n=1)
        out.add(
            doc.locate_in_string((*at, "path"), 0),
            f"{dotted((*at, 'path'))}: the payload has no field {first!r}",
            f"did you mean '{close[0]}'?" if close else f"fields: {', '.join(fields)}",
        )


def _check_settings_condition(
    condition: dict[str, Any],
    at: PathKey,
    settings: dict[str, Any],
    doc: LocatedDocument,
    out: Diagnostics,
) -> None:
    """`{setting: value}`: the setting exists and, for a select, the value is one of its choices."""
    for key, value in condition.items():
        setting = settings.get(key)
        if setting is None:
            close = difflib.get_close_matches(key, sorted(settings), n=1)
            out.add(
                doc.locate((*at, key), key=True),
                f"{dotted(at)} names the setting '{key}', which does not exist",
                f"did you mean '{close[0]}'?" if close else f"settings: {', '.join(settings)}",
            )
            continue
        values = [c["value"] if isinstance(c, dict) else c for c in setting.get("choices", [])]
        if values and value not in values:
            out.add(
                doc.locate((*at, key)),
                f"{dotted(at)}: {value!r} is not a choice of setting '{key}'",
                f"choices: {values}",
            )


def _check_requirement(
    requirement: dict[str, Any],
    at: PathKey,
    action: dict[str, Any],
    settings: dict[str, Any],
    doc: LocatedDocument,
    out: Diagnostics,
) -> None:
    fields = action["fields"]
    for i, key in enumerate(requirement["fields"]):
        if key not in fields:
            close = difflib.get_close_matches(key, sorted(fields), n=1)
            out.add(
                doc.locate((*at, "fields", i)),
                f"{dotted(at)} names the field '{key}', which the action does not have",
                f"did you mean '{close[0]}'?" if close else f"fields: {', '.join(fields)}",
            )
    if "when_settings" in requirement:
        _check_settings_condition(
            requirement["when_settings"], (*at, "when_settings"), settings, doc, out
        )


def _check_fields(
    fields: dict[str, Any], at: PathKey, doc: LocatedDocument, out: Diagnostics
) -> None:
    for key, spec_field in fields.items():
        here = (*at, key)
        if "default" in spec_field:
            _check_mapping(spec_field["default"], (*here, "default"), doc, out)
        elif spec_field.get("required") is True and "no_default_because" not in spec_field:
            out.add(
                doc.locate(here, key=True),
                f"required field '{key}' has no default mapping",
                "add default: {'@path': '$...'}, or say why not in no_default_because",
            )
        if "properties" in spec_field or "additionalProperties" in spec_field:
            if spec_field["type"] != "object":
                out.add(
                    doc.locate((*here, "type")),
                    f"field '{key}' has properties but its type is '{spec_field['type']}'",
                    "properties and additionalProperties belong to type: object",
                )
            _check_fields(spec_field.get("properties", {}), (*here, "properties"), doc, out)
        low, high = spec_field.get("minimum"), spec_field.get("maximum")
        if low is not None and high is not None and low > high:
            out.add(
                doc.locate((*here, "minimum")),
                f"field '{key}': minimum {low} is above maximum {high}",
            )


def validate_document(doc: LocatedDocument) -> Diagnostics:
    """All problems of one loaded spec."""
    out = Diagnostics()
    validator = jsonschema.Draft202012Validator(metaschema())
    errors = sorted(validator.iter_errors(doc.data), key=lambda e: list(map(str, e.absolute_path)))
    for error in errors:
        _schema_problem(error, doc, out)
    if not out and isinstance(doc.data, dict):
        _check_references(doc.data, doc, out)
    return out
