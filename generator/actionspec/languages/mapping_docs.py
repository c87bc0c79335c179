"""The mapping language's reference: every directive with an example, as Markdown.

Each example's result is computed by the reference interpreter when the page is generated, so the
page cannot drift from the language (the spec reference page includes this section).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from actionspec.runtime.mapping import MISSING, evaluate


@dataclass(frozen=True)
class DirectiveDoc:
    name: str
    origin: str  # "Segment" (mapping-kit) or "actionspec"
    syntax: str
    text: str
    example: Any


EXAMPLE_EVENT: dict[str, Any] = {
    "type": "track",
    "event": "Order Completed",
    "userId": "u1",
    "properties": {
        "plan": "Pro",
        "total": 42.5,
        "coupon": None,
        "products": [{"sku": "A-1", "price": 10}, {"sku": "B-2", "price": 32.5}],
        "address": {"city": "Paris", "zip": "75001"},
        "tags": ["new", "vip"],
    },
    "traits": {
        "First Name": "Ann",
        "accountType": "pro",
        "gender": "female",
        "lists": {"news": "true", "promo": False, "beta": "maybe"},
    },
    "context": {"page": {"path": "/cart", "url": "https://shop.example/cart"}},
}

DOCS: tuple[DirectiveDoc, ...] = (
    DirectiveDoc(
        "@path",
        "Segment",
        '{"@path": "$.a.b[0]"}',
        "The value at a path of the data: `.key` and `[n]` steps, a leading `$.` optional, `$` "
        "alone for the data itself. Lists and strings also have `length` and numeric steps "
        '(`$.tags.0`). As in JavaScript, a step from `null`, `0`, `false` or `""` gives that '
        "value back; a step from anything else that has no such key gives no value (the key is "
        "dropped).",
        {
            "path": {"@path": "$.context.page.path"},
            "sku": {"@path": "$.properties.products[1].sku"},
        },
    ),
    DirectiveDoc(
        "@template",
        "Segment",
        '{"@template": "text {{a.b}}"}',
        "Text with `{{path}}` slots replaced by the values at those paths (no value or null: "
        '`""`; lists joined with `,`; objects `[object Object]`; numbers as JavaScript prints '
        "them). `{{{path}}}` slots are replaced first, then `{{path}}` slots in the result.",
        {"@template": "{{userId}} bought {{properties.tags}} for {{properties.total}}"},
    ),
    DirectiveDoc(
        "@literal",
        "Segment",
        '{"@literal": <any JSON>}',
        "The value as written, even if it looks like a mapping (nothing inside is evaluated).",
        {"@literal": {"@path": "not evaluated"}},
    ),
    DirectiveDoc(
        "@if",
        "Segment",
        '{"@if": {"exists" | "blank": <mapping>, "then"?: <mapping>, "else"?: <mapping>}}',
        "`then` when the condition holds, else `else`; a branch that is not given drops the key. "
        "`exists` holds when the value is neither missing nor null. `blank` holds when the value "
        'is **not** blank: blank is missing, null, or loosely equal to `""` (`""`, `0`, `false`, '
        "`[]`), so `then` is the branch for a filled-in value. A constant `else` that is null, "
        '`""`, `0` or `false` is refused (Segment ignores it): omit `else`, or use `@literal`.',
        {
            "@if": {
                "exists": {"@path": "$.properties.coupon"},
                "then": {"@path": "$.properties.coupon"},
                "else": "none",
            }
        },
    ),
    DirectiveDoc(
        "@case",
        "Segment",
        '{"@case": {"operator": "lower" | "upper", "value": <mapping>}}',
        "Text in lower or upper case; values that are not text are returned as they are.",
        {"@case": {"operator": "upper", "value": {"@path": "$.properties.plan"}}},
    ),
    DirectiveDoc(
        "@replace",
        "Segment",
        '{"@replace": {"value": <mapping>, "pattern": "text", "replacement"?: "text", '
        '"global"?: true, "ignorecase"?: false, "pattern2"?: "text", "replacement2"?: "text"}}',
        "Replaces plain text (not a regular expression): every occurrence, or the first with "
        "`global: false`; then `pattern2` the same way. Patterns have 1 to 10 characters, "
        "replacements at most 10 (Segment's limits); in a replacement, `$&` is the match and `$$` "
        'a dollar sign. Numbers and booleans are replaced in as text; any other value gives `""`.',
        {"@replace": {"value": {"@path": "$.event"}, "pattern": " ", "replacement": "_"}},
    ),
    DirectiveDoc(
        "@arrayPath",
        "Segment",
        '{"@arrayPath": [<path or directive>, <item mapping>?]}',
        "Each item of the list at the path, mapped by the item mapping, whose paths are relative "
        "to the item (`$.` alone is the item). An object counts as a one-item list; anything else, "
        "or no item mapping, gives the value as it is.",
        {"@arrayPath": ["$.properties.products", {"id": {"@path": "$.sku"}}]},
    ),
    DirectiveDoc(
        "@json",
        "Segment",
        '{"@json": {"mode": "encode" | "decode", "value": <mapping>}}',
        "`encode`: the value as compact JSON text (as JavaScript's JSON.stringify). `decode`: "
        "text that is JSON becomes its value; anything else is returned as it is.",
        {"@json": {"mode": "encode", "value": {"@path": "$.properties.address"}}},
    ),
    DirectiveDoc(
        "@flatten",
        "Segment",
        '{"@flatten": {"value": <mapping>, "separator": "text", "omitArrays"?: false}}',
        "Nested objects (and lists, unless `omitArrays`) become one object whose keys join the "
        "nested keys with the separator (list items by their index). Empty objects vanish; a "
        'value that is not an object becomes `{"": value}`.',
        {"@flatten": {"value": {"@path": "$.properties"}, "separator": ".", "omitArrays": True}},
    ),
    DirectiveDoc(
        "@merge",
        "Segment",
        '{"@merge": {"objects": [<mapping>, ...], "direction"?: "right" | "left"}}',
        "The objects' entries in one object; with `right` (the default) later objects win, with "
        "`left` earlier ones. As in JavaScript's Object.assign, an entry whose value is missing "
        "still replaces an earlier one (and then disappears), lists and text spread by index and "
        "other values add nothing.",
        {
            "@merge": {
                "objects": [{"@path": "$.traits"}, {"gender": "unknown", "plan": "free"}],
                "direction": "left",
            }
        },
    ),
    DirectiveDoc(
        "@transform",
        "Segment",
        '{"@transform": {"apply": <mapping>, "mapping": <mapping>}}',
        "Evaluates `apply`, then `mapping` with paths read from that result.",
        {
            "@transform": {
                "apply": {"name": {"@path": "$.traits.First Name"}},
                "mapping": {"@template": "Hello {{name}}"},
            }
        },
    ),
    DirectiveDoc(
        "@excludeWhenNull",
        "Segment",
        '{"@excludeWhenNull": <mapping>}',
        "Null drops the key; in an object, entries that are null are dropped, at any depth of "
        "nested objects (not inside lists).",
        {"coupon": {"@excludeWhenNull": {"@path": "$.properties.coupon"}}, "kept": 1},
    ),
    DirectiveDoc(
        "@liquid",
        "Segment",
        '{"@liquid": "Liquid template"}',
        "A Liquid template over the data, rendered by python-liquid with Segment's restrictions: "
        "at most 1000 characters, no `case`, `for`, `include`, `layout`, `render` or `tablerow` "
        "tags and no sorting, mapping or filtering filters. The generated package needs its "
        "`liquid` extra (`python-liquid`) to run it.",
        {
            "@liquid": "{{ traits['First Name'] | upcase }}{% if properties.total > 40 %}!{% endif %}"
        },
    ),
    DirectiveDoc(
        "@keys",
        "actionspec",
        '{"@keys": {"value": <mapping>, "rename"?: {"old": "new"}, '
        '"case"?: "snake" | "camel" | "lower" | "upper" | "keep"}}',
        "An object with its keys changed: a key found in `rename` gets its new name (and no case "
        'change); every other key gets `case` (default `keep`). `snake`: "First Name" -> '
        '`first_name`, "accountType" -> `account_type`, "HTTPServer" -> `http_server`; `camel`: '
        '`firstName`. `snake` and `camel` keep only letters and digits ("İstanbul" -> '
        '`istanbul`), so a key with none ("☃", "_") has no such form and is left out. Key '
        "order is kept; when two keys land on the same name, the later value wins at the first "
        "key's place. Values that are not objects are returned as they are.",
        {"@keys": {"value": {"@path": "$.traits"}, "case": "snake", "rename": {"gender": "sex"}}},
    ),
    DirectiveDoc(
        "@lookup",
        "actionspec",
        '{"@lookup": {"value": <mapping>, "table": {"text": <JSON>}, "default"?: <mapping>, '
        '"ignore_case"?: false}}',
        "The table entry for the value: text, numbers, booleans and null are looked up by their "
        'JavaScript text (`1` -> "1", `true` -> "true", null -> "null"); objects, lists and a '
        'missing value match nothing. With no entry: the `default` mapping (`{"@drop": {}}` '
        "drops the key), else the value unchanged.",
        {
            "sex": {
                "@lookup": {
                    "value": {"@path": "$.traits.gender"},
                    "table": {"female": "F", "male": "M"},
                    "default": {"@drop": {}},
                }
            },
            "event": {
                "@lookup": {"value": {"@path": "$.event"}, "table": {"Order Completed": "Charged"}}
            },
        },
    ),
    DirectiveDoc(
        "@pick",
        "actionspec",
        '{"@pick": {"value": <mapping>, "keys"?: ["key", ...], "values"?: [<JSON scalar>, ...]}}',
        "The object's entries whose key is in `keys` (any key when not given) and whose value is "
        "one of `values` (any value when not given; `1` and `true` differ), in the object's order. "
        "Values that are not objects are returned as they are.",
        {"@pick": {"value": {"@path": "$.context.page"}, "keys": ["path"]}},
    ),
    DirectiveDoc(
        "@omit",
        "actionspec",
        '{"@omit": {"value": <mapping>, "keys"?: ["key", ...], "values"?: [<JSON scalar>, ...]}}',
        "The object without the entries `@pick` would keep.",
        {"@omit": {"value": {"@path": "$.properties"}, "values": [None], "keys": ["coupon"]}},
    ),
    DirectiveDoc(
        "@eachValue",
        "actionspec",
        '{"@eachValue": {"value": <mapping>, "mapping": <mapping>}}',
        "`mapping` applied to each value of an object (or item of a list), with `$` standing for "
        "that value; entries whose result is missing are dropped. Other values are returned as "
        "they are.",
        {
            "@eachValue": {
                "value": {"@path": "$.traits.lists"},
                "mapping": {
                    "@lookup": {
                        "value": {"@path": "$"},
                        "table": {"true": True, "false": False},
                        "default": {"@drop": {}},
                    }
                },
            }
        },
    ),
    DirectiveDoc(
        "@encodeNested",
        "actionspec",
        '{"@encodeNested": {"value": <mapping>, "objects": "keep" | "json" | "flatten" | "drop", '
        '"arrays": "keep" | "json" | "join" | "drop", "separator"?: "."}}',
        "For a flat property map: each nested object value is kept, JSON-encoded, flattened into "
        "`parent<separator>child` keys (at any depth, in place) or dropped; each list value is "
        'kept, JSON-encoded, joined with "," (a list of lists or objects is JSON-encoded instead) '
        "or dropped. `json` and `flatten` with `json` or `join` lose nothing. Values that are not "
        "objects are returned as they are.",
        {
            "@encodeNested": {
                "value": {"@path": "$.properties"},
                "objects": "flatten",
                "arrays": "join",
                "separator": "_",
            }
        },
    ),
    DirectiveDoc(
        "@drop",
        "actionspec",
        '{"@drop": {}}',
        "No value: the key is dropped (or, in `@eachValue`, the entry). Useful as a `default`.",
        {"kept": 1, "dropped": {"@drop": {}}},
    ),
)

DIFFERENCES: tuple[str, ...] = (
    "`$` alone is the data itself (Segment reads a key named `$`); template slots may start "
    "with `$.`.",
    "`@literal` never evaluates what it holds (Segment evaluates directives inside it).",
    "Paths, templates and options are fixed text; Segment also accepts a directive computing "
    'them (`{"@path": {"@template": ...}}`).',
    "`@merge` without `direction` merges to the right (Segment requires `direction`).",
    "A missing value inside a list becomes null at once (Segment keeps it undefined until the end, "
    "which only shows when such a list goes through `@arrayPath`, `@flatten` or `@merge`).",
    "Keys keep their order; JavaScript lists keys that look like integers first.",
    "The checks are stricter: unknown options, both `exists` and `blank`, falsy constant "
    "`value`s or `else`s, which Segment ignores or rejects only at run time, are errors.",
    "`@liquid` runs python-liquid, which prints and divides numbers the Python way "
    "(`{{ 3 | divided_by: 2 }}` is `1`, liquidjs gives `1.5`) and lacks some liquidjs filters.",
)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def markdown() -> list[str]:
    """The mapping language section of the spec reference, as lines."""
    lines = [
        "## Mapping language",
        "",
        "Field defaults, preset mappings and request bodies are mappings: JSON values evaluated "
        "against an event (or, for bodies, against `payload`, `settings` and `event`). Plain "
        "objects and lists are evaluated entry by entry; text, numbers, booleans and null are "
        "constants. An object with exactly one key starting with `@` is a directive. A "
        "directive may give no value (a path that does not exist): the key it is under is then "
        "left out, and in a list it becomes null. The Segment directives behave as Segment's "
        "mapping-kit (actions-core 3.170.0) does, checked against recordings of it "
        "(`tools/mapping_reference`); the others are actionspec's own.",
        "",
        "The examples below are evaluated against this event:",
        "",
        "```json",
        _json(EXAMPLE_EVENT),
        "```",
        "",
        "| Directive | From | Form |",
        "| --- | --- | --- |",
    ]
    for doc in DOCS:
        anchor = doc.name.lstrip("@").lower()
        syntax = doc.syntax.replace("|", "\\|")  # a table cell: escape the pipes
        lines.append(f"| [`{doc.name}`](#{anchor}) | {doc.origin} | `{syntax}` |")
    for doc in DOCS:
        result = evaluate(doc.example, EXAMPLE_EVENT)
        shown = "no value" if result is MISSING else f"`{_json(result)}`"
        lines += [
            "",
            f"### {doc.name}",
            "",
            doc.text,
            "",
            f"Example: `{_json(doc.example)}` gives {shown}.",
        ]
    lines += ["", "### Differences from Segment's mapping-kit", ""]
    lines += [f"- {difference}" for difference in DIFFERENCES]
    return lines
