"""The mapping language's own directives and helpers, by example and by property.

Segment's directives are checked against recordings of Segment (test_mapping_reference.py); the
directives actionspec adds (@keys, @lookup, @pick, @omit, @eachValue, @encodeNested, @drop) are
specified here: the examples from their design, then properties over random objects. Every
example runs through the interpreter and through compiled code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actionspec.languages import mapping_docs
from actionspec.languages.mapping import paths_read, problems
from actionspec.languages.mapping_compiler import (
    _compile,
    _Emitter,
    compile_function,
)
from actionspec.runtime import mapping as runtime_mapping
from actionspec.runtime import mapping_liquid
from actionspec.runtime.jsvalues import number_text, utf16_length
from actionspec.runtime.mapping import MISSING, MappingError, change_case, evaluate
from actionspec.targets import spec_reference
from contract.checks import key_follows


def compiled(mapping: Any) -> Callable[[Mapping[str, Any]], Any]:
    source = compile_function("mapped", mapping)
    namespace: dict[str, Any] = {"_m": runtime_mapping, "Any": Any, "Mapping": Mapping}
    exec(source, namespace)
    function: Callable[[Mapping[str, Any]], Any] = namespace["mapped"]
    return function


def both(mapping: Any, event: dict[str, Any]) -> Any:
    """The value of `mapping` for `event`, the same (order included) interpreted and compiled."""
    assert problems(mapping) == []
    interpreted, by_code = evaluate(mapping, event), compiled(mapping)(event)
    assert json.dumps(by_code) == json.dumps(interpreted)
    return interpreted


def path(text: str) -> dict[str, str]:
    return {"@path": text}


# --- @keys ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "snake", "camel"),
    [
        ("First Name", "first_name", "firstName"),
        ("accountType", "account_type", "accountType"),
        ("HTTPServer", "http_server", "httpServer"),
        ("user_id", "user_id", "userId"),
        ("address2Line", "address2_line", "address2Line"),
        ("  spaced -- out  ", "spaced_out", "spacedOut"),
        ("___", "", ""),
        ("İstanbul Code", "istanbul_code", "istanbulCode"),  # lower() adds a mark: left out
        ("☃", "", ""),
    ],
)
def test_key_cases(key: str, snake: str, camel: str) -> None:
    assert change_case(key, "snake") == snake
    assert change_case(key, "camel") == camel
    assert change_case(key, "keep") == key
    assert change_case(key, "upper") == key.upper()


def test_keys_renames_exactly_then_changes_case() -> None:
    event = {"traits": {"First Name": "Ann", "accountType": "pro", "HTTPServer": "h"}}
    mapping = {
        "@keys": {"value": path("$.traits"), "rename": {"First Name": "FN"}, "case": "snake"}
    }
    assert both(mapping, event) == {"FN": "Ann", "account_type": "pro", "http_server": "h"}


def test_keys_collision_later_value_wins_at_first_place() -> None:
    event = {"o": {"a_b": 1, "x": 2, "aB": 3}}
    result = both({"@keys": {"value": path("$.o"), "case": "snake"}}, event)
    assert list(result.items()) == [("a_b", 3), ("x", 2)]


def test_keys_leaves_non_objects_alone() -> None:
    assert both({"k": {"@keys": {"value": path("$.v"), "case": "upper"}}}, {"v": [1]}) == {"k": [1]}
    assert both({"k": {"@keys": {"value": path("$.nope"), "case": "upper"}}}, {}) == {}


def test_keys_without_letters_or_digits_have_no_snake_or_camel_form() -> None:
    event = {"o": {"☃": 1, "_": 2, "": 3, "ok": 4}}
    for case in ("snake", "camel"):
        assert both({"@keys": {"value": path("$.o"), "case": case}}, event) == {"ok": 4}
    for case in ("lower", "upper", "keep"):  # these change letters only: every key stays
        assert len(both({"@keys": {"value": path("$.o"), "case": case}}, event)) == 4


ascii_keys = st.text(alphabet="aZb 9_-Q", max_size=8)
any_keys = st.one_of(ascii_keys, st.text(max_size=8))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(any_keys, st.integers(), max_size=6))
def test_snake_case_is_idempotent_and_keeps_values(obj: dict[str, int]) -> None:
    once = runtime_mapping.rename_keys(obj, {}, "snake")
    assert runtime_mapping.rename_keys(once, {}, "snake") == once
    # snake_case as invariants check it: lower-case words of letters and digits, never empty
    assert all(key_follows("snake_case", k) for k in once), once
    assert set(once.values()) <= set(obj.values())
    # The value kept for a name is the last one that lands on it.
    for name, value in once.items():
        assert value == [v for k, v in obj.items() if change_case(k, "snake") == name][-1]


# --- @lookup ----------------------------------------------------------------------------------


def test_lookup_renames_one_event_and_keeps_the_others() -> None:
    mapping = {
        "e": {"@lookup": {"value": path("$.event"), "table": {"Order Completed": "Charged"}}}
    }
    assert both(mapping, {"event": "Order Completed"}) == {"e": "Charged"}
    assert both(mapping, {"event": "Signed Up"}) == {"e": "Signed Up"}
    assert both(mapping, {}) == {}


def test_lookup_with_a_drop_default_keeps_only_known_values() -> None:
    mapping = {
        "gender": {
            "@lookup": {
                "value": path("$.traits.gender"),
                "table": {"female": "F", "male": "M"},
                "default": {"@drop": {}},
                "ignore_case": True,
            }
        }
    }
    assert both(mapping, {"traits": {"gender": "Female"}}) == {"gender": "F"}
    assert both(mapping, {"traits": {"gender": "other"}}) == {}
    assert both(mapping, {"traits": {"gender": None}}) == {}


@pytest.mark.parametrize(
    ("value", "found"),
    [(1, "one"), (1.0, "one"), (True, "yes"), (None, "nothing"), ("1", "one"), ([1], "default")],
)
def test_lookup_matches_by_javascript_text(value: Any, found: Any) -> None:
    table = {"1": "one", "true": "yes", "null": "nothing"}
    mapping = {"@lookup": {"value": path("$.v"), "table": table, "default": "default"}}
    assert both({"r": mapping}, {"v": value}) == {"r": found}


def test_lookup_results_are_copies() -> None:
    mapping = {"@lookup": {"value": path("$.v"), "table": {"a": {"list": [1]}}}}
    first = evaluate(mapping, {"v": "a"})
    first["list"].append(2)
    assert evaluate(mapping, {"v": "a"}) == {"list": [1]}


# --- @pick / @omit ------------------------------------------------------------------------------


def test_pick_and_omit_by_key_and_value() -> None:
    event = {"o": {"a": 1, "b": True, "c": None, "d": "true"}}
    assert both({"@pick": {"value": path("$.o"), "keys": ["b", "a"]}}, event) == {"a": 1, "b": True}
    assert both({"@pick": {"value": path("$.o"), "values": [True]}}, event) == {"b": True}
    assert both({"@omit": {"value": path("$.o"), "values": [None, "true"]}}, event) == {
        "a": 1,
        "b": True,
    }
    assert (
        both({"@omit": {"value": path("$.o"), "keys": ["a"], "values": [2]}}, event) == event["o"]
    )


scalar_values = st.one_of(
    st.none(), st.booleans(), st.integers(-1, 2), st.sampled_from(["", "1", "a"])
)


@settings(max_examples=200, deadline=None)
@given(
    obj=st.dictionaries(st.sampled_from("abcde"), scalar_values, max_size=5),
    keys=st.one_of(st.none(), st.lists(st.sampled_from("abcdef"), max_size=4)),
    values=st.one_of(st.none(), st.lists(scalar_values, max_size=3)),
)
def test_pick_and_omit_split_an_object(obj: dict[str, Any], keys: Any, values: Any) -> None:
    picked = runtime_mapping.select_entries(obj, keys, values, keep=True)
    omitted = runtime_mapping.select_entries(obj, keys, values, keep=False)
    assert set(picked).isdisjoint(omitted)
    assert sorted([*picked, *omitted]) == sorted(obj)
    for part in (picked, omitted):  # each keeps the object's order and values
        assert list(part) == [k for k in obj if k in part]
        assert all(part[k] is obj[k] for k in part)
    for key, value in picked.items():
        assert keys is None or key in keys
        assert values is None or any(type(v) is type(value) and v == value for v in values)


# --- @eachValue -------------------------------------------------------------------------------

ONLY_BOOLEANS = {
    "@lookup": {
        "value": {"@path": "$"},
        "table": {"true": True, "false": False},
        "default": {"@drop": {}},
    }
}


def test_each_value_keeps_only_booleans_as_loops_needs() -> None:
    event = {"lists": {"news": "true", "promo": False, "beta": "maybe", "n": 1, "z": None}}
    mapping = {"@eachValue": {"value": path("$.lists"), "mapping": ONLY_BOOLEANS}}
    assert both(mapping, event) == {"news": True, "promo": False}
    assert both(mapping, {"lists": ["true", "x", True]}) == [True, True]
    assert both({"k": mapping}, {"lists": "true"}) == {"k": "true"}  # not a container: as is


def test_each_value_paths_read_inside_each_value() -> None:
    event = {"items": {"a": {"sku": "x", "n": 1}, "b": {"n": 2}}}
    mapping = {"@eachValue": {"value": path("$.items"), "mapping": path("$.sku")}}
    assert both(mapping, event) == {"a": "x"}


# --- @encodeNested ------------------------------------------------------------------------------

NESTED = {"a": 1, "o": {"x": {"y": [1, 2]}, "z": "t"}, "l": [1, "b", None], "lo": [{"k": 1}]}


@pytest.mark.parametrize(
    ("objects", "arrays", "expected"),
    [
        ("keep", "keep", NESTED),
        ("drop", "drop", {"a": 1}),
        (
            "json",
            "json",
            {"a": 1, "o": '{"x":{"y":[1,2]},"z":"t"}', "l": '[1,"b",null]', "lo": '[{"k":1}]'},
        ),
        ("flatten", "join", {"a": 1, "o.x.y": "1,2", "o.z": "t", "l": "1,b,", "lo": '[{"k":1}]'}),
        ("flatten", "drop", {"a": 1, "o.z": "t"}),
    ],
)
def test_encode_nested_policies(objects: str, arrays: str, expected: dict[str, Any]) -> None:
    mapping = {"@encodeNested": {"value": path("$.p"), "objects": objects, "arrays": arrays}}
    assert both(mapping, {"p": NESTED}) == expected


nested_json = st.recursive(  # integers as JavaScript holds them exactly
    st.one_of(st.none(), st.booleans(), st.integers(-(2**53), 2**53), st.text(max_size=3)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from("pq"), inner, max_size=2)
    ),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from("abc"), nested_json, max_size=4))
def test_encode_nested_json_loses_nothing(obj: dict[str, Any]) -> None:
    encoded = runtime_mapping.encode_nested(obj, "json", "json")
    assert list(encoded) == list(obj)
    for key, value in encoded.items():
        assert not isinstance(value, dict | list)
        if isinstance(obj[key], dict | list):
            assert json.loads(value) == obj[key]
        else:
            assert value == obj[key]
    flat = runtime_mapping.encode_nested(obj, "flatten", "json", "/")
    assert not any(isinstance(v, dict | list) for v in flat.values())


# --- @drop and MISSING -------------------------------------------------------------------------


def test_drop_leaves_a_key_out_and_a_list_item_null() -> None:
    assert both({"a": {"@drop": {}}, "b": [{"@drop": {}}], "c": 1}, {}) == {"b": [None], "c": 1}


def test_missing_inside_raw_values_is_removed_at_the_end() -> None:
    """@merge spreads a list built by @arrayPath whose items lack a key: no MISSING escapes."""
    mapping = {"@merge": {"objects": [{"@arrayPath": ["$.l", {"v": path("$.k"), "w": 1}]}]}}
    assert both(mapping, {"l": [{"k": 1}, {}]}) == {"0": {"v": 1, "w": 1}, "1": {"w": 1}}
    flattened = {"@flatten": {"value": {"@excludeWhenNull": path("$.o")}, "separator": "."}}
    assert both(flattened, {"o": {"a": None, "b": {"c": None, "d": 2}}}) == {"b.d": 2}


def test_missing_entries_of_merged_objects_are_removed_at_every_depth() -> None:
    """Compiled code drops only an object's own missing entries when nothing deeper can be
    missing (`drop_missing`); here missing values sit one and two levels down as well."""
    nested = {"a": path("$.gone"), "b": {"c": path("$.gone"), "d": {"e": path("$.gone")}}}
    merged = {"@merge": {"objects": [nested, path("$.t"), {"f": path("$.gone")}]}}
    assert both(merged, {"t": {"g": 1}}) == {"b": {"d": {}}, "g": 1}
    outer = {"@merge": {"objects": [{"x": {"y": path("$.gone")}}, {"z": path("$.gone")}]}}
    assert both(outer, {}) == {"x": {}}
    flat = {"@merge": {"objects": [{"a": path("$.gone"), "b": path("$.o")}, path("$.t")]}}
    assert both(flat, {"o": {"x": None}, "t": {"a": 2}}) == {"a": 2, "b": {"x": None}}
    assert both(flat, {"o": {"x": None}}) == {"b": {"x": None}}


def test_merge_lets_a_missing_value_replace_an_earlier_one_as_segment_does() -> None:
    mapping = {"@merge": {"objects": [path("$.t"), {"email": path("$.p.email")}]}}
    assert both(mapping, {"t": {"email": "a@b", "n": 1}, "p": {}}) == {"n": 1}


# --- JavaScript values -----------------------------------------------------------------------


@settings(max_examples=300)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_number_text_is_javascript_shaped_and_exact(number: float) -> None:
    text = number_text(number)
    assert float(text) == number or (number == 0 and text == "0")
    assert re.fullmatch(r"-?(0|[1-9]\d*)(\.\d*[1-9])?(e[+-][1-9]\d*)?|-?0\.0*[1-9]\d*", text)
    exponent = int(text.partition("e")[2] or 0)
    assert exponent == 0 or exponent >= 21 or exponent <= -7  # JavaScript's thresholds


@given(st.text())
def test_utf16_length_counts_code_units(text: str) -> None:
    assert utf16_length(text) == len(text.encode("utf-16-le", "surrogatepass")) // 2


@pytest.mark.parametrize(
    ("number", "text"),
    [(1.0, "1"), (1e21, "1e+21"), (1e-7, "1e-7"), (1.5e-7, "1.5e-7"), (123e-20, "1.23e-18"),
     (1e16, "10000000000000000"), (0.000001, "0.000001"), (-0.0, "0"), (2**60, "1152921504606847000")],
)  # fmt: skip
def test_number_text_examples(number: float, text: str) -> None:
    assert number_text(number) == text


# --- @liquid ----------------------------------------------------------------------------------


def test_liquid_without_python_liquid_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = mapping_liquid.importlib.import_module

    def no_liquid(name: str) -> Any:
        if name == "liquid":
            raise ImportError(name)
        return real_import(name)

    mapping_liquid._environment.cache_clear()
    mapping_liquid._parse.cache_clear()
    monkeypatch.setattr(mapping_liquid.importlib, "import_module", no_liquid)
    try:
        with pytest.raises(MappingError, match=r"python-liquid.*'liquid' extra"):
            evaluate({"@liquid": "{{ a }}"}, {"a": 1})
    finally:
        monkeypatch.undo()
        mapping_liquid._environment.cache_clear()
        mapping_liquid._parse.cache_clear()
    assert evaluate({"@liquid": "{{ a }}"}, {"a": 1}) == "1"


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{% for t in tags %}{{ t }}{% endfor %}", "tag 'for' is disabled"),
        ("{% render 'x' %}", "tag 'render' is disabled"),
        ("{{ tags | sort }}", "filter 'sort' is disabled"),
        ("{{ tags | nope }}", "filter 'nope' is unknown"),
        ("x" * 1001, "limited to 1000 characters"),
        ("😀" * 501, "limited to 1000 characters"),  # 1002 UTF-16 units
        ("{% if a %}", "endif"),
    ],
)
def test_liquid_restrictions(template: str, problem: str) -> None:
    found = problems({"@liquid": template})
    assert len(found) == 1 and problem in found[0]
    with pytest.raises(MappingError, match=re.escape(problem)):
        evaluate({"@liquid": template}, {"tags": ["a"]})


def test_liquid_render_errors_are_mapping_errors() -> None:
    with pytest.raises(MappingError, match="@liquid"):
        evaluate({"@liquid": "{{ a | divided_by: 0 }}"}, {"a": 1})


# --- running malformed mappings, and the compiler's interface ---------------------------------


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"@pth": "$.a"}, "unknown directive @pth"),
        ({"@path": "$.a", "b": 1}, "must be the only key"),
        ({"@path": 3}, "@path takes a string, not number"),
        ({"@path": "$.a..b"}, "invalid path"),
        ({"@keys": {"case": "snake"}}, '@keys needs a "value"'),
        ({"@merge": {"objects": 1}}, "@merge needs"),
    ],
)
def test_malformed_mappings_raise_clear_errors(mapping: Any, message: str) -> None:
    with pytest.raises(MappingError, match=re.escape(message)):
        evaluate(mapping, {"a": 1})
    with pytest.raises(ValueError, match="malformed mapping"):
        compile_function("f", mapping)


def test_paths_read_are_those_of_the_data_itself() -> None:
    mapping = {
        "a": {"@arrayPath": ["$.products", {"id": path("$.sku")}]},
        "b": {"@template": "{{traits.name}} {{{ context.ip }}}"},
        "c": {"@transform": {"apply": {"x": path("$.userId")}, "mapping": path("$.x")}},
        "d": {"@lookup": {"value": path("$.event"), "table": {"@path": "not a read"}}},
        "e": {"@literal": path("$.not.read")},
        "f": {"@eachValue": {"value": path("$.traits"), "mapping": path("$.inside")}},
    }
    assert set(paths_read(mapping)) == {
        ("products",),
        ("traits", "name"),
        ("context", "ip"),
        ("userId",),
        ("event",),
        ("traits",),
    }


def test_sub_mapping_interface_of_the_payload_compiler() -> None:
    out = _Emitter()
    expression, missing = _compile(
        {"@case": {"operator": "upper", "value": path("$.a")}}, "data", out
    )
    out.emit(f"return {expression}")
    source = out.function("def f(data: Any) -> Any:")
    namespace: dict[str, Any] = {"_m": runtime_mapping, "Any": Any}
    exec(source, namespace)
    assert namespace["f"]({"a": "x"}) == "X"
    assert namespace["f"]({}) is MISSING
    assert missing

    def may_be_missing(mapping: Any) -> bool:
        return _compile(mapping, "data", _Emitter())[1]

    assert may_be_missing(path("$.a")) and may_be_missing({"@drop": {}})
    assert not may_be_missing({"@template": "x"}) and not may_be_missing({"a": path("$.a")})


# --- documentation ----------------------------------------------------------------------------


def test_every_directive_is_documented_with_a_valid_example() -> None:
    assert {doc.name for doc in mapping_docs.DOCS} == set(runtime_mapping.DIRECTIVES)
    page = spec_reference.generate()["docs/spec-reference.md"]
    for doc in mapping_docs.DOCS:
        assert problems(doc.example) == [], doc.name
        assert f"### {doc.name}\n" in page
        used = {k for k in json.dumps(doc.example).split('"') if k.startswith("@")}
        assert doc.name in used, f"the example of {doc.name} does not use it"
        result = evaluate(doc.example, mapping_docs.EXAMPLE_EVENT)
        shown = "no value" if result is MISSING else json.dumps(result, ensure_ascii=False)
        assert shown in page
