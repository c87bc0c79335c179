"""`dead-letters list|show|replay`: look at what was not delivered, and send it again.

    python -m PACKAGE dead-letters --workspace FILE list [--destination NAME] [--limit N]
    python -m PACKAGE dead-letters --workspace FILE show ID
    python -m PACKAGE dead-letters --workspace FILE replay (ID ... | --all) [--destination NAME]

Run it with the same environment as the server (the workspace file is checked the same way).
Replayed jobs go back into the queue; a running server picks them up. Output never shows a
workspace secret.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any, TextIO

from .logs import masked_text
from .queue import DeadLetter
from .server import open_queue
from .workspace import Workspace


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workspace", required=True, help="the workspace YAML file")
    actions = parser.add_subparsers(dest="dead_letters_command", required=True)
    listing = actions.add_parser("list", help="one line per dead letter")
    listing.add_argument("--destination", help="only this destination instance")
    listing.add_argument("--limit", type=int, default=100)
    show = actions.add_parser("show", help="one dead letter in full (JSON)")
    show.add_argument("id", type=int)
    replay = actions.add_parser("replay", help="put dead letters back into the queue")
    replay.add_argument("ids", type=int, nargs="*")
    replay.add_argument("--all", action="store_true", help="every dead letter (of --destination)")
    replay.add_argument("--destination", help="with --all: only this destination instance")


def _when(moment: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


def _summary(letter: DeadLetter) -> dict[str, Any]:
    return {
        "id": letter.id,
        "destination": letter.job.destination,
        "mapping": letter.job.mapping,
        "message_id": letter.job.message_id,
        "failed_at": _when(letter.failed_at),
        "attempts": letter.job.attempts,
        "status": letter.status,
        "reason": letter.reason,
    }


def run(workspace: Workspace, args: argparse.Namespace, out: TextIO) -> int:
    secrets = workspace.secrets()
    queue = open_queue(workspace)  # the workspace's queue: SQLite, or the JetStream cluster

    def write(text: str) -> None:
        out.write(masked_text(text, secrets) + "\n")

    try:
        command = args.dead_letters_command
        if command == "list":
            letters = queue.dead_letters(args.destination, args.limit)
            for letter in letters:
                s = _summary(letter)
                write(
                    f"{s['id']}\t{s['destination']}\t{s['mapping']}\t{s['message_id']}\t"
                    f"{s['status'] if s['status'] is not None else '-'}\t{s['reason']}"
                )
            return 0
        if command == "show":
            found = queue.dead_letter_by_id(args.id)
            if found is None:
                write(f"error: no dead letter {args.id}")
                return 1
            detail = _summary(found) | {"response": found.response, "event": found.job.event}
            write(json.dumps(detail, ensure_ascii=False, indent=2))
            return 0
        ids = list(args.ids)
        if args.all:
            ids += [letter.id for letter in queue.dead_letters(args.destination, limit=1_000_000)]
        elif args.destination:
            write("error: --destination goes with --all")
            return 2
        if not ids:
            write("error: name dead letter ids, or --all")
            return 2
        moved = queue.replay(ids)
        write(f"{moved} dead letter(s) back in the queue")
        return 0 if moved == len(set(ids)) else 1
    finally:
        queue.close()
