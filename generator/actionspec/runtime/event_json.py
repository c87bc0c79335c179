"""Decoding an event's JSON, keeping only the parts an action reads.

The generator finds what each action reads of an event (`Action.event_shape`, see
`actionspec/languages/event_shape.py`). `event_decoder(shape)(data)` is `json.loads(data)` cut
down to that shape: the same keys, in the same order, wherever the shape reaches, and the same
values where it keeps a value whole. The rest of the document is checked (it must be JSON) but
never built as Python objects, which saves most of the cost of decoding an event.

msgspec does the decoding. Whatever it refuses, json.loads decodes again and decides: NaN and
Infinity, lone surrogates, numbers beyond a double, a byte-order mark, UTF-16, or a value that is
not an object where the shape goes inside it. Invalid UTF-8 in a part msgspec skips would go
unnoticed, so text that is not ASCII is checked first.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, TypedDict, cast

__all__ = ["EventDecoder", "event_decoder"]

EventDecoder = Callable[[bytes | str], Any]


def _typed_dict(shape: Mapping[str, Any], name: str) -> Any:
    """A TypedDict msgspec decodes into a dict of the shape's keys (others are skipped)."""
    fields = {
        key: Any if below is None else _typed_dict(below, f"{name}_{index}")
        for index, (key, below) in enumerate(shape.items())
    }
    # The functional form: keys need not be identifiers. (cast: mypy wants a dict display.)
    return cast(Any, TypedDict)(name, fields, total=False)


def event_decoder(shape: Mapping[str, Any] | None) -> EventDecoder:
    """A function decoding an event's JSON (bytes or text) as far as `shape` reaches (None:
    all of it); it raises what json.loads raises for a document that is not JSON."""
    import msgspec  # here: only pipelines that decode events pay for importing it

    decode = msgspec.json.Decoder(Any if shape is None else _typed_dict(shape, "Event")).decode

    def decode_event(data: bytes | str) -> Any:
        if isinstance(data, str) or data.isascii() or _is_utf8(data):
            try:
                return decode(data)
            except (ValueError, RecursionError):  # msgspec's errors are ValueErrors
                pass
        return json.loads(data)

    return decode_event


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8", "surrogatepass")  # as json.loads decodes bytes
    except UnicodeDecodeError:
        return False
    return True
