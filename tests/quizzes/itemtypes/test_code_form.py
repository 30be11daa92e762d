"""The code challenge's form: the whole language-neutral spec in typed fields (signature
rows, records, tests, calls, every language's solutions), round-tripping with the bank
entry and YAML, with each of the spec's complaints next to its field or row."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django import forms
from django.test import Client

from quizzes.bank.authoring import parse_item_yaml, to_yaml
from quizzes.bank.forms import ItemAuthoring
from quizzes.grading.languages import LANGUAGES
from quizzes.itemtypes import handler_for
from quizzes.itemtypes.code_forms import (
    CodeChallengeForm,
    parse_calls,
    parse_params,
    parse_record_fields,
    show_calls,
    show_params,
    show_record_fields,
)
from quizzes.models import Item, ItemStatus, ItemVersion
from tests.conftest import languages_only
from tests.quizzes.bank.authoring_forms import form_post_data
from tests.samples import COMMON, load_sample_items

pytestmark = pytest.mark.django_db

PAGES = (
    "def total_pages(items, per_page=10):\n    if per_page < 1:\n        raise ValueError('size')\n"
)
FUNCTION: dict[str, Any] = {
    "slug": "t-total-pages",
    "type": "code",
    "title": "Pages",
    "points": 10,
    "body": "Write `total_pages(items, per_page=10)`: how many pages hold `items` items.",
    "challenge": {
        "entry_point": "total_pages",
        "kind": "function",
        "signature": {
            "params": [
                {"name": "items", "type": "int"},
                {"name": "per_page", "type": "int", "default": 10},
            ],
            "returns": "int",
            "raises": ["ValueError"],
        },
        "tests_author": "author-t",
        "rules": [
            {"id": "round-up", "text": "A partial last page is a page."},
            {"id": "positive-size", "text": "A page size below 1 raises ValueError."},
        ],
        "reference_solution": PAGES + "    return -(-items // per_page)\n",
        "wrong_solutions": [
            {"source": PAGES + "    return items // per_page\n", "breaks": "round-up",
             "author": "author-w"},
        ],
        "languages": {
            "javascript": {
                "reference_solution": "function totalPages(items, perPage = 10) {\n"
                "  if (perPage < 1) throw new RangeError('size');\n"
                "  return Math.ceil(items / perPage);\n}\nmodule.exports = { totalPages };\n",
                "wrong_solutions": [
                    {"source": "function totalPages(items, perPage = 10) {\n"
                     "  if (perPage < 1) throw new RangeError('size');\n"
                     "  return Math.floor(items / perPage);\n}\n"
                     "module.exports = { totalPages };\n",
                     "breaks": "round-up", "author": "author-w"},
                ],
            },
        },
        "tests": [
            {"name": "two full pages", "visible": True, "args": [20, 10], "expect": 2},
            {"name": "the default size", "visible": True, "args": [30], "expect": 3},
            {"name": "a partial page", "visible": False, "rule": "round-up", "args": [21],
             "kwargs": {"per_page": 10}, "expect": 3},
            {"name": "no size", "rule": "positive-size", "args": [3, 0], "raises": "ValueError"},
        ],
    },
}  # fmt: skip
TALLY = (
    "class Tally:\n    def __init__(self, start):\n        self.n = start\n\n"
    "    def total(self):\n        return self.n\n\n    def add(self, amount):\n"
)
CLASS: dict[str, Any] = {
    "slug": "t-tally",
    "type": "code",
    "title": "A tally",
    "points": 10,
    "body": "Write `Tally(start)` with `add(amount)` and `total()`.",
    "challenge": {
        "entry_point": "Tally",
        "kind": "class",
        "signature": {
            "init": [{"name": "start", "type": "int"}],
            "methods": {
                "add": {"params": [{"name": "amount", "type": "int"}], "returns": "int",
                        "raises": ["ValueError"]},
                "total": {"returns": "int"},
                "ratio": {"params": [{"name": "of", "type": "float", "default": 1.0}],
                          "returns": "float"},
            },
        },
        "rules": [{"id": "no-negative", "text": "add refuses a negative amount."}],
        "reference_solution": TALLY + "        if amount < 0:\n            raise ValueError('n')\n"
        "        self.n += amount\n        return self.n\n\n"
        "    def ratio(self, of=1.0):\n        return self.n / of\n",
        "wrong_solutions": [
            {"source": TALLY + "        self.n += amount\n        return self.n\n\n"
             "    def ratio(self, of=1.0):\n        return self.n / of\n",
             "breaks": "no-negative", "author": "author-w"},
        ],
        "tests": [
            {"name": "adds up", "visible": True, "init": {"args": [1]}, "calls": [
                {"method": "add", "args": [2], "expect": 3},
                {"method": "total", "expect": 3},
                {"method": "ratio", "kwargs": {"of": 3}, "expect": 1.0, "tolerance": 1e-09},
            ]},
            {"name": "a negative amount", "rule": "no-negative", "init": {"args": [0]}, "calls": [
                {"method": "add", "args": [-1], "raises": "ValueError"},
                {"method": "total", "expect": 0},
            ]},
        ],
    },
}  # fmt: skip


@pytest.fixture
def author(instructor: Any) -> Client:
    client = Client()
    client.force_login(instructor)
    return client


def entry_of(topic: Any, spec: dict[str, Any]) -> dict[str, Any]:
    return {**COMMON, "topic": topic.slug, **spec}


def shown(topic: Any, spec: dict[str, Any]) -> ItemAuthoring:
    return ItemAuthoring(
        handler=handler_for("code"), stage=topic.stage, item=None, entry=entry_of(topic, spec)
    )


def post(author: Client, topic: Any, spec: dict[str, Any], **changes: Any) -> Any:
    data = form_post_data(shown(topic, spec), **changes)
    data.setdefault("op", "save")
    return author.post(f"/author/items/new?stage={topic.stage.number}&type=code", data)


def errors_at(response: Any, where: str) -> list[str]:
    """The errors shown at ``where``: a field of the form (``t:returns``), a row set as a
    whole (``rows:tests``) or one row's field (``rows:tests:2:args``)."""
    typed = response.context["authoring"].typed
    kind, _, rest = where.partition(":")
    if kind == "t":
        return list(typed.form.errors.get(rest, []))
    name, _, row = rest.partition(":")
    if not row:
        return list(typed.formsets[name].non_form_errors())
    index, field = row.split(":")
    return list(typed.formsets[name].forms[int(index)].errors.get(field, []))


# --- round trips ----------------------------------------------------------------------------
@pytest.mark.parametrize("spec", [FUNCTION, CLASS], ids=["function", "class"])
def test_a_challenge_round_trips_through_the_form_and_yaml(
    topic: Any, spec: dict[str, Any]
) -> None:
    entry = entry_of(topic, spec)
    first = shown(topic, spec)
    assert first.typed.unsupported is None
    posted = ItemAuthoring(
        handler=handler_for("code"), stage=topic.stage, item=None, data=form_post_data(first)
    )
    assert posted.entry() == entry
    again = ItemAuthoring(
        handler=handler_for("code"),
        stage=topic.stage,
        item=None,
        entry=parse_item_yaml(to_yaml(posted.entry())),
    )
    back = ItemAuthoring(
        handler=handler_for("code"), stage=topic.stage, item=None, data=form_post_data(again)
    )
    assert back.entry() == entry


@pytest.mark.parametrize("spec", [FUNCTION, CLASS], ids=["function", "class"])
def test_a_valid_form_creates_a_draft_and_an_unchanged_save_adds_no_version(
    author: Client, topic: Any, spec: dict[str, Any]
) -> None:
    response = post(author, topic, spec)
    assert response.status_code == 302, response.content.decode()[:3000]
    item = Item.objects.get(slug=spec["slug"])
    assert item.status == ItemStatus.DRAFT
    assert item.current_version.source == entry_of(topic, spec)  # type: ignore[union-attr]
    page = author.get(f"/author/items/{item.slug}/edit")
    assert page.context["mode"] == "form"
    assert "edit it in YAML" not in page.content.decode()
    unchanged = author.post(
        f"/author/items/{item.slug}/edit", form_post_data(page.context["authoring"], op="save")
    )
    assert unchanged.status_code == 302
    assert ItemVersion.objects.filter(item=item).count() == 1


def test_a_hidden_test_keeps_saying_visible_false_where_it_did(topic: Any) -> None:
    spec = {**FUNCTION, "challenge": {**FUNCTION["challenge"]}}
    tests = [dict(t) for t in spec["challenge"]["tests"]]
    assert tests[2]["visible"] is False and "visible" not in tests[3]
    first = shown(topic, spec)
    data = form_post_data(first, **{"tests-1-visible": None})  # the author hides test 2
    built = ItemAuthoring(
        handler=handler_for("code"), stage=topic.stage, item=None, data=data
    ).entry()
    assert built is not None
    made = built["challenge"]["tests"]
    assert "visible" not in made[1]  # hidden now, written as new hidden tests are
    assert made[2]["visible"] is False and "visible" not in made[3]


def test_a_python_only_challenge_without_a_signature_round_trips(topic: Any) -> None:
    challenge = {
        key: value
        for key, value in FUNCTION["challenge"].items()
        if key not in ("signature", "languages")
    }
    spec = {**FUNCTION, "challenge": challenge}
    first = shown(topic, spec)
    posted = ItemAuthoring(
        handler=handler_for("code"), stage=topic.stage, item=None, data=form_post_data(first)
    )
    assert posted.entry() == entry_of(topic, spec)


def test_the_syntaxes_are_written_back_as_they_are_read() -> None:
    calls = CLASS["challenge"]["tests"][0]["calls"]
    text = show_calls(calls)
    assert text == 'add [2] -> 3\ntotal -> 3\nratio {"of": 3} -> 1.0 within 1e-09'
    assert parse_calls(text) == calls
    assert show_calls(parse_calls('get  ["b"]   raises KeyError')) == 'get ["b"] raises KeyError'
    params = [
        {"name": "key", "type": "string"},
        {"name": "limits", "type": "map<list<int>>", "default": {"a, b": [1, 2]}},
    ]
    assert show_params(params) == 'key: string, limits: map<list<int>> = {"a, b": [1, 2]}'
    assert parse_params(show_params(params)) == params
    fields = {"id": "int", "sku": "string", "note?": "string"}
    assert parse_record_fields(show_record_fields(fields)) == fields
    # A line separator inside a string stays inside its line.
    assert parse_calls(show_calls([{"method": "feed", "args": ["a\u2028b"], "expect": []}])) == [
        {"method": "feed", "args": ["a\u2028b"], "expect": []}
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("add [1] -> 2\nadd 1 -> 2", "Line 2: after the method and its arguments"),
        ("add [1, -> 2", "Line 1: the arguments are not valid JSON"),
        ("add [1] ->", "Line 1: the expected result is not valid JSON"),
        ("add [1] -> 2 within big", "Line 1: the tolerance is not valid JSON"),
        ("add [1] -> 2 within true", "Line 1: after within, write the tolerance as a number"),
        ("-> 2", "Line 1: start with the method's name"),
        ("add [1] -> 2 and more", "Line 1: 'and more' is left over at the end of the line."),
    ],
)
def test_a_bad_call_line_is_named(text: str, message: str) -> None:
    with pytest.raises(forms.ValidationError) as raised:
        parse_calls(text)
    assert message in raised.value.messages[0]


# --- each error next to its field -----------------------------------------------------------
BAD = [
    pytest.param(
        FUNCTION,
        {"params-0-type": "integer"},
        "rows:params:0:type",
        "Unknown type 'integer': use int, float, string, bool, any, list<T>, map<T> or a "
        "record's name (T? also allows null).",
        id="unknown type",
    ),
    pytest.param(
        FUNCTION,
        {"params-1-name": "items"},
        "rows:params:1:name",
        "Another parameter already has this name.",
        id="duplicate parameter",
    ),
    pytest.param(
        FUNCTION,
        {"t-returns": "list<Page>"},
        "t:returns",
        "Unknown type 'Page': use int, float, string, bool, any, list<T>, map<T> or a "
        "record's name (T? also allows null).",
        id="unknown return type",
    ),
    pytest.param(
        FUNCTION,
        {"tests-2-args": '["21"]'},
        "rows:tests:2:args",
        "The argument for items: expected int, got string '21'.",
        id="argument of the wrong type",
    ),
    pytest.param(
        FUNCTION,
        {"tests-0-args": "[20, 10, 5]"},
        "rows:tests:0:args",
        "3 positional arguments, but the signature takes 2 (items, per_page).",
        id="too many arguments",
    ),
    pytest.param(
        FUNCTION,
        {"tests-2-kwargs": '{"size": 10}'},
        "rows:tests:2:kwargs",
        "No parameter named 'size' (parameters: items, per_page).",
        id="unknown keyword argument",
    ),
    pytest.param(
        FUNCTION,
        {"tests-0-args": "[20, 10"},
        "rows:tests:0:args",
        "Write a JSON value: Expecting ',' delimiter: line 1 column 8 (char 7).",
        id="invalid JSON",
    ),
    pytest.param(
        FUNCTION,
        {"tests-0-args": '{"items": 20}'},
        "rows:tests:0:args",
        'Write a JSON list, such as [1, "a"] ([] for none).',
        id="arguments not a list",
    ),
    pytest.param(
        FUNCTION,
        {"tests-0-expect": '"two"'},
        "rows:tests:0:expect",
        "The expected result: expected int, got string 'two'.",
        id="expected result of the wrong type",
    ),
    pytest.param(
        FUNCTION,
        {"tests-3-raises": "KeyError"},
        "rows:tests:3:raises",
        "KeyError is not among the errors the signature may raise (ValueError): tick it "
        "there, or choose another.",
        id="raises not in the signature",
    ),
    pytest.param(
        FUNCTION,
        {"tests-0-raises": "ValueError"},
        "rows:tests:0:raises",
        "Give the expected result or the error, not both.",
        id="result and error",
    ),
    pytest.param(
        FUNCTION,
        {"tests-0-expect": ""},
        "rows:tests:0:expect",
        "Write the expected result as JSON (null for none), or choose the error it raises.",
        id="neither result nor error",
    ),
    pytest.param(
        FUNCTION,
        {"tests-2-visible": "on", "tests-3-visible": "on"},
        "rows:tests",
        "Keep at least one test hidden.",
        id="no hidden test",
    ),
    pytest.param(
        FUNCTION,
        {"tests-3-rule": "rounding"},
        "rows:tests:3:rule",
        "rounding is not one of the rules: add it to the rules, or correct the id.",
        id="unknown rule",
    ),
    pytest.param(
        FUNCTION,
        {"tests-3-name": "two full pages"},
        "rows:tests:3:name",
        "Another test already has this name.",
        id="duplicate test name",
    ),
    pytest.param(
        FUNCTION,
        {"tests-0-languages": ["python"]},
        "rows:tests:0:languages",
        "A visible test is an example in every language: untick the languages, or hide it.",
        id="languages of a visible test",
    ),
    pytest.param(
        FUNCTION,
        {"t-reference_solution": ""},
        "t:reference_solution",
        "Write the reference solution.",
        id="no reference solution",
    ),
    pytest.param(
        FUNCTION,
        {"t-javascript_reference_solution": ""},
        "t:javascript_reference_solution",
        "Write the JavaScript (Node.js) reference solution, or remove its wrong solutions "
        "and starter.",
        id="no JavaScript reference beside its wrong solution",
    ),
    pytest.param(
        FUNCTION,
        {"wrong_solutions-0-breaks": "rounding"},
        "rows:wrong_solutions:0:breaks",
        "rounding is not one of the rules: add it to the rules, or correct the id.",
        id="wrong solution breaking no rule",
    ),
    pytest.param(
        FUNCTION,
        {"t-entry_point": "TotalPages"},
        "t:entry_point",
        "A function's name is snake_case, such as batch_lines.",
        id="function named like a class",
    ),
    pytest.param(
        CLASS,
        {"tests-0-calls": "add [2] -> 3\ntotal 3"},
        "rows:tests:0:calls",
        "Line 2: after the method and its arguments, write -> and the expected result, or "
        "raises and the error.",
        id="bad call line",
    ),
    pytest.param(
        CLASS,
        {"tests-0-calls": 'add [2] -> 3\nadd ["2"] -> 5'},
        "rows:tests:0:calls",
        "Line 2: the argument for amount: expected int, got string '2'.",
        id="call argument of the wrong type",
    ),
    pytest.param(
        CLASS,
        {"tests-0-calls": "add [2] -> 3\nreset -> null"},
        "rows:tests:0:calls",
        "Line 2: the method: 'reset' is not a method of the signature (methods: add, total, "
        "ratio).",
        id="call of an unknown method",
    ),
    pytest.param(
        CLASS,
        {"tests-1-calls": "total raises ValueError"},
        "rows:tests:1:calls",
        "Line 1: the method does not declare ValueError (it may raise: none); tick it among "
        "the method's errors, or expect another.",
        id="call raising what its method does not declare",
    ),
    pytest.param(
        CLASS,
        {"tests-1-init_args": "[]"},
        "rows:tests:1:init_args",
        "Missing argument 'start' (no default).",
        id="constructor argument missing",
    ),
    pytest.param(
        CLASS,
        {"methods-0-params": "amount int"},
        "rows:methods:0:params",
        "Parameter 1: write each one as name: type, separated by commas, with = and a JSON "
        "default where there is one (key: string, ttl: int = 60).",
        id="bad typed parameter list",
    ),
    pytest.param(
        CLASS,
        {"methods-0-params": "amount: money"},
        "rows:methods:0:params",
        "Parameter 1: Unknown type 'money': use int, float, string, bool, any, list<T>, "
        "map<T> or a record's name (T? also allows null).",
        id="unknown type of a method's parameter",
    ),
    pytest.param(
        CLASS,
        {"methods-2-name": "add"},
        "rows:methods:2:name",
        "Another row already has this name.",
        id="duplicate method",
    ),
    pytest.param(
        CLASS,
        {"records-TOTAL_FORMS": "1", "records-0-name": "Entry", "records-0-record_fields": "id"},
        "rows:records:0:record_fields",
        "Field 1: write the fields as name: type, separated by commas (id: int, sku: string; "
        "note?: string may be absent).",
        id="bad record fields",
    ),
    pytest.param(
        CLASS,
        {
            "records-TOTAL_FORMS": "1",
            "records-0-name": "Entry",
            "records-0-record_fields": "id: int",
        },
        "rows:records:0:name",
        "No parameter or result uses this record: use it, or remove it.",
        id="unused record",
    ),
]


@pytest.mark.parametrize(("spec", "changes", "where", "message"), BAD)
def test_each_error_is_shown_next_to_its_field_and_nothing_is_saved(
    author: Client,
    topic: Any,
    spec: dict[str, Any],
    changes: dict[str, Any],
    where: str,
    message: str,
) -> None:
    response = post(author, topic, spec, **changes)
    assert response.status_code == 400
    found = errors_at(response, where)
    assert message in found, (found, response.context["authoring"].non_field_errors)
    assert message in html.unescape(response.content.decode())
    assert not Item.objects.exists()


def test_a_bad_edit_of_a_saved_challenge_changes_nothing(author: Client, topic: Any) -> None:
    [item] = load_sample_items(topic.stage, topic.slug, [CLASS])
    page = author.get(f"/author/items/{item.slug}/edit")
    data = form_post_data(page.context["authoring"], op="save", **{"tests-0-calls": "add ["})
    response = author.post(f"/author/items/{item.slug}/edit", data)
    assert response.status_code == 400
    assert errors_at(response, "rows:tests:0:calls")[0].startswith(
        "Line 1: the arguments are not valid JSON"
    )
    item.refresh_from_db()
    assert item.current_version.number == 1  # type: ignore[union-attr]


# --- the page -------------------------------------------------------------------------------
def test_the_form_offers_every_registered_language_and_keeps_others_held(topic: Any) -> None:
    form = CodeChallengeForm(entry=entry_of(topic, FUNCTION))
    assert [s["key"] for s in form.language_sections()] == list(LANGUAGES)
    with languages_only("python"):
        held = CodeChallengeForm(entry=entry_of(topic, FUNCTION))
        assert [s["key"] for s in held.language_sections()] == ["python", "javascript"]
        posted = ItemAuthoring(
            handler=handler_for("code"),
            stage=topic.stage,
            item=None,
            data=form_post_data(shown(topic, FUNCTION)),
        )
        assert posted.entry() == entry_of(topic, FUNCTION)  # the JavaScript material stays


def test_a_blank_starter_shows_the_one_generated_from_the_signature(
    author: Client, topic: Any
) -> None:
    [item] = load_sample_items(topic.stage, topic.slug, [FUNCTION])
    page = author.get(f"/author/items/{item.slug}/edit").content.decode()
    assert 'placeholder="def total_pages(items: int, per_page: int = 10) -&gt; int:' in page
    assert "module.exports = { totalPages };" in page  # JavaScript's, generated
    assert "func TotalPages(items int, perPage int) (int, error)" in page  # and Go's


def test_the_kind_shows_its_own_fields(author: Client, topic: Any) -> None:
    function_page = post(author, topic, FUNCTION, op="redraw")
    assert function_page.status_code == 200
    content = function_page.content.decode()
    assert 'name="tests-0-args"' in content and 'name="tests-0-calls"' not in content
    assert 'name="t-returns"' in content and 'name="methods-0-name"' not in content
    as_class = post(author, topic, FUNCTION, op="redraw", **{"t-kind": "class"})
    content = as_class.content.decode()
    assert 'name="tests-0-calls"' in content and 'name="tests-0-args"' not in content
    assert "Constructor parameters" in content and 'name="methods-0-name"' in content
    assert not Item.objects.exists()


def test_keyword_arguments_are_offered_once_a_parameter_has_a_default(topic: Any) -> None:
    plain = {
        **FUNCTION,
        "challenge": {
            **FUNCTION["challenge"],
            "signature": {"params": [{"name": "items", "type": "int"}], "returns": "int"},
            "tests": [{"name": "one", "visible": True, "args": [1], "expect": 1}],
        },
    }
    assert "kwargs" in CodeChallengeForm(entry=entry_of(topic, plain)).hidden_test_fields()
    assert "kwargs" not in CodeChallengeForm(entry=entry_of(topic, FUNCTION)).hidden_test_fields()


def test_rows_are_added_removed_and_moved_with_the_rest_kept(author: Client, topic: Any) -> None:
    added = post(author, topic, CLASS, op="add:methods")
    typed = added.context["authoring"].typed
    assert [f["name"].value() for f in typed.formsets["methods"]] == [
        "add",
        "total",
        "ratio",
        None,
    ]
    moved = post(author, topic, CLASS, op="up:tests:1")
    calls = [f["calls"].value() for f in moved.context["authoring"].typed.formsets["tests"]]
    assert calls[0].startswith("add [-1] raises ValueError")
    removed = post(author, topic, FUNCTION, op="remove:javascript_wrong:0")
    typed = removed.context["authoring"].typed
    assert typed.formsets["javascript_wrong"].total_form_count() == 0
    assert typed.form["javascript_reference_solution"].value().startswith("function totalPages")
    assert not Item.objects.exists()


def test_an_entry_the_form_cannot_show_stays_in_yaml(author: Client, topic: Any) -> None:
    challenge = dict(FUNCTION["challenge"])
    challenge["tests"] = [{**challenge["tests"][0], "expected": 2}, *challenge["tests"][1:]]
    source = to_yaml(entry_of(topic, {**FUNCTION, "challenge": challenge}))
    response = author.post(
        f"/author/items/new?stage={topic.stage.number}&type=code",
        {"mode": "yaml", "op": "to-form", "source": source},
    )
    assert response.context["mode"] == "yaml"
    assert "the unknown key 'expected'" in html.unescape(response.content.decode())


def test_switching_to_yaml_and_back_keeps_what_was_typed(author: Client, topic: Any) -> None:
    to_yaml_page = post(author, topic, CLASS, op="to-yaml", **{"tests-1-name": "refuses -1"})
    assert to_yaml_page.status_code == 200
    source = to_yaml_page.context["source"]
    assert parse_item_yaml(source)["challenge"]["tests"][1]["name"] == "refuses -1"
    back = author.post(
        f"/author/items/new?stage={topic.stage.number}&type=code",
        {"mode": "yaml", "op": "to-form", "source": source},
    )
    assert back.context["mode"] == "form"
    tests = back.context["authoring"].typed.formsets["tests"]
    assert tests.forms[1]["name"].value() == "refuses -1"
    assert tests.forms[1]["calls"].value() == "add [-1] raises ValueError\ntotal -> 0"
