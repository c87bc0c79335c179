"""Hypothesis strategies: Segment events (realistic and hostile) and settings.

Realistic events come from the Segment JSON Schema (segment_schema.py), every field filled in
("complete"); where an action's mapping reads a path inside an object that carries the
customer's own keys (`properties.plan`), a valid value of the field's declared type is put
there, since the Segment spec cannot say what it is. Hostile events start from a realistic one
and then delete, null, empty or replace values, at the paths the mapping reads and anywhere
else: numbers and booleans for strings, lists for objects, unicode, long strings, deep nesting.
"""

from __future__ import annotations

import difflib
import itertools
import random
import string
from collections.abc import Iterable
from typing import Any

from hypothesis import strategies as st

from actionspec import ir
from contract import realistic
from contract.segment_schema import MESSAGE_TYPES, event_schema

Path = tuple[str | int, ...]
MISSING = object()

# --------------------------------------------------------------------------- plain values

_WORD = st.text(string.ascii_letters + string.digits, min_size=1, max_size=12)
SEEDS = st.integers(0, 2**64 - 1).map(random.Random)


# --------------------------------------------------------------------------- paths


UNDECIDED = object()  # a value the oracle does not work out (a string's UTF-16 unit)


def get_path(value: Any, path: Path) -> Any:
    """The value a mapping's `@path` reads, with Segment's get() (`value && value[key]`):
    a falsy value on the way ("", 0, false, null) is the result itself; lists and strings
    have `length` and numeric indexes; anything else has no properties (MISSING)."""
    for step in path:
        if isinstance(value, dict):
            value = value.get(str(step), MISSING)
        elif value is MISSING or value is None or value is False or value in ("", 0):
            return value
        elif isinstance(value, list | str) and (step == "length" or str(step).isdigit()):
            if step == "length":
                return len(value) if isinstance(value, list) else UNDECIDED
            if isinstance(value, str):
                return UNDECIDED
            value = value[int(step)] if int(step) < len(value) else MISSING
        else:
            return MISSING
    return value


def set_path(event: dict[str, Any], path: Path, value: Any) -> None:
    """Put `value` at `path`, making objects (or lists, for index steps) on the way."""
    holder: Any = event
    for step, following in itertools.pairwise(path):
        child = get_path(holder, (step,))
        wanted = list if isinstance(following, int) else dict
        if not isinstance(child, wanted):
            child = [] if wanted is list else {}
            _put(holder, step, child)
        holder = child
    _put(holder, path[-1], value)


def _put(holder: Any, step: str | int, value: Any) -> None:
    if isinstance(step, int):
        while len(holder) <= step:
            holder.append({})
        holder[step] = value
    else:
        holder[step] = value


def delete_path(event: dict[str, Any], path: Path) -> None:
    parent = get_path(event, path[:-1])
    if isinstance(parent, dict) and isinstance(path[-1], str):
        parent.pop(path[-1], None)


def segment_schema_at(message_type: str, path: Path) -> dict[str, Any] | str:
    """The Segment schema of the value at `path`; "open" inside customer-owned objects,
    "unknown" where the spec has no such field for this type."""
    schema: dict[str, Any] = event_schema(message_type)
    for step in path:
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        if isinstance(step, str) and step in properties:
            schema = properties[step]
        elif isinstance(extra, dict):
            schema = extra
        elif extra is True and schema.get("type") == "object":
            return "open"
        else:
            return "unknown"
    return schema


def _known_keys(parent: tuple[Any, ...]) -> tuple[list[str], bool]:
    """The keys Segment events of any type have under `parent`, and whether it is open."""
    keys: set[str] = set()
    is_open = False
    for message_type in MESSAGE_TYPES:
        schema = segment_schema_at(message_type, parent)
        if isinstance(schema, dict):
            keys |= set(schema.get("properties", {}))
            is_open |= schema.get("additionalProperties", True) is not False
        is_open |= schema == "open"
    return sorted(keys), is_open


def segment_path_problem(path: tuple[Any, ...]) -> str | None:
    """Why no Segment event has `path`, or why it looks like a typo; None if it looks fine.

    Inside objects that hold the customer's own keys any key may exist, unless it is a near
    miss of a key the Segment spec names there (`context.ipp` for `context.ip`)."""
    for depth, step in enumerate(path):
        parent = path[:depth]
        keys, is_open = _known_keys(parent)
        if not keys and is_open:
            return None  # a customer-owned object that the spec knows nothing inside
        if step in keys:
            continue
        close = difflib.get_close_matches(str(step), keys, n=1, cutoff=0.8)
        shown = "$" + "".join(f".{p}" for p in path)
        if close:
            return f"{shown}: no Segment event has {step!r} there; did you mean {close[0]!r}?"
        return None if is_open else f"{shown}: no Segment event has {step!r} there"
    return None


def all_paths(value: Any, prefix: Path = ()) -> Iterable[Path]:
    """Every path inside `value` (objects and lists), parents before children."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from all_paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield (*prefix, i)
            yield from all_paths(item, (*prefix, i))


# --------------------------------------------------------------------------- hostile values


def _nest(depth: int, leaf: Any, as_list: bool) -> Any:
    value = leaf
    for level in range(depth):
        value = [value] if as_list and level % 2 else {"n": value}
    return value


SCALARS = st.one_of(
    st.none(),
    st.just(""),
    st.sampled_from([" ", "0", "1", "42", "-7", "3.25", "1e3", "true", "false", "null", "NaN"]),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30),
    st.sampled_from(["2024-03-05T10:20:30Z", "yesterday", "a@b.co", "Ünïcödé ☃ 𝄞", "\x00"]),
)
LONG_TEXT = st.integers(500, 3000).map(lambda n: ("ab ☃" * n)[:n])
DEEP = st.builds(_nest, st.integers(10, 60), SCALARS, st.booleans())
HOSTILE_VALUES = st.one_of(
    SCALARS,
    LONG_TEXT,
    DEEP,
    st.lists(SCALARS, max_size=4),
    st.dictionaries(st.text(max_size=8), SCALARS, max_size=4),
    st.lists(st.dictionaries(_WORD, SCALARS, max_size=2), min_size=1, max_size=2),
)


# --------------------------------------------------------------------------- events


def _customer_owned(where: dict[str, Any] | str, field: ir.Field) -> bool:
    """Whether the customer decides the value at a path: inside their own objects, or free
    text in the Segment spec that a string field with choices or a format narrows down."""
    if where == "open":
        return True
    free_text = isinstance(where, dict) and where.get("type") == "string" and len(where) == 1
    narrowed = field.type in ("string", "text") and bool(field.choices or field.format)
    return free_text and narrowed


def realistic_event(
    draw: st.DrawFn,
    message_types: tuple[str, ...],
    fills: Iterable[tuple[Path, ir.Field]],
    literals: Iterable[tuple[Path, Any]] = (),
) -> dict[str, Any]:
    """A complete event of one of `message_types`; `fills` put field-typed values at mapped
    paths inside customer-owned objects; `literals` (from a trigger) are set as given."""
    rng = draw(SEEDS)
    message_type = rng.choice(message_types)
    event: dict[str, Any] = realistic.from_schema(event_schema(message_type), rng)
    for path, field in fills:
        where = segment_schema_at(message_type, path)
        if path and _customer_owned(where, field) and segment_path_problem(path) is None:
            set_path(event, path, realistic.field_value(field, rng))
    for path, value in literals:
        set_path(event, path, value)
    return event


def hostile_event(
    draw: st.DrawFn, fills: list[tuple[Path, ir.Field]], extra_paths: list[Path]
) -> dict[str, Any]:
    """A realistic event of any type, then 1-6 values deleted, nulled, emptied or replaced."""
    event = realistic_event(draw, MESSAGE_TYPES, fills)
    for _ in range(draw(st.integers(1, 6))):
        candidates = sorted({*(p for p, _ in fills), *extra_paths, *all_paths(event)}, key=repr)
        path = draw(st.sampled_from(candidates)) if candidates else ("properties",)
        if not path:
            continue
        operation = draw(st.sampled_from(["delete", "null", "empty", "replace", "replace"]))
        if operation == "delete":
            delete_path(event, path)
        else:
            value = {"null": None, "empty": ""}.get(operation, MISSING)
            set_path(event, path, draw(HOSTILE_VALUES) if value is MISSING else value)
    return event


# --------------------------------------------------------------------------- settings

SECRET_PREFIX = "S3cr3t-"


def settings_for(destination: Any) -> st.SearchStrategy[dict[str, Any]]:
    """Valid settings of a runtime Destination; secrets are distinctive (`S3cr3t-...`)."""
    fixed: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for setting in destination.settings:
        values = _setting_values(setting)
        (fixed if setting.required else optional)[setting.key] = values
    return st.fixed_dictionaries(fixed, optional=optional)


def _setting_values(setting: Any) -> st.SearchStrategy[Any]:
    if setting.choices:
        return st.sampled_from(list(setting.choices))
    if setting.type == "password":
        return st.text(string.ascii_letters + string.digits, min_size=6, max_size=16).map(
            lambda s: SECRET_PREFIX + s
        )
    if setting.type == "uri":
        return SEEDS.map(realistic.FORMATS["uri"])
    if setting.type == "boolean":
        return st.booleans()
    if setting.type == "integer":
        return st.integers(0, 1000)
    if setting.type == "number":
        return st.floats(0, 1000, allow_nan=False)
    return st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=16)
