"""The mapping language: the reference interpreter (the definition of its meaning).

A mapping is JSON-like data. Plain objects and lists are evaluated item by item; an object with
exactly one key starting with `@` is a directive. MISSING ("undefined" in Segment's mapping-kit)
drops the key it ends up under; `None` is kept. The Segment directives behave as actions-core
3.170.0's mapping-kit does (tests/fixtures/mapping_reference.jsonl records it); the others
(@keys, @lookup, @pick, @omit, @eachValue, @encodeNested, @drop) are actionspec's own.

As in mapping-kit, evaluation keeps MISSING values inside objects until the very end (so that
@merge lets a missing value override an earlier one, as Object.assign does); `evaluate` then
removes them. Unlike mapping-kit, a MISSING item of a list becomes None at once (JSON's null).
Generated code compiles spec mappings into straight-line Python that gives the same results
(actionspec/languages/mapping_compiler.py); this interpreter runs mappings that only exist at run
time.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Callable, Mapping
from typing import Any, Final
from urllib.parse import quote

from . import mapping_liquid

# MISSING and json_text are part of this module's interface (compiled mappings use them as `_m.*`).
from .jsvalues import MISSING as MISSING
from .jsvalues import (
    is_number,
    string,
    truthy,
    type_name,
    utf16_length,
    utf16_unit,
    utf16_units,
)
from .jsvalues import json_text as json_text


class MappingError(ValueError):
    """A mapping that cannot be evaluated (malformed, or Segment would throw on this data)."""


# --- paths ------------------------------------------------------------------------------------

_PATH_PART = re.compile(r"\[(0|[1-9]\d*)\]|\.?([^.\[\]]+)")


@functools.lru_cache(maxsize=4096)  # templates and run-time mappings parse the same paths again
def parse_path(path: str) -> tuple[str | int, ...]:
    """`$.context.page.url` -> ("context", "page", "url"); `a[0].b` -> ("a", 0, "b"); `$` -> ()."""
    text = path.strip()
    offset = len(path) - len(path.lstrip())  # errors count characters of the path as written
    if text.startswith("$."):
        text = text[2:]
        offset += 2
    elif text == "$":
        return ()
    parts: list[str | int] = []
    position = 0
    while position < len(text):
        match = _PATH_PART.match(text, position)
        if match is None or match.end() == position:
            raise ValueError(f"invalid path {path!r} at character {position + offset + 1}")
        index, name = match.groups()
        parts.append(int(index) if index is not None else name)
        position = match.end()
    return tuple(parts)


_SEGMENT_PATH_SPLIT = re.compile(r"""\[(?=["'\d])|\.|(?<=["'\d])\]+""")


def _template_path(text: str) -> tuple[str | int, ...]:
    """A template slot's path; one that does not parse is split the way Segment's get() does."""
    try:
        return parse_path(text)
    except ValueError:
        pieces = _SEGMENT_PATH_SPLIT.split(text)
        return tuple(p.replace('"', "").replace("'", "") for p in pieces if p)


_INDEX = re.compile(r"0|[1-9]\d*")


def step(value: Any, key: str | int) -> Any:
    """`value[key]` as JavaScript reads it, for values that are not objects (dicts).

    A falsy value is returned as it is (Segment's get() does `value && value[key]`); lists and
    strings have `length` and numeric indexes (strings count UTF-16 units); anything else has no
    properties. JavaScript's inherited properties (`constructor`, ...) are not visible.
    """
    if isinstance(value, dict):
        return value.get(key if isinstance(key, str) else str(key), MISSING)
    if not truthy(value):
        return value
    if isinstance(value, list | str):
        if key == "length":
            return len(value) if isinstance(value, list) else utf16_length(value)
        if isinstance(key, str):
            if not _INDEX.fullmatch(key):
                return MISSING
            key = int(key)
        if isinstance(value, list):
            return value[key] if key < len(value) else MISSING
        unit = utf16_unit(value, key)
        return MISSING if unit is None else unit
    return MISSING


class Reader:
    """Reads keys of a value that is not an object (dict) as `step` does, through the `get`
    dicts have; compiled code reads the children of a value through one or the other, so the
    usual case (an object) costs no type test per key."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def get(self, key: str, default: Any) -> Any:
        return step(self.value, key)


def get_path(data: Any, parts: tuple[str | int, ...]) -> Any:
    """The value at `parts` inside `data`, or MISSING (Segment's get())."""
    value = data
    for part in parts:
        value = (
            value.get(part, MISSING)
            if isinstance(value, dict) and isinstance(part, str)
            else step(value, part)
        )
    return value


# --- values -------------------------------------------------------------------------------------


def defined(value: Any) -> Any:
    """MISSING inside a list becomes null, as JSON.stringify does with undefined."""
    return None if value is MISSING else value


# The types of JSON scalars: a value of one of these holds nothing inside. Type tests by set
# membership cost a third of `isinstance(x, dict | list)`, and these helpers run per value.
SCALARS: Final = frozenset({str, int, float, bool, type(None)})
_CONTAINERS = (dict, list)


def clean(value: Any) -> Any:
    """`value` without MISSING object entries, at any depth (Segment's removeUndefined)."""
    if type(value) in SCALARS or not _has_missing(value):
        return value  # the usual case: nothing to remove, nothing to copy
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items() if v is not MISSING}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


def drop_missing(value: dict[str, Any]) -> dict[str, Any]:
    """`clean` of an object whose only MISSING are its own entries (compiled code knows when)."""
    return {k: v for k, v in value.items() if v is not MISSING}


def _has_missing(value: Any) -> bool:
    if isinstance(value, dict):
        items: Any = value.values()
    elif isinstance(value, list):
        items = value
    else:
        return False
    for item in items:  # a loop, not any(): this runs over every value of large payloads
        if type(item) not in SCALARS and (item is MISSING or _has_missing(item)):
            return True
    return False


def template_text(value: Any) -> str:
    """How a value prints inside a template: "" for null and MISSING, else JavaScript String()."""
    return "" if value is None or value is MISSING else string(value)


# Request templates of a spec (URLs, headers): `{{a.b}}` is replaced by the value at that path.
TEMPLATE_SLOT = re.compile(r"{{\s*([^{}]*?)\s*}}")


def template_paths(template: str) -> list[tuple[str | int, ...]]:
    """The paths a request template's slots read (ValueError for a path that does not parse)."""
    return [parse_path(slot.group(1)) for slot in TEMPLATE_SLOT.finditer(template)]


def settings_only(template: str) -> bool:
    """Whether a request template reads nothing but settings (so it renders once per settings)."""
    return all(m.group(1).startswith("settings.") for m in TEMPLATE_SLOT.finditer(template))


def render_template(template: str, data: Any) -> str:
    """`template` with each slot replaced by the text of the value at its path (the plain
    reference; `template_renderer` splits a template once for templates rendered per event)."""
    return TEMPLATE_SLOT.sub(
        lambda m: template_text(get_path(data, parse_path(m.group(1)))), template
    )


@functools.lru_cache(maxsize=1024)
def template_renderer(template: str, percent_encoded: bool = False) -> Callable[[Any], str]:
    """`render_template` with the template split into text and paths once, not per call;
    `percent_encoded`: each substituted value is percent-encoded (URL paths)."""
    pieces: list[str | tuple[str | int, ...]] = []
    position = 0
    for match in TEMPLATE_SLOT.finditer(template):
        pieces.append(template[position : match.start()])
        pieces.append(parse_path(match.group(1)))
        position = match.end()
    pieces.append(template[position:])

    def text(data: Any, piece: tuple[str | int, ...]) -> str:
        value = template_text(get_path(data, piece))
        # surrogatepass: json.loads accepts lone surrogates ("\ud800"); they are encoded
        # byte by byte rather than crash the request.
        return quote(value, safe="", errors="surrogatepass") if percent_encoded else value

    def render(data: Any) -> str:
        return "".join(piece if isinstance(piece, str) else text(data, piece) for piece in pieces)

    return render


# @template: Segment replaces `{{{path}}}` slots first, then `{{path}}` slots in the result.
TRIPLE_SLOT: Final = re.compile(r"\{\{\{([^}]+)\}\}\}")
DOUBLE_SLOT: Final = re.compile(r"\{\{([^}]+)\}\}")


def render_mapping_template(template: str, data: Any) -> str:
    def slot(match: re.Match[str]) -> str:
        return template_text(get_path(data, _template_path(match.group(1).strip())))

    return DOUBLE_SLOT.sub(slot, TRIPLE_SLOT.sub(slot, template))


# --- evaluation ---------------------------------------------------------------------------------


def is_directive(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)).startswith("@")


def evaluate(mapping: Any, data: Any) -> Any:
    """Evaluate `mapping` against `data` (an event, or a {payload, settings} context)."""
    return clean(resolve(mapping, data))


def resolve(mapping: Any, data: Any) -> Any:
    """The value of `mapping`, MISSING entries of objects still in place."""
    if isinstance(mapping, dict):
        names = [key for key in mapping if key.startswith("@")]
        if not names:
            return {key: resolve(sub, data) for key, sub in mapping.items()}
        if len(mapping) > 1:
            raise MappingError(f"directive {names[0]} must be the only key of its object")
        directive = _DIRECTIVES.get(names[0])
        if directive is None:
            raise MappingError(f"unknown directive {names[0]}")
        return directive(mapping[names[0]], data)
    if isinstance(mapping, list):
        return [defined(resolve(item, data)) for item in mapping]
    return mapping


def _options(name: str, argument: Any) -> Mapping[str, Any]:
    if not isinstance(argument, dict):
        raise MappingError(f"{name} takes an object, not {type_name(argument)}")
    return argument


def _path(argument: Any, data: Any) -> Any:
    if not isinstance(argument, str):
        raise MappingError(f"@path takes a string, not {type_name(argument)}")
    try:
        return get_path(data, parse_path(argument))
    except ValueError as exc:
        raise MappingError(str(exc)) from None


def _literal(argument: Any, data: Any) -> Any:
    return copy.deepcopy(argument)  # the mapping itself must never be handed out and changed


def _template(argument: Any, data: Any) -> Any:
    if not isinstance(argument, str):
        raise MappingError(f"@template takes a string, not {type_name(argument)}")
    return render_mapping_template(argument, data)


def is_blank(value: Any) -> bool:
    """Segment's `@if blank` test: null, undefined, or loosely equal to "" (0, false, [], ...)."""
    if value is MISSING or value is None or value is False or value == "":
        return True
    if is_number(value):
        return bool(value == 0)
    return isinstance(value, list) and string(value) == ""


def _if(argument: Any, data: Any) -> Any:
    options = _options("@if", argument)
    # Segment's quirks, kept: a falsy constant as condition is an error, a falsy `else` is ignored.
    if not truthy(options.get("exists", MISSING)) and not truthy(options.get("blank", MISSING)):
        raise MappingError('@if needs an "exists" or a "blank" condition')
    if "exists" in options:
        value = resolve(options["exists"], data)
        condition = value is not MISSING and value is not None
    else:
        condition = not is_blank(resolve(options["blank"], data))  # "then" when NOT blank
    if condition and "then" in options:
        return resolve(options["then"], data)
    if not condition and truthy(options.get("else", MISSING)):
        return resolve(options["else"], data)
    return MISSING


def _case(argument: Any, data: Any) -> Any:
    options = _options("@case", argument)
    operator = options.get("operator")
    if operator not in ("lower", "upper"):
        raise MappingError('@case needs "operator": "lower" or "upper"')
    if not truthy(options.get("value", MISSING)):
        return MISSING
    value = resolve(options["value"], data)
    if not isinstance(value, str):
        return value
    return value.lower() if operator == "lower" else value.upper()


REPLACE_PATTERN_LIMIT: Final = 10  # UTF-16 units, for the pattern and the replacement (Segment's)


def _js_fold(char: str) -> str:
    """How a JavaScript /i regular expression (without /u) compares a character."""
    upper = char.upper()
    if len(upper) != 1 or ord(char) > 0xFFFF or (ord(char) >= 128 and ord(upper) < 128):
        return char
    return upper


def _expand(replacement: str, text: str, start: int, end: int) -> str:
    """A replacement string's `$$`, `$&`, `` $` `` and `$'` (String.prototype.replace)."""
    if "$" not in replacement:
        return replacement
    specials = {"$": "$", "&": text[start:end], "`": text[:start], "'": text[end:]}
    return re.sub(r"\$([$&`'])", lambda m: specials[m.group(1)], replacement)


def replace_text(text: str, pattern: str, replacement: str, every: bool, ignore_case: bool) -> str:
    """Replace the plain-text `pattern` (first or every occurrence), as Segment's @replace does."""
    for option in (pattern, replacement):
        if utf16_length(option) > REPLACE_PATTERN_LIMIT:
            raise MappingError(f"@replace: {option!r} is longer than 10 characters")
    haystack, needle = text, pattern
    if ignore_case:  # folding keeps lengths, so positions found in the folded text apply to it
        haystack = "".join(map(_js_fold, text))
        needle = "".join(map(_js_fold, pattern))
    pieces: list[str] = []
    position = 0
    while (found := haystack.find(needle, position)) >= 0:
        end = found + len(needle)
        pieces += [text[position:found], _expand(replacement, text, found, end)]
        position = end
        if not every:
            break
    return "".join(pieces) + text[position:]


def replace(value: Any, options: Mapping[str, Any]) -> str:
    """@replace on an evaluated value: numbers and booleans become text; other non-text gives ""."""
    if isinstance(value, bool) or is_number(value):
        value = string(value)
    if not isinstance(value, str):
        return ""
    every, ignore_case = options.get("global", True), options.get("ignorecase", False)
    result = replace_text(
        value, options["pattern"], options.get("replacement", ""), every, ignore_case
    )
    if truthy(options.get("pattern2", MISSING)):
        second = options.get("replacement2", "")
        result = replace_text(result, options["pattern2"], second, every, ignore_case)
    return result


def _replace(argument: Any, data: Any) -> Any:
    options = _options("@replace", argument)
    if not truthy(options.get("pattern", MISSING)):
        raise MappingError('@replace needs a "pattern"')
    if not truthy(options.get("value", MISSING)):
        return MISSING
    return replace(resolve(options["value"], data), options)


def map_items(root: Any, item_value: Callable[[Any], Any]) -> Any:
    """@arrayPath with an item mapping: each item of a list (an object is one item) mapped;
    any other root is returned as it is."""
    if isinstance(root, _CONTAINERS):
        items = root if isinstance(root, list) else [root]
        return [None if v is MISSING else v for v in map(item_value, items)]
    return root


def _array_path(argument: Any, data: Any) -> Any:
    if not isinstance(argument, list) or not argument:
        raise MappingError("@arrayPath takes a list: [path, item mapping]")
    path, shape = argument[0], argument[1] if len(argument) > 1 else MISSING
    root = _path(path, data) if isinstance(path, str) else resolve(path, data)
    if isinstance(shape, dict) and shape:
        return map_items(root, lambda item: resolve(shape, item))
    return root


def flatten(value: Any, separator: str, omit_arrays: bool, prefix: str = "") -> dict[str, Any]:
    """Segment's @flatten: nested keys joined by `separator`; a non-object becomes {"": value}."""
    if isinstance(value, dict) or (isinstance(value, list) and not omit_arrays):
        entries = value.items() if isinstance(value, dict) else enumerate(value)
        result: dict[str, Any] = {}
        for key, item in entries:
            name = f"{prefix}{separator}{key}" if prefix else str(key)
            result.update(flatten(item, separator, omit_arrays, name))
        return result
    return {prefix: value}


def _flatten(argument: Any, data: Any) -> Any:
    options = _options("@flatten", argument)
    separator = resolve(options.get("separator", MISSING), data)
    if not isinstance(separator, str) or not separator:
        raise MappingError('@flatten needs a "separator" string')
    value = resolve(options.get("value", MISSING), data)
    return flatten(value, separator, truthy(options.get("omitArrays", MISSING)))


def json_decode(value: Any) -> Any:
    """JSON.parse for text that is JSON; anything else is returned as it is."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value, parse_constant=_reject_constant)
    except ValueError:
        return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json(argument: Any, data: Any) -> Any:
    options = _options("@json", argument)
    mode = options.get("mode")
    if mode not in ("encode", "decode"):
        raise MappingError('@json needs "mode": "encode" or "decode"')
    if not truthy(options.get("value", MISSING)):
        raise MappingError('@json needs a "value"')
    value = resolve(options["value"], data)
    return json_text(value) if mode == "encode" else json_decode(value)


def assign(target: dict[str, Any], source: Any) -> None:
    """Object.assign(target, source): lists and strings spread by index, scalars add nothing."""
    if isinstance(source, dict):
        target.update(source)
    elif isinstance(source, list):
        target.update((str(i), item) for i, item in enumerate(source))
    elif isinstance(source, str):
        target.update((str(i), unit) for i, unit in enumerate(utf16_units(source)))


def _merge(argument: Any, data: Any) -> Any:
    options = _options("@merge", argument)
    objects = options.get("objects")
    if not isinstance(objects, list):
        raise MappingError('@merge needs "objects": a list of mappings')
    values = [resolve(item, data) for item in objects]
    if resolve(options.get("direction", "right"), data) == "left":
        values.reverse()
    result: dict[str, Any] = {}
    for value in values:
        assign(result, value)
    return result


def transform_data(data: Any) -> dict[str, Any]:
    """The data a @transform starts from: an object (undefined counts as {}, as in Segment)."""
    if data is MISSING:
        return {}
    if not isinstance(data, dict):
        raise MappingError(f"@transform: data must be an object, got {type_name(data)}")
    return data


def _transform(argument: Any, data: Any) -> Any:
    options = _options("@transform", argument)
    if not isinstance(options.get("apply"), dict) or not isinstance(options.get("mapping"), dict):
        raise MappingError('@transform needs "apply" and "mapping" objects')
    applied = evaluate(options["apply"], transform_data(data))
    return resolve(options["mapping"], applied)


def exclude_nulls(value: Any) -> Any:
    """@excludeWhenNull: null becomes MISSING, and so do null entries of objects, at any depth."""
    if value is None:
        return MISSING
    if isinstance(value, dict):
        return {
            k: MISSING if v is None else exclude_nulls(v) if isinstance(v, dict) else v
            for k, v in value.items()
        }
    return value


def _exclude_when_null(argument: Any, data: Any) -> Any:
    return exclude_nulls(resolve(argument, data))


def liquid(template: str, data: Any) -> str:
    """@liquid: the template rendered with the fields of `data` as its variables."""
    try:
        return mapping_liquid.render(template, clean(data))
    except mapping_liquid.LiquidError as exc:
        raise MappingError(f"@liquid: {exc}") from None


def _liquid(argument: Any, data: Any) -> Any:
    if not isinstance(argument, str):
        raise MappingError(f"@liquid takes a string, not {type_name(argument)}")
    return liquid(argument, data)


# --- actionspec's own directives -----------------------------------------------------------------
# They work on the evaluated value with MISSING entries removed, and give values without them.

_WORD = re.compile(r"[^\W_]+")
_CAMEL_BOUNDARY = re.compile(r"(?<=[^\W_])(?=[A-Z][a-z])|(?<=[a-z0-9])(?=[A-Z])")


def words(key: str) -> list[str]:
    """ "First Name" -> [First, Name]; "accountType" -> [account, Type]; "HTTPServer" -> [HTTP, Server]."""
    return [w for chunk in _WORD.findall(key) for w in _CAMEL_BOUNDARY.split(chunk) if w]


def _letters(word: str) -> str:
    """`word` without what is not a letter or digit: lower() may add marks ("İ" -> "i̇")."""
    return word if word.isalnum() else "".join(_WORD.findall(word))


def change_case(key: str, case: str) -> str:
    """`key` in `case`; snake and camel keep only letters and digits, so a key with none
    becomes "" (and rename_keys leaves it out)."""
    if case == "snake":
        return "_".join(filter(None, (_letters(w.lower()) for w in words(key))))
    if case == "camel":
        parts = [w for w in (_letters(w.lower()) for w in words(key)) if w]
        return (
            "".join([parts[0], *(_letters(w[:1].upper()) + w[1:] for w in parts[1:])])
            if parts
            else ""
        )
    if case == "lower":
        return key.lower()
    if case == "upper":
        return key.upper()
    return key


_CASE_CHANGES: dict[str, dict[str, str]] = {}  # case -> key -> changed key (keys repeat a lot)
_WORDY_CASES = frozenset({"snake", "camel"})  # cases that can leave a key nothing: "☃" -> ""


def rename_keys(value: Any, rename: Mapping[str, str], case: str) -> Any:
    """@keys: renamed keys as given, other keys in `case`; a later duplicate wins in place.
    A key that `snake` or `camel` leaves empty (no letter or digit) is left out."""
    if not isinstance(value, dict):
        return value
    if case == "keep" and not rename:
        return dict(value)
    known = _CASE_CHANGES.setdefault(case, {})
    if len(known) > 8192:  # bounded: hostile events may bring endless new keys
        known.clear()
    wordy = case in _WORDY_CASES
    result: dict[str, Any] = {}
    for key, item in value.items():
        if key in rename:
            result[rename[key]] = item
            continue
        new = known.get(key)
        if new is None:
            new = known[key] = change_case(key, case)
        if new or not wordy:
            result[new] = item
    return result


def lookup_text(value: Any) -> str | None:
    """The text a scalar is looked up by (JavaScript String(): 1 -> "1", true -> "true",
    null -> "null"); None for MISSING, objects and lists, which never match."""
    if type(value) is str:
        return value
    if value is MISSING or isinstance(value, _CONTAINERS):
        return None
    return string(value)


def lookup(value: Any, table: Mapping[str, Any], ignore_case: bool, folded: bool = False) -> Any:
    """The table entry for `value` (a copy), or MISSING when there is none. With `folded`, the
    table's keys are already case-folded (compiled code folds them once)."""
    text = lookup_text(value)
    if text is None:
        return MISSING
    if ignore_case:
        text = text.casefold()
        if not folded:
            table = {k.casefold(): v for k, v in table.items()}
    found = table.get(text, MISSING)
    return copy.deepcopy(found) if isinstance(found, _CONTAINERS) else found


def _same_json(a: Any, b: Any) -> bool:
    """JSON equality of scalars: true is not 1, 1 is 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if is_number(a) and is_number(b):
        return bool(a == b)
    return type(a) is type(b) and a == b


def select_entries(value: Any, keys: list[str] | None, values: list[Any] | None, keep: bool) -> Any:
    """@pick (keep=True) / @omit (keep=False): the entries whose key is in `keys` (all when None)
    and whose value is one of `values` (any when None)."""
    if not isinstance(value, dict):
        return value
    wanted = None if keys is None else set(keys)
    if values is None and wanted is not None:  # the usual case: by key alone
        return {k: v for k, v in value.items() if (k in wanted) == keep}

    def chosen(key: str, item: Any) -> bool:
        return (wanted is None or key in wanted) and (
            values is None or any(_same_json(item, v) for v in values)
        )

    return {k: v for k, v in value.items() if chosen(k, v) == keep}


def encode_nested(value: Any, objects: str, arrays: str, separator: str = ".") -> Any:
    """@encodeNested: how a flat property map carries nested objects and lists."""
    if not isinstance(value, dict):
        return value
    if SCALARS.issuperset(map(type, value.values())):  # the usual case: nothing nested
        return value  # (as @path gives it: directives build new objects, never change one)
    result: dict[str, Any] = {}
    for key, item in value.items():
        if type(item) in SCALARS:  # scalars, the usual values, stay as they are
            result[key] = item
        else:
            _put_encoded(result, key, item, objects, arrays, separator)
    return result


def _put_encoded(
    result: dict[str, Any], key: str, item: Any, objects: str, arrays: str, separator: str
) -> None:
    if isinstance(item, dict):
        if objects == "flatten":
            for sub_key, sub_item in item.items():
                name = f"{key}{separator}{sub_key}"
                _put_encoded(result, name, sub_item, objects, arrays, separator)
        elif objects != "drop":
            result[key] = json_text(item) if objects == "json" else item
    elif isinstance(item, list):
        if arrays == "join" and not any(isinstance(i, _CONTAINERS) for i in item):
            result[key] = string(item)
        elif arrays in ("json", "join"):  # "join" JSON-encodes lists of lists or objects
            result[key] = json_text(item)
        elif arrays == "keep":
            result[key] = item
    else:
        result[key] = item


def _custom_options(name: str, argument: Any) -> Mapping[str, Any]:
    options = _options(name, argument)
    if "value" not in options:
        raise MappingError(f'{name} needs a "value"')
    return options


def _keys(argument: Any, data: Any) -> Any:
    options = _custom_options("@keys", argument)
    value = evaluate(options["value"], data)
    return rename_keys(value, options.get("rename", {}), options.get("case", "keep"))


def _lookup(argument: Any, data: Any) -> Any:
    options = _custom_options("@lookup", argument)
    value = evaluate(options["value"], data)
    found = lookup(value, options.get("table", {}), options.get("ignore_case", False))
    if found is not MISSING:
        return found
    return evaluate(options["default"], data) if "default" in options else value


def _pick(argument: Any, data: Any) -> Any:
    options = _custom_options("@pick", argument)
    value = evaluate(options["value"], data)
    return select_entries(value, options.get("keys"), options.get("values"), keep=True)


def _omit(argument: Any, data: Any) -> Any:
    options = _custom_options("@omit", argument)
    value = evaluate(options["value"], data)
    return select_entries(value, options.get("keys"), options.get("values"), keep=False)


def each_value(value: Any, entry_value: Callable[[Any], Any]) -> Any:
    """@eachValue: `entry_value` applied to each value of an object or item of a list; entries
    whose result is MISSING are dropped. Any other value is returned as it is."""
    if isinstance(value, dict):
        mapped = ((k, entry_value(v)) for k, v in value.items())
        return {k: v for k, v in mapped if v is not MISSING}
    if isinstance(value, list):
        return [v for v in map(entry_value, value) if v is not MISSING]
    return value


def _each_value(argument: Any, data: Any) -> Any:
    options = _custom_options("@eachValue", argument)
    mapping = options.get("mapping", MISSING)
    return each_value(evaluate(options["value"], data), lambda v: evaluate(mapping, v))


def _encode_nested(argument: Any, data: Any) -> Any:
    options = _custom_options("@encodeNested", argument)
    value = evaluate(options["value"], data)
    return encode_nested(
        value, options["objects"], options["arrays"], options.get("separator", ".")
    )


def _drop(argument: Any, data: Any) -> Any:
    return MISSING


_DIRECTIVES: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "@path": _path,
    "@literal": _literal,
    "@template": _template,
    "@if": _if,
    "@case": _case,
    "@replace": _replace,
    "@arrayPath": _array_path,
    "@json": _json,
    "@flatten": _flatten,
    "@merge": _merge,
    "@transform": _transform,
    "@excludeWhenNull": _exclude_when_null,
    "@liquid": _liquid,
    "@keys": _keys,
    "@lookup": _lookup,
    "@pick": _pick,
    "@omit": _omit,
    "@eachValue": _each_value,
    "@encodeNested": _encode_nested,
    "@drop": _drop,
}

DIRECTIVES: Final = frozenset(_DIRECTIVES)
