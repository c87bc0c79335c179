"""Command line of the generated package.

    python -m PACKAGE list
    python -m PACKAGE preview SLUG [--action KEY] --settings FILE [--reveal-secrets] < events.jsonl

`preview` reads Segment events as JSON lines and writes one JSON line per event: the requests
the destination would send, or the error. Secret settings are shown as "***" unless
--reveal-secrets is given. Nothing is sent.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from .core import (
    Destination,
    DestinationError,
    PayloadValidationError,
    Request,
    SettingsError,
    mask_secrets,
)


def _package() -> Any:
    import importlib

    return importlib.import_module(__name__.rsplit(".", 2)[0])


def _error(exc: Exception, field: str | None = None) -> dict[str, Any]:
    return {
        "error": {
            "type": type(exc).__name__,
            "message": getattr(exc, "message", str(exc)),
            "field": getattr(exc, "field", field),
        }
    }


def preview_one(
    dest: Destination, event: Any, settings: dict[str, Any], action: str | None, reveal: bool
) -> dict[str, Any]:
    """The output object for one event."""
    try:
        if not isinstance(event, dict):
            raise PayloadValidationError("The event must be a JSON object.", "")
        requests: list[Request] = (
            dest.action(action).requests(event, settings) if action else dest.route(event, settings)
        )
    except (DestinationError, PayloadValidationError) as exc:
        result = _error(exc)
        return result if reveal else mask_secrets(result, dest.secrets(settings))
    out: dict[str, Any] = {"requests": [r.to_dict(reveal_secrets=reveal) for r in requests]}
    if not requests:
        kind = event.get("type", "untyped")
        out["note"] = (
            f"no preset of {dest.name} matches this {kind} event, so no action runs"
            if kind in dest.accepts or not dest.accepts
            else f"{dest.name} does not accept {kind} events; no action runs"
        )
    # An event may carry a secret value too (e.g. copied into a property): never print it.
    return out if reveal else mask_secrets(out, dest.secrets(settings))


def preview(
    dest: Destination,
    lines: Iterable[str],
    output: TextIO,
    settings: dict[str, Any],
    action: str | None = None,
    reveal: bool = False,
) -> int:
    """Stream events to results; returns how many events gave an error."""
    failures = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError as exc:
            result = {
                "error": {"type": "InvalidJSON", "message": f"line {number}: {exc}", "field": None}
            }
        else:
            result = preview_one(dest, event, settings, action, reveal)
        failures += "error" in result
        output.write(json.dumps(result, ensure_ascii=False, separators=(",", ":")) + "\n")
    return failures


def _load_settings(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as exc:
        raise SettingsError(
            f"cannot read settings file {path}: {exc.strerror}", "settings"
        ) from None
    except ValueError as exc:
        raise SettingsError(f"settings file {path} is not valid JSON: {exc}", "settings") from None
    if not isinstance(data, dict):
        raise SettingsError(f"settings file {path} must hold a JSON object", "settings")
    return data


def main(
    argv: Sequence[str] | None = None, stdin: TextIO | None = None, stdout: TextIO | None = None
) -> int:
    package = _package()
    parser = argparse.ArgumentParser(
        prog=f"python -m {package.__name__}", description=__doc__.split("\n\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list the destinations and their actions")
    preview_parser = commands.add_parser(
        "preview", help="show the requests for events read from stdin"
    )
    preview_parser.add_argument("slug", help="destination slug, e.g. clay")
    preview_parser.add_argument(
        "--action", help="run this action instead of routing through the presets"
    )
    preview_parser.add_argument(
        "--settings", required=True, help="JSON file with the destination settings"
    )
    preview_parser.add_argument(
        "--reveal-secrets", action="store_true", help="show password settings"
    )
    args = parser.parse_args(argv)
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    try:
        if args.command == "list":
            for slug in package.catalog():
                dest = package.get(slug)
                stdout.write(f"{slug}\t{dest.name}\t{', '.join(dest.actions)}\n")
            return 0
        dest = package.get(args.slug)
        if args.action:
            dest.action(args.action)
        raw_settings = _load_settings(args.settings)
        try:
            settings = dest.validate_settings(raw_settings)
        except SettingsError as exc:
            raise SettingsError(
                f"invalid settings in {args.settings}: {exc.message}", exc.field
            ) from None
    except DestinationError as exc:
        sys.stderr.write(f"error: {getattr(exc, 'message', exc)}\n")
        return 2
    failures = preview(dest, stdin, stdout, settings, args.action, args.reveal_secrets)
    if failures:
        sys.stderr.write(f"{failures} event(s) gave an error (see their output lines)\n")
    return 0
