"""The parts of an event an action reads, known at generation time.

An action reads an event through its default mapping and its request (URL, headers and body
templates may name `event.*`). The generated package decodes an event's JSON keeping only
those parts (`runtime/event_json.py`), which is most of the cost of a JSON event saved: the
rest is parsed for validity but never built as Python objects.

A shape is a dict from key to the shape below it, where None means the whole value: the shape
{"context": {"ip": None}, "properties": None} keeps `context.ip` and all of `properties`. An
action whose reads are not all known (hooks, @liquid, `{{{path}}}` slots) reads the whole event:
its shape is None. Routing reads what every preset reads, its trigger included.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from actionspec import ir
from actionspec.languages import triggers
from actionspec.languages.mapping import event_paths
from actionspec.runtime.mapping import template_paths

__all__ = ["Shape", "action_event_shape", "route_event_shape", "shape_of"]

Shape = dict[str, Any]  # key -> Shape | None (the whole value)
Path = tuple[str | int, ...]


def shape_of(paths: Iterable[Path]) -> Shape | None:
    """The smallest shape holding every path (a path ending at a key keeps its whole value;
    the empty path, the whole event, gives None)."""
    shape: Shape = {}
    for path in paths:
        if not path or not isinstance(path[0], str):
            return None  # the whole event, or an index into it
        keys: list[str] = []
        for part in path:  # the keys up to the first list index: the list is kept whole
            if not isinstance(part, str):
                break
            keys.append(part)
        node: Shape = shape
        for key in keys[:-1]:
            below = node.setdefault(key, {})
            if below is None:  # already kept whole
                break
            node = below
        else:
            node[keys[-1]] = None  # kept whole, whatever else reads inside it
    return shape


def _request_event_reads(request: ir.Request) -> list[Path] | None:
    """The event paths a request's templates read (they render over payload, settings, event;
    the destination's own headers and Basic auth may read settings only)."""
    reads = [path for t in [request.url, *request.headers.values()] for path in template_paths(t)]
    if request.has_body:
        body_reads = event_paths(request.body)
        if body_reads is None:
            return None
        reads.extend(body_reads)
    event_reads = []
    for path in reads:
        if path[:1] == ("event",):
            event_reads.append(path[1:])
        elif not path or not isinstance(path[0], str):
            return None  # the whole context (or an index into it): the event with it
    return event_reads


def _action_reads(action: ir.Action, mapping: Any) -> list[Path] | None:
    """The event paths `action` reads with `mapping` and its request (None: all of it)."""
    if action.hooks:
        return None  # hooks see the whole event
    mapping_reads = event_paths(mapping)
    request_reads = _request_event_reads(action.request)
    if mapping_reads is None or request_reads is None:
        return None
    return [*mapping_reads, *request_reads]


def action_event_shape(action: ir.Action) -> Shape | None:
    """What of an event `action` reads with its default mapping (None: all of it)."""
    reads = _action_reads(action, action.default_mapping())
    return None if reads is None else shape_of(reads)


def route_event_shape(destination: ir.Destination) -> Shape | None:
    """What of an event routing reads: every preset's trigger, mapping and request."""
    reads: list[Path] = []
    for preset in destination.presets:
        found = _action_reads(destination.action(preset.action), preset.mapping)
        if found is None:
            return None
        reads.extend(found)
        reads.extend(triggers.paths_used(triggers.parse(preset.trigger)))
    return shape_of(reads)
