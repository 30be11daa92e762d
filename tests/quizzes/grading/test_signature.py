"""The language-neutral signature: types, records, defaults, and every test checked
against it with an error that says where (no sandbox, no database)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from quizzes.grading.languages import LANGUAGE_KEYS, LANGUAGES, language_for_filename
from quizzes.grading.languages.base import Language
from quizzes.grading.languages.names import go_exported, go_local, lower_camel, member_name
from quizzes.grading.signature import (
    MISSING,
    Param,
    Record,
    RecordField,
    SignatureError,
    TypeRef,
    bind_arguments,
    check_value,
    parse_type,
)
from quizzes.grading.spec import CodeChallengeSpec, SpecError, code_spec_from_dict

RECORDS = {"Delivery", "Worst"}


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("int", "int"),
        ("float?", "float?"),
        ("list<string>", "list<string>"),
        (" map< list<int?> >? ", "map<list<int?>>?"),
        ("list<Delivery>", "list<Delivery>"),
        ("any", "any"),
    ],
)
def test_types_parse_to_their_canonical_text(text: str, canonical: str) -> None:
    assert str(parse_type(text, RECORDS, where="t")) == canonical


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("strin", "t: unknown type 'strin'"),
        ("list<int", "t: missing '>' to close 'list<'"),
        ("list", "t: 'list' needs an element type"),
        ("int??", "t: '??'"),
        ("int>", "t: unexpected '>' after 'int'"),
        ("void", "t: 'void' is only allowed as a return type"),
        ("", "t: expected a type"),
        (3, "t: expected a type"),
    ],
)
def test_bad_types_are_refused_precisely(text: Any, message: str) -> None:
    with pytest.raises(SignatureError, match=message.replace("?", r"\?").replace("(", r"\(")):
        parse_type(text, RECORDS, where="t")


def test_void_is_a_return_type_and_never_nullable() -> None:
    assert parse_type("void", where="r", allow_void=True).kind == "void"
    with pytest.raises(SignatureError, match="cannot be nullable"):
        parse_type("void?", where="r", allow_void=True)


DELIVERY = Record(
    "Delivery",
    (
        RecordField("id", TypeRef("string")),
        RecordField("attempt", TypeRef("int")),
        RecordField("note", TypeRef("string", nullable=True)),
        RecordField("error", TypeRef("string"), optional=True),
    ),
)


@pytest.mark.parametrize(
    ("value", "type_text", "message"),
    [
        (True, "int", "v: expected int, got bool True"),
        (2.0, "int", "v: 2.0 is a float, not an int"),
        (2**63, "int", "does not fit in a 64-bit int"),
        (None, "string", "v: null is not a string"),
        ([1, "x"], "list<int>", r"v\[1\]: expected int, got string 'x'"),
        ({"a": [1, None]}, "map<list<int>>", r"v.a\[1\]: null is not a int"),
        ({"id": "d1", "attempt": 1}, "Delivery", "v: Delivery needs field 'note'"),
        (
            {"id": "d1", "attempt": 1, "note": None, "colour": 1},
            "Delivery",
            "v: Delivery has no field 'colour'",
        ),
        (
            {"id": "d1", "attempt": 1, "note": None, "error": None},
            "Delivery",
            "v.error: an optional field is left out, not null",
        ),
        ([{"id": 1}], "list<Delivery>", r"v\[0\]"),
    ],
)
def test_values_that_do_not_fit_say_where(value: Any, type_text: str, message: str) -> None:
    type_ = parse_type(type_text, {"Delivery"}, where="t")
    with pytest.raises(SignatureError, match=message):
        check_value(value, type_, {"Delivery": DELIVERY}, "v")


@pytest.mark.parametrize(
    ("value", "type_text"),
    [
        (3, "float"),
        (None, "int?"),
        ({"x": [1, {"y": None}]}, "any"),
        ({"id": "d", "attempt": 2, "note": None}, "Delivery"),
        ({"id": "d", "attempt": 2, "note": "n", "error": "late"}, "Delivery"),
        ({}, "map<int>"),
    ],
)
def test_values_that_fit(value: Any, type_text: str) -> None:
    check_value(value, parse_type(type_text, {"Delivery"}, where="t"), {"Delivery": DELIVERY}, "v")


PARAMS = (
    Param("lines", TypeRef("list", item=TypeRef("string"))),
    Param("max_count", TypeRef("int")),
    Param("leeway", TypeRef("int"), default=0),
)


def test_keyword_arguments_become_positional_with_defaults_filled() -> None:
    assert bind_arguments(PARAMS, [["a"]], {"max_count": 2}, "t") == [["a"], 2, 0]
    assert bind_arguments(PARAMS, [], {"leeway": 5, "lines": [], "max_count": 1}, "t") == [
        [],
        1,
        5,
    ]
    assert MISSING is not None and not MISSING


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ([[], 1, 2, 3], {}, "t: 4 positional arguments, but the signature takes 3"),
        ([[]], {"count": 1}, "t.kwargs: no parameter named 'count'"),
        ([[], 1], {"max_count": 2}, "'max_count' is already given as a positional argument"),
        ([[]], {}, "t: missing argument 'max_count'"),
    ],
)
def test_calls_that_do_not_bind_are_refused(
    args: list[Any], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(SignatureError, match=message):
        bind_arguments(PARAMS, args, kwargs, "t")


BATCH: dict[str, Any] = {
    "entry_point": "batch_lines",
    "kind": "function",
    "signature": {
        "params": [
            {"name": "lines", "type": "list<string>"},
            {"name": "max_count", "type": "int"},
            {"name": "leeway", "type": "int", "default": 0},
        ],
        "returns": "list<list<string>>",
        "raises": ["ValueError"],
    },
    "tests": [
        {"name": "basic", "visible": True, "args": [["a", "b"], 1], "expect": [["a"], ["b"]]},
        {"name": "zero", "args": [["a"]], "kwargs": {"max_count": 0}, "raises": "ValueError"},
    ],
}

CACHE: dict[str, Any] = {
    "entry_point": "TTLCache",
    "kind": "class",
    "signature": {
        "init": [{"name": "capacity", "type": "int"}],
        "methods": {
            "get": {"params": [{"name": "key", "type": "string"}], "returns": "any"},
            "put": {
                "params": [{"name": "key", "type": "string"}, {"name": "value", "type": "any"}],
                "returns": "void",
            },
            "remove": {
                "params": [{"name": "key", "type": "string"}],
                "returns": "void",
                "raises": ["KeyError"],
            },
        },
    },
    "tests": [
        {
            "name": "round trip",
            "visible": True,
            "init": {"args": [2]},
            "calls": [
                {"method": "put", "args": ["a", {"x": 1}], "expect": None},
                {"method": "get", "kwargs": {"key": "a"}, "expect": {"x": 1}},
                {"method": "remove", "args": ["zz"], "raises": "KeyError"},
            ],
        }
    ],
}


def changed(
    base: dict[str, Any], path: list[Any], value: Any = None, *, delete: bool = False
) -> Any:
    data = copy.deepcopy(base)
    target = data
    for key in path[:-1]:
        target = target[key]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


def test_a_challenge_with_a_signature_parses() -> None:
    spec = code_spec_from_dict(BATCH)
    assert spec.signature is not None
    assert [p.name for p in spec.signature.params] == ["lines", "max_count", "leeway"]
    assert spec.signature.params[2].default == 0
    cache = code_spec_from_dict(CACHE)
    assert cache.signature is not None and cache.signature.method("remove") is not None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            changed(BATCH, ["tests", 0, "args", 1], "1"),
            r"challenge.tests\[0\] \('basic'\).args\[1\] \(max_count\): expected int, got string",
        ),
        (
            changed(BATCH, ["tests", 0, "expect"], [[1]]),
            r"challenge.tests\[0\] \('basic'\).expect\[0\]\[0\]: expected string",
        ),
        (
            changed(BATCH, ["tests", 1, "kwargs"], {"max_count": "0"}),
            r"\('zero'\).kwargs.max_count: expected int",
        ),
        (
            changed(BATCH, ["tests", 1, "raises"], "KeyError"),
            r"\('zero'\).raises: 'KeyError' is not in the signature's 'raises'",
        ),
        (
            changed(BATCH, ["signature", "raises"], ["OSError"]),
            "challenge.signature.raises: 'OSError' is not an error every language can raise",
        ),
        (
            changed(BATCH, ["signature", "params", 2, "default"], "0"),
            r"challenge.signature.params\[2\].default: expected int",
        ),
        (
            changed(BATCH, ["signature", "params", 0, "default"], []),
            r"params\[1\]: 'max_count' has no default but follows a parameter that has one",
        ),
        (
            changed(BATCH, ["signature", "params", 1, "name"], "maxCount"),
            r"params\[1\].name: expected a snake_case parameter name",
        ),
        (
            changed(BATCH, ["signature", "params", 1, "name"], "default"),
            "'default' is a reserved word in one of the languages",
        ),
        (changed(BATCH, ["signature", "returns"], delete=True), "missing 'returns'"),
        (changed(BATCH, ["signature", "colour"], 1), "challenge.signature: unknown key"),
        (changed(BATCH, ["records"], {"Unused": {"a": "int"}}), "records.Unused: no parameter"),
        (changed(BATCH, ["records"], {"lower": {"a": "int"}}), "not a PascalCase record name"),
        (changed(BATCH, ["entry_point"], "BatchLines"), "a function's neutral name is snake_case"),
        (
            changed(BATCH, ["languages"], {"rust": {"reference_solution": "x"}}),
            "challenge.languages: unknown language 'rust'",
        ),
        (
            changed(BATCH, ["languages"], {"go": {"source": "x"}}),
            "challenge.languages.go: unknown key",
        ),
        (
            changed(BATCH, ["languages"], {"python": {"reference_solution": "x"}}),
            "challenge.languages.python: Python's solutions are the challenge's own",
        ),
        (
            changed(BATCH, ["languages"], {"go": {"reference_solution": " "}}),
            "challenge.languages.go.reference_solution: expected the solution's source text",
        ),
        (
            changed(BATCH, ["languages"], {"go": {
                "reference_solution": "x", "wrong_solutions": [{"source": "y", "breaks": "no"}],
            }}),
            r"challenge.languages.go.wrong_solutions\[0\].breaks: 'no' is not one of",
        ),
        (
            changed(CACHE, ["tests", 0, "calls", 1, "method"], "fetch"),
            r"calls\[1\].method: 'fetch' is not a method of the signature",
        ),
        (
            changed(CACHE, ["tests", 0, "calls", 0, "expect"], 1),
            r"calls\[0\] \(put\).expect: a void function returns nothing",
        ),
        (
            changed(CACHE, ["tests", 0, "init", "args"], ["2"]),
            r"\.init.args\[0\] \(capacity\): expected int",
        ),
    ],
)  # fmt: skip
def test_every_test_is_checked_against_the_signature(data: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError, match=message):
        code_spec_from_dict(data)


def test_languages_need_a_signature_and_records_a_signature_too() -> None:
    bare = changed(BATCH, ["signature"], delete=True)
    assert code_spec_from_dict(bare).signature is None  # Python only, as before
    with pytest.raises(SpecError, match="needs a 'signature'"):
        code_spec_from_dict({**bare, "languages": {"go": {"reference_solution": "x"}}})
    with pytest.raises(SpecError, match="records are only used by a 'signature'"):
        code_spec_from_dict({**bare, "records": {"A": {"a": "int"}}})


def test_language_material_is_kept_per_language() -> None:
    spec = code_spec_from_dict(
        {
            **BATCH,
            "rules": [{"id": "order", "text": "Keep the order."}],
            "reference_solution": "def batch_lines(l, m, leeway=0): ...",
            "languages": {
                "go": {
                    "reference_solution": "package main",
                    "starter": "package main // yours",
                    "wrong_solutions": [{"source": "package x", "breaks": "order", "author": "w"}],
                }
            },
        }
    )
    go = spec.material("go")
    assert go is not None and go.reference_solution == "package main"
    assert go.starter == "package main // yours"
    assert go.wrong_solutions[0].breaks == "order"
    python = spec.material("python")
    assert python is not None and python.reference_solution.startswith("def batch_lines")
    assert spec.material("java") is None


def test_names_per_language() -> None:
    assert lower_camel("max_count") == "maxCount"
    assert lower_camel("TTLCache") == "tTLCache"
    assert go_exported("batch_lines") == "BatchLines"
    assert go_exported("user_id") == "UserID"
    assert go_exported("TTLCache") == "TTLCache"
    assert go_local("user_id") == "userID"
    assert member_name("javascript", "dead_letter", role="field") == "dead_letter"
    assert member_name("java", "dead_letter", role="field") == "deadLetter"
    assert member_name("go", "dead_letter", role="field") == "DeadLetter"
    assert member_name("go", "max_count", role="param") == "maxCount"
    assert member_name("python", "max_count", role="param") == "max_count"
    assert member_name("java", "Delivery", role="record") == "Delivery"


class _Harnessless(Language):
    """A language with no runtime: what the core gives every language's harness."""

    key = "go"
    label = "Go"
    extensions = (".go",)
    editor_mode = "go"


def test_a_harness_gets_positional_arguments_and_names_in_its_language() -> None:
    go = _Harnessless()
    by_name = {"lines": ["x"], "max_count": 3, "leeway": 1}
    extra = {"name": "kw", "args": [], "kwargs": by_name, "expect": [["x"]]}
    spec = code_spec_from_dict({**BATCH, "tests": [*BATCH["tests"], extra]})
    visible = [go.test_input(spec, t) for t in spec.tests if t.visible]
    config = go.config(spec, visible, hidden_count=2)
    assert config["entry"] == "BatchLines" and config["class"] is None
    assert config["tests"] == [{"args": [["a", "b"], 1, 0]}]
    hidden = [go.test_input(spec, t) for t in spec.tests if not t.visible]
    assert hidden == [{"args": [["a"], 0, 0]}, {"args": [["x"], 3, 1]}]
    signature = config["signature"]
    assert [p["name"] for p in signature["params"]] == ["lines", "maxCount", "leeway"]
    assert signature["returns"] == "list<list<string>>"
    assert signature["errors"] == ["invalid_argument"]
    # Expected values never reach a harness: not in the config, not in hidden inputs.
    assert "expect" not in repr(config) and "raises" not in repr(hidden)


def test_class_calls_are_positional_with_method_names_in_the_language() -> None:
    go = _Harnessless()
    spec = code_spec_from_dict(CACHE)
    config = go.config(spec, [go.test_input(spec, t) for t in spec.tests], 0)
    assert config["entry"] == "NewTTLCache" and config["class"] == "TTLCache"
    assert config["tests"][0]["init_args"] == [2]
    assert config["tests"][0]["calls"] == [
        {"method": "Put", "args": ["a", {"x": 1}]},
        {"method": "Get", "args": ["a"]},
        {"method": "Remove", "args": ["zz"]},
    ]
    remove = next(m for m in config["signature"]["methods"] if m["key"] == "remove")
    assert remove["errors"] == ["not_found"] and remove["returns"] == "void"


def test_the_python_starter_is_generated_from_the_signature_unless_given() -> None:
    python = LANGUAGES["python"]
    typed = changed(CACHE, ["signature", "methods", "get", "returns"], "Entry?")
    typed["tests"][0]["calls"][1]["expect"] = {"value": {"x": 1}}
    spec = code_spec_from_dict({**typed, "records": {"Entry": {"value": "any", "hits?": "int"}}})
    starter = python.starter(spec)
    assert "class Entry(TypedDict):" in starter and "hits: NotRequired[int]" in starter
    assert "def get(self, key: str) -> Entry | None:" in starter
    assert "def __init__(self, capacity: int) -> None:" in starter
    compile(starter, "starter.py", "exec")  # it is valid Python
    given = code_spec_from_dict({**BATCH, "starter": "def batch_lines(): ...\n"})
    assert python.starter(given) == "def batch_lines(): ...\n"


def test_registered_languages_are_in_canonical_order_and_extensions_name_them() -> None:
    assert next(iter(LANGUAGES)) == "python"
    assert list(LANGUAGES) == [key for key in LANGUAGE_KEYS if key in LANGUAGES]
    python = language_for_filename("solution.PY")
    assert python is not None and python.key == "python"
    assert language_for_filename("main.rs") is None


def test_spec_is_still_the_python_spec() -> None:
    from quizzes.grading.spec import PythonChallengeSpec

    assert PythonChallengeSpec is CodeChallengeSpec
