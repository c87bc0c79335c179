"""Command line of the generated package.

    python -m PACKAGE list
    python -m PACKAGE preview SLUG [--action KEY] --settings FILE [--reveal-secrets] < events.jsonl
    python -m PACKAGE serve [--host 127.0.0.1] [--port 8000]
    python -m PACKAGE serve --workspace FILE [--host HOST] [--port PORT] [--role all|ingest|worker]
    python -m PACKAGE dead-letters --workspace FILE list|show ID|replay (ID... | --all)
    python -m PACKAGE audience-sync SLUG --audience NAME --members FILE --settings FILE --state FILE

`preview` reads Segment events as JSON lines and writes one JSON line per event: the requests
the destination would send, or the error. Secret settings are shown as "***" unless
--reveal-secrets is given. Nothing is sent.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from .core import (
    BoundDestination,
    Destination,
    DestinationError,
    PayloadValidationError,
    Request,
    SettingsError,
    load_settings_file,
    mask_secrets,
)


def _package() -> Any:
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
    dest: Destination,
    event: Any,
    settings: dict[str, Any],
    action: str | None,
    reveal: bool,
    bound: BoundDestination | None = None,
) -> dict[str, Any]:
    """The output object for one event (`bound`: the same settings, already checked)."""
    try:
        if not isinstance(event, dict):
            raise PayloadValidationError("The event must be a JSON object.", "")
        if bound is None:
            bound = dest.bind(settings)
        requests: list[Request] = bound.requests(action, event) if action else bound.route(event)
    except Exception as exc:  # a bad event, mapping or hook: one error line, never a traceback
        result = _error(exc)
        return result if reveal else mask_secrets(result, dest.secrets(settings))
    out: dict[str, Any] = {"requests": [r.to_dict(reveal_secrets=reveal) for r in requests]}
    if not requests:
        out["note"] = dest.no_action_note(event)
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
    try:  # settings are checked once; when they are wrong, each event reports it
        bound: BoundDestination | None = dest.bind(settings)
    except DestinationError:
        bound = None
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
            result = preview_one(dest, event, settings, action, reveal, bound)
        failures += "error" in result
        output.write(json.dumps(result, ensure_ascii=False, separators=(",", ":")) + "\n")
    return failures


def add_serve_parser(commands: Any) -> None:
    serve_parser = commands.add_parser(
        "serve", help="run the preview service (HTTP; needs uvicorn: the `serve` extra)"
    )
    serve_parser.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000, help="default: 8000")


def serve(package: Any, host: str, port: int) -> int:
    """Run the preview service with uvicorn until interrupted."""
    try:  # imported by name: uvicorn is an optional dependency, not needed to type-check
        uvicorn = importlib.import_module("uvicorn")
    except ImportError:
        sys.stderr.write(
            "error: `serve` needs uvicorn, which is not installed: "
            f"pip install '{package.__name__}[serve]' (or pip install uvicorn)\n"
        )
        return 2
    from .preview_service import create_app

    uvicorn.run(create_app(package), host=host, port=port, log_level="info")
    return 0


def add_workspace_serve_arguments(serve_parser: argparse.ArgumentParser) -> None:
    serve_parser.add_argument(
        "--workspace",
        help="run ingestion and delivery for this workspace file (without it: the preview service)",
    )
    serve_parser.add_argument(
        "--role",
        choices=("all", "ingest", "worker"),
        default="all",
        help="with --workspace and a JetStream queue: run only ingestion, or only delivery "
        "(default: all)",
    )


def serve_workspace(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """`serve --workspace FILE`: ingestion + delivery; --host/--port override the file's `listen`."""
    from .server import serve as serve_delivery
    from .workspace import WorkspaceError, load_workspace

    try:
        workspace = load_workspace(args.workspace)
    except WorkspaceError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    given = {a.split("=")[0] for a in argv}
    host = args.host if "--host" in given else None
    port = args.port if "--port" in given else None
    try:
        return serve_delivery(workspace, host, port, args.role)
    except RuntimeError as exc:  # a missing optional dependency
        sys.stderr.write(f"error: {exc}\n")
        return 2


def add_dead_letters_parser(commands: Any) -> None:
    from .deadletters import add_arguments

    add_arguments(commands.add_parser("dead-letters", help="list, show and replay dead letters"))


def add_audience_sync_parser(commands: Any) -> None:
    from .audiences import add_arguments

    add_arguments(
        commands.add_parser(
            "audience-sync", help="the identify calls of an Engage audience sync, as requests"
        )
    )


def audience_sync(package: Any, args: argparse.Namespace, stdout: TextIO) -> int:
    from .audiences import run

    return run(package, args, stdout, sys.stderr)


def dead_letters(args: argparse.Namespace, stdout: TextIO) -> int:
    from .deadletters import run
    from .workspace import WorkspaceError, load_workspace

    try:
        workspace = load_workspace(args.workspace)
    except WorkspaceError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    return run(workspace, args, stdout)


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
    add_serve_parser(commands)
    add_workspace_serve_arguments(commands.choices["serve"])
    add_dead_letters_parser(commands)
    add_audience_sync_parser(commands)
    args = parser.parse_args(argv)
    if args.command == "serve" and args.workspace:
        return serve_workspace(args, sys.argv[1:] if argv is None else argv)
    if args.command == "audience-sync":
        return audience_sync(package, args, stdout or sys.stdout)
    if args.command == "dead-letters":
        return dead_letters(args, stdout or sys.stdout)
    if args.command == "serve":
        return serve(package, args.host, args.port)
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
        raw_settings = load_settings_file(args.settings)
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
