"""Engage audience syncs: the identify calls Engage would send, through a destination.

    python -m PACKAGE audience-sync SLUG --audience NAME --members FILE(.csv|.jsonl)
        --settings FILE --state FILE [--reveal-secrets]

Engage sends user-property destinations one identify call per user entering or leaving an
audience, with the trait named by the snake_cased audience name set to `true` on entry and
`false` on exit. The first sync sends every member; later syncs only the changes since the
last one, which the state file remembers (written atomically; a call that fails is left out
of it, so the next sync tries it again). Each call runs through the destination the way
Segment routes it: the presets matching identify calls, or, for a destination without
presets, the actions whose default trigger matches (what a new mapping would subscribe to). A
destination with neither refuses the sync. The output is one JSON line per call: the
requests (password settings masked unless --reveal-secrets) or the error.

Members files: CSV with a header row, or JSON lines (one object per line). `userId` and/or
`anonymousId` (or `user_id`, `anonymous_id`) identify a member; any other column is sent as a
trait with the entry call (e.g. `email`). Nothing is sent over the network.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import tempfile
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from .core import (
    Destination,
    DestinationError,
    Request,
    load_settings_file,
    mask_secrets,
    settings_match,
)
from .mapping import change_case
from .trigger import TriggerError
from .trigger import parse as parse_trigger

__all__ = [
    "AudienceSyncError",
    "Member",
    "SyncResult",
    "add_arguments",
    "audience_key",
    "identify_call",
    "identify_handling",
    "membership_changes",
    "read_members",
    "run",
    "sync",
]

STATE_VERSION = 1
_ID_COLUMNS = {
    "userId": "userId",
    "user_id": "userId",
    "anonymousId": "anonymousId",
    "anonymous_id": "anonymousId",
}


class AudienceSyncError(DestinationError):
    """The sync cannot run (no identify handling, a bad members or state file); `.field` says
    what is at fault."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Member:
    """A user of an audience: at least one ID, and traits to send on entry."""

    user_id: str | None
    anonymous_id: str | None
    traits: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """What identifies the member from one sync to the next."""
        return f"user:{self.user_id}" if self.user_id else f"anonymous:{self.anonymous_id}"

    def ids(self) -> dict[str, str]:
        found = {"userId": self.user_id, "anonymousId": self.anonymous_id}
        return {name: value for name, value in found.items() if value}


def audience_key(name: str) -> str:
    """The trait name of an audience: its name snake_cased ("Order Completed Last 30days" ->
    "order_completed_last_30days"), the same snake_case as the @keys directive."""
    key = change_case(name, "snake")
    if not key:
        raise AudienceSyncError(
            f"audience name {name!r} has no letters or digits to make a trait name", "audience"
        )
    return key


# --- members files ------------------------------------------------------------------------------


def _member(row: Mapping[str, Any], where: str) -> Member:
    ids: dict[str, str] = {}
    traits: dict[str, Any] = {}
    for column, value in row.items():
        if value is None or value == "":
            continue
        name = _ID_COLUMNS.get(str(column))
        if name is None:
            traits[str(column)] = value
        elif isinstance(value, str | int) and not isinstance(value, bool):
            ids[name] = str(value)
        else:
            raise AudienceSyncError(f"{where}: {column} must be text, not {value!r}", "members")
    if not ids:
        raise AudienceSyncError(f"{where}: a member needs a userId or an anonymousId", "members")
    return Member(ids.get("userId"), ids.get("anonymousId"), traits)


def _rows(path: Path) -> Iterable[tuple[str, Mapping[str, Any]]]:
    """(where, row) for every member of a .csv or .jsonl file."""
    suffix = path.suffix.lower()
    with open(path, encoding="utf-8", newline="") as handle:
        if suffix == ".csv":
            reader = csv.DictReader(handle)
            if not reader.fieldnames or not set(reader.fieldnames) & set(_ID_COLUMNS):
                raise AudienceSyncError(
                    f"{path}: the header row needs a userId or anonymousId column", "members"
                )
            for row in reader:
                yield f"{path}:{reader.line_num}", row
        elif suffix in (".jsonl", ".ndjson"):
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                where = f"{path}:{number}"
                try:
                    row = json.loads(line)
                except ValueError as exc:
                    raise AudienceSyncError(f"{where}: not JSON: {exc}", "members") from None
                if not isinstance(row, dict):
                    raise AudienceSyncError(f"{where}: a member must be a JSON object", "members")
                yield where, row
        else:
            raise AudienceSyncError(
                f"{path}: members files are .csv or .jsonl, not {suffix or 'no extension'}",
                "members",
            )


def read_members(path: str | Path) -> dict[str, Member]:
    """The members in a CSV or JSON lines file, by member key (a repeated member: last wins)."""
    path = Path(path)
    members: dict[str, Member] = {}
    try:
        for where, row in _rows(path):
            member = _member(row, where)
            members[member.key] = member
    except OSError as exc:
        raise AudienceSyncError(
            f"cannot read members file {path}: {exc.strerror}", "members"
        ) from None
    except UnicodeDecodeError as exc:
        raise AudienceSyncError(f"{path} is not UTF-8 text: {exc.reason}", "members") from None
    return members


# --- state file ---------------------------------------------------------------------------------


def load_state(path: str | Path) -> dict[str, Any]:
    """The state file's content; an empty state when the file does not exist yet."""
    path = Path(path)
    if not path.exists():
        return {"version": STATE_VERSION, "syncs": {}}
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AudienceSyncError(f"cannot read state file {path}: {exc}", "state") from None
    if (
        not isinstance(state, dict)
        or state.get("version") != STATE_VERSION
        or not isinstance(state.get("syncs"), dict)
    ):
        raise AudienceSyncError(
            f"state file {path} is not an audience-sync state (version {STATE_VERSION})", "state"
        )
    return state


def save_state(path: str | Path, state: Mapping[str, Any]) -> None:
    """Write the state atomically: a temporary file beside it, then a rename over it."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(state, out, indent=2, sort_keys=True, ensure_ascii=False)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _state_members(entry: Any) -> dict[str, Member] | None:
    """The members remembered for one audience; None when it was never synced."""
    if not isinstance(entry, dict):
        return None
    members = {}
    for ids in entry.get("members", []):
        member = Member(ids.get("userId"), ids.get("anonymousId"))
        members[member.key] = member
    return members


# --- the sync ---------------------------------------------------------------------------------


def membership_changes(
    now: Mapping[str, Member], before: Mapping[str, Member] | None
) -> list[tuple[Member, bool]]:
    """(member, in the audience) for every identify call to send.

    First sync (`before` is None): every member, true. Later: new members true, then members
    who left false; members in both are not sent again.
    """
    if before is None:
        return [(member, True) for member in now.values()]
    entered = [(member, True) for key, member in now.items() if key not in before]
    left = [(member, False) for key, member in before.items() if key not in now]
    return entered + left


def identify_call(
    key: str, member: Member, value: bool, timestamp: str, message_id: str
) -> dict[str, Any]:
    """The identify call Engage sends for one membership change."""
    traits = {**member.traits, key: value} if value else {key: value}
    return {
        "type": "identify",
        **member.ids(),
        "messageId": message_id,
        "timestamp": timestamp,
        "traits": traits,
        "context": {"personas": {"computation_class": "audience", "computation_key": key}},
    }


def identify_handling(
    dest: Destination, settings: Mapping[str, Any]
) -> Callable[[Mapping[str, Any]], list[Request]]:
    """How the destination handles identify calls; AudienceSyncError when it does not."""
    checked = dest.validate_settings(settings)
    probe = {"type": "identify", "userId": "u", "anonymousId": "a", "traits": {}}
    if dest.presets:
        if any(p.matches(probe) and settings_match(p.when_settings, checked) for p in dest.presets):
            return lambda event: dest.route(event, settings)
        names = ", ".join(p.name for p in dest.presets)
        raise AudienceSyncError(
            f"{dest.name} has no identify handling: none of its presets ({names}) runs for "
            "identify calls, so an audience sync would send nothing",
            "destination",
        )
    actions = []
    for action in dest.actions.values():
        try:
            if action.trigger and parse_trigger(action.trigger)(probe):
                actions.append(action)
        except TriggerError:
            continue
    if not actions:
        raise AudienceSyncError(
            f"{dest.name} has no identify handling: it has no presets and no action whose "
            "default trigger matches identify calls",
            "destination",
        )
    return lambda event: [r for action in actions for r in action.requests(event, settings)]


@dataclass
class SyncResult:
    """What a sync produced: one output line per call, and the state to remember."""

    lines: list[dict[str, Any]]
    state: dict[str, Any]
    failures: int = 0


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def sync(
    dest: Destination,
    audience: str,
    members: Mapping[str, Member],
    settings: Mapping[str, Any],
    state: Mapping[str, Any],
    now: datetime | None = None,
    reveal_secrets: bool = False,
) -> SyncResult:
    """Run one sync of `audience` with its current `members`; `state` is the last sync's."""
    handle = identify_handling(dest, settings)
    key = audience_key(audience)
    timestamp = _utc_text(now or datetime.now(UTC))
    state_key = f"{dest.slug}/{key}"
    before = _state_members(state.get("syncs", {}).get(state_key))
    remembered = dict(before or {})
    secrets = dest.secrets(settings)
    lines: list[dict[str, Any]] = []
    failures = 0
    for member, value in membership_changes(members, before):
        # Stable per change and sync time, so a re-run of the same sync repeats its IDs.
        seed = f"{state_key}/{member.key}/{value}/{timestamp}"
        message_id = f"audience-{uuid.uuid5(uuid.NAMESPACE_URL, seed)}"
        event = identify_call(key, member, value, timestamp, message_id)
        line: dict[str, Any] = {"audience": key, **member.ids(), "value": value}
        try:
            requests = handle(event)
        except Exception as exc:  # a bad member, mapping or hook: reported, the sync goes on
            failures += 1
            line["error"] = {  # masked with the whole line below
                "type": type(exc).__name__,
                "message": getattr(exc, "message", str(exc)),
                "field": getattr(exc, "field", None),
            }
        else:
            line["requests"] = [r.to_dict(reveal_secrets=reveal_secrets) for r in requests]
            if value:
                remembered[member.key] = member
            else:
                remembered.pop(member.key, None)
        lines.append(line if reveal_secrets else mask_secrets(line, secrets))
    syncs = dict(state.get("syncs", {}))
    syncs[state_key] = {
        "synced_at": timestamp,
        "members": [m.ids() for m in sorted(remembered.values(), key=lambda m: m.key)],
    }
    return SyncResult(lines, {"version": STATE_VERSION, "syncs": syncs}, failures)


# --- command line -------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("slug", help="destination slug, e.g. clevertap")
    parser.add_argument("--audience", required=True, help="the audience's name")
    parser.add_argument("--members", required=True, help="current members: .csv or .jsonl")
    parser.add_argument("--settings", required=True, help="JSON file with the destination settings")
    parser.add_argument("--state", required=True, help="JSON file remembering the last sync")
    parser.add_argument("--reveal-secrets", action="store_true", help="show password settings")


def run(package: Any, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """The `audience-sync` command: 0 when it ran (failed calls are in their lines), 2 when not.

    Error messages never hold a secret: settings errors do not echo password values.
    """
    try:
        dest: Destination = package.get(args.slug)
        result = sync(
            dest,
            args.audience,
            read_members(args.members),
            load_settings_file(args.settings),
            load_state(args.state),
            reveal_secrets=args.reveal_secrets,
        )
    except DestinationError as exc:
        err.write(f"error: {getattr(exc, 'message', exc)}\n")
        return 2
    for line in result.lines:
        out.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
    save_state(args.state, result.state)
    if result.failures:
        err.write(
            f"{result.failures} call(s) gave an error (see their lines); "
            "the next sync sends them again\n"
        )
    return 0
