"""The `actionspec` command: validate specs, generate the package (and compile it with mypyc),
scaffold a new spec."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from actionspec import accelerate
from actionspec import config as config_module
from actionspec import generate as pipeline
from actionspec.diagnostics import SpecError
from actionspec.naming import snake


def _progress(quiet: bool) -> pipeline.Progress:
    def say(message: str) -> None:
        if not quiet:
            print(f"  {message}", file=sys.stderr)

    return say


def cmd_validate(args: argparse.Namespace, cfg: config_module.Config) -> int:
    destinations = pipeline.load_specs(cfg, _progress(args.quiet), require_hooks=True)
    for dest in destinations:
        print(
            f"ok  {dest.source}: {dest.name} ({len(dest.actions)} actions, {len(dest.presets)} presets)"
        )
    return 0


def cmd_generate(args: argparse.Namespace, cfg: config_module.Config) -> int:
    started = time.perf_counter()
    say = _progress(args.quiet)
    destinations = pipeline.load_specs(cfg, say)
    stubbed = pipeline.sync_hook_stubs(cfg, destinations, write=not args.check)
    for path in stubbed:  # the hooks modules beside the specs are the user's: say what changed
        verb = "needs stubs for declared hooks:" if args.check else "stubs appended:"
        print(
            f"  hooks    {verb} {pipeline.display(path, cfg)} (write them; `actionspec validate` checks)"
        )
    files = pipeline.render_files(cfg, destinations, say)
    changes = pipeline.plan(cfg.output, files)
    shown = cfg.output.relative_to(cfg.root) if cfg.output.is_relative_to(cfg.root) else cfg.output
    if args.check:
        if changes or stubbed:
            print(f"{shown}/ is stale; `actionspec generate` would change {len(changes)} file(s):")
            for change in changes:
                print(f"  {change.kind:8} {shown}/{change.path}")
            return 1
        print(f"{shown}/ is up to date ({len(files)} files from {len(destinations)} specs)")
        return 0
    pipeline.write(cfg.output, files, changes)
    for change in changes:
        print(f"  {change.kind:8} {shown}/{change.path}")
    elapsed = time.perf_counter() - started
    print(
        f"{len(changes)} file(s) written, {len(files) - len(changes)} unchanged, "
        f"{len(destinations)} specs, {elapsed:.1f}s"
    )
    return 0


SCAFFOLD = """\
# {name}: an actionspec destination spec. Every key is documented in generated/docs/spec-reference.md.
# Check it with `actionspec validate`, then generate the package with `actionspec generate`.
spec_version: 1
name: {name}
slug: {slug}
description: What {name} does with the events it receives.
accepts: [track, identify]

# Settings users give when they add the destination. Secrets are type: password.
settings:
  api_key:
    label: API Key
    description: Your {name} API key.
    type: password
    required: true

base_url: https://api.example.com
authentication:
  scheme: custom
  headers:
    Authorization: "Bearer {{{{settings.api_key}}}}"

limits:
  max_mappings: 50

# Presets: a trigger (FQL) and the action it runs with the action's default mapping.
presets:
  - name: Track Calls
    trigger: type = "track"
    action: sendEvent

actions:
  sendEvent:
    title: Send Event
    description: Send a track event to {name}.
    trigger: type = "track"
    fields:
      event:
        label: Event Name
        description: The name of the event.
        type: string
        required: true
        default: {{"@path": "$.event"}}
      userId:
        label: User ID
        type: string
        default: {{"@path": "$.userId"}}
      properties:
        label: Properties
        type: object
        default: {{"@path": "$.properties"}}
    request:
      method: POST
      path: /v1/events
      body: {{"@path": "$.payload"}}

# Worked examples run as tests.
examples:
  - name: a track call becomes an event
    action: sendEvent
    event: {{type: track, event: Signed Up, userId: u1, properties: {{plan: pro}}}}
    settings: {{api_key: k}}
    requests:
      - method: POST
        url: https://api.example.com/v1/events
        json: {{event: Signed Up, userId: u1, properties: {{plan: pro}}}}
  - name: the event name is required
    action: sendEvent
    event: {{type: track, userId: u1}}
    settings: {{api_key: k}}
    error: {{type: PayloadValidationError, field: /event}}
"""


def cmd_accelerate(args: argparse.Namespace, cfg: config_module.Config) -> int:
    out = Path(args.out) if args.out else cfg.root / "build" / "accelerated"
    try:
        accelerate.accelerate(cfg.package_dir, out.resolve(), _progress(args.quiet))
    except accelerate.AccelerateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"compiled package in {out}; put it first on PYTHONPATH to use it")
    return 0


def cmd_new(args: argparse.Namespace, cfg: config_module.Config) -> int:
    slug = snake(args.name).rstrip("_").replace("_", "-")
    target = cfg.specs / f"{slug}.yaml"
    if target.exists():
        print(f"error: {target} already exists; not overwritten", file=sys.stderr)
        return 1
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(SCAFFOLD.format(name=args.name, slug=slug), "utf-8")
    print(f"created {target}; edit it, then run `actionspec generate`")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="actionspec", description=__doc__)
    parser.add_argument("--root", type=Path, help="project folder (default: found from here)")
    parser.add_argument("--specs", help="spec folder (default from pyproject: specs)")
    parser.add_argument("--output", help="output folder (default from pyproject: generated)")
    parser.add_argument("--package", help="import name of the generated package")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "validate", help="check every spec; report all problems with file:line:column"
    )
    gen = commands.add_parser("generate", help="generate the package from the specs")
    gen.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 naming stale files"
    )
    fast = commands.add_parser(
        "accelerate",
        help="compile the generated package's hot modules with mypyc",
        description=accelerate.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fast.add_argument("--out", help="folder for the compiled package (default: build/accelerated)")
    new = commands.add_parser("new", help="scaffold a commented spec")
    new.add_argument("name", help="destination name, e.g. 'Acme CRM'")
    args = parser.parse_args(argv)
    cfg = config_module.load(args.root, specs=args.specs, output=args.output, package=args.package)
    handlers = {
        "validate": cmd_validate,
        "generate": cmd_generate,
        "accelerate": cmd_accelerate,
        "new": cmd_new,
    }
    try:
        return handlers[args.command](args, cfg)
    except SpecError as exc:
        for diagnostic in exc.diagnostics:
            print(diagnostic, file=sys.stderr)
        print(f"{len(exc.diagnostics)} problem(s) found", file=sys.stderr)
        return 1
    except pipeline.GenerationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
