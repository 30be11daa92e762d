"""The SQL challenge form in every mode: each SQL challenge of the bank opens in it and
round-trips exactly (and through the YAML mode), a new challenge of each mode is written
through it, choosing a mode shows that mode's fields, and each of the spec's problems is
shown next to its field in plain words."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.test import Client

from quizzes.bank.authoring import item_save, parse_item_yaml, to_yaml
from quizzes.bank.forms import ItemAuthoring
from quizzes.bank.loader import content_hash
from quizzes.grading.spec import SQL_MODES
from quizzes.itemtypes import handler_for
from quizzes.models import Item, ItemVersion, Stage
from tests.quizzes.bank.authoring_forms import form_post_data
from tests.quizzes.bank.sql_samples import INDEX, PAID_TOTALS, SQL_MODES_SAMPLES, TRANSACTION
from tests.samples import COMMON, SQL

pytestmark = pytest.mark.django_db
BANK = Path(__file__).resolve().parents[3] / "fixtures" / "questions"
SQL_HANDLER = handler_for("sql")


@pytest.fixture
def author(instructor: Any) -> Client:
    client = Client()
    client.force_login(instructor)
    return client


def bank_sql_challenges() -> list[tuple[int, dict[str, Any]]]:
    found = []
    for path in sorted(BANK.glob("stage-*.yaml")):
        bank = yaml.safe_load(path.read_text())
        found += [(bank["stage"], e) for e in bank["items"] if e["type"] == "sql"]
    return found


def entry_of(topic: Any, spec: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy({**COMMON, "topic": topic.slug, **spec})


def shown(topic: Any, spec: dict[str, Any]) -> ItemAuthoring:
    return ItemAuthoring(
        handler=SQL_HANDLER, stage=topic.stage, item=None, entry=entry_of(topic, spec)
    )


def post(author: Client, topic: Any, spec: dict[str, Any], **changes: Any) -> Any:
    data = form_post_data(shown(topic, spec), **changes)
    data.setdefault("op", "save")
    return author.post(f"/author/items/new?stage={topic.stage.number}&type=sql", data)


# --- the whole bank round-trips ---------------------------------------------------------------
def test_every_sql_bank_challenge_round_trips_through_the_form_and_yaml(roadmap: Any) -> None:
    """entry → form → posted back → the same entry (same content hash), for every SQL
    challenge of the bank, whatever its mode; and again through the YAML mode."""
    modes = set()
    for number, entry in bank_sql_challenges():
        stage = Stage.objects.get(number=number)
        first = ItemAuthoring(handler=SQL_HANDLER, stage=stage, item=None, entry=entry)
        assert first.typed.unsupported is None, entry["slug"]
        posted = ItemAuthoring(
            handler=SQL_HANDLER, stage=stage, item=None, data=form_post_data(first)
        )
        from_form = posted.entry()
        assert from_form == entry, entry["slug"]
        assert content_hash(from_form) == content_hash(entry)
        again = parse_item_yaml(to_yaml(from_form))
        second = ItemAuthoring(handler=SQL_HANDLER, stage=stage, item=None, entry=again)
        posted = ItemAuthoring(
            handler=SQL_HANDLER, stage=stage, item=None, data=form_post_data(second)
        )
        assert posted.entry() == entry, entry["slug"]
        modes.add(entry["challenge"].get("mode", "query"))
    assert modes == set(SQL_MODES)  # the bank has a challenge of every mode


def test_saving_a_bank_sql_challenge_unchanged_makes_no_new_version(
    author: Client, roadmap: Any, instructor: Any
) -> None:
    for number, entry in bank_sql_challenges():
        stage = Stage.objects.get(number=number)
        item = item_save(entry=entry, stage=stage, author=instructor)
        page = author.get(f"/author/items/{item.slug}/edit")
        assert page.status_code == 200
        assert page.context["mode"] == "form", entry["slug"]
        response = author.post(
            f"/author/items/{item.slug}/edit", form_post_data(page.context["authoring"], op="save")
        )
        assert response.status_code == 302, entry["slug"]
        assert ItemVersion.objects.filter(item=item).count() == 1, entry["slug"]


# --- a new challenge of each mode -----------------------------------------------------------
@pytest.mark.parametrize("spec", SQL_MODES_SAMPLES, ids=lambda s: s["slug"])
def test_a_new_challenge_of_each_mode_is_written_through_the_form(
    author: Client, topic: Any, spec: dict[str, Any]
) -> None:
    response = post(author, topic, spec)
    assert response.status_code == 302, response.content.decode()[:3000]
    version = Item.objects.get(slug=spec["slug"]).current_version
    assert version is not None
    assert version.source == entry_of(topic, spec)


def test_a_new_form_writes_the_defaults_the_bank_writes(author: Client, topic: Any) -> None:
    """Typed into a blank form (nothing to keep the spelling of): the mode of a query is
    left out, ``ordered`` and ``starter`` are written, and a hidden test leaves out
    ``visible``."""
    blank = ItemAuthoring(
        handler=SQL_HANDLER,
        stage=topic.stage,
        item=None,
        entry={"slug": "t-new", "type": "sql", "topic": topic.slug, "difficulty": 2},
    )
    challenge = PAID_TOTALS["challenge"]
    data = form_post_data(
        blank,
        op="save",
        **{
            "c-title": "Paid totals",
            "c-body": "On SQLite: paid totals.",
            "c-cognitive": "judgement",
            "t-schema": challenge["schema"],
            "t-reference_solution": challenge["reference_solution"],
            "tests-0-name": "shown",
            "tests-0-visible": "on",
            "tests-0-rows_sql": "INSERT INTO orders VALUES (1, 'ana', 'paid', 10);",
            "tests-1-name": "hidden",
            "tests-1-rows_sql": "INSERT INTO orders VALUES (1, 'ana', 'cancelled', 10);",
            "wrong_solutions-0-source": "SELECT customer, SUM(total) FROM orders GROUP BY 1;",
        },
    )
    response = author.post(f"/author/items/new?stage={topic.stage.number}&type=sql", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    saved = Item.objects.get(slug="t-new").current_version.source["challenge"]  # type: ignore[union-attr]
    assert "mode" not in saved
    assert (saved["ordered"], saved["starter"]) == (False, "")
    assert saved["tests"][0] == {
        "name": "shown",
        "visible": True,
        "data": "INSERT INTO orders VALUES (1, 'ana', 'paid', 10);",
    }
    assert saved["tests"][1] == {
        "name": "hidden",
        "data": "INSERT INTO orders VALUES (1, 'ana', 'cancelled', 10);",
    }
    assert saved["wrong_solutions"] == ["SELECT customer, SUM(total) FROM orders GROUP BY 1;"]


def test_defaults_stay_written_as_the_entry_wrote_them(topic: Any) -> None:
    spelled = copy.deepcopy(SQL)
    spelled["challenge"].update({"mode": "query", "ordered": False, "starter": ""})
    spelled["challenge"]["tests"][1]["data"] = ""  # a hidden test on empty tables
    sparse = copy.deepcopy(SQL)
    del sparse["challenge"]["ordered"], sparse["challenge"]["starter"]
    del sparse["challenge"]["tests"][1]["visible"]
    for spec in (spelled, sparse):
        posted = ItemAuthoring(
            handler=SQL_HANDLER,
            stage=topic.stage,
            item=None,
            data=form_post_data(shown(topic, spec)),
        )
        assert posted.entry() == entry_of(topic, spec)


# --- the mode and its fields ------------------------------------------------------------------
def _hidden(html: str, name: str) -> bool:
    start = html.index(f'data-sql-field="{name}"')
    return " hidden" in html[start : html.index(">", start)]


def test_the_new_form_shows_the_query_modes_fields(author: Client, topic: Any) -> None:
    page = author.get(f"/author/items/new?stage={topic.stage.number}&type=sql")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="t-mode" value="query"' in html and "A transaction script" in html
    assert not _hidden(html, "schema") and not _hidden(html, "ordered")
    assert _hidden(html, "query") and _hidden(html, "reader_query")
    assert 'id="rows-check_tables"' in html and 'id="rows-tests"' in html


@pytest.mark.parametrize(
    ("mode", "shown_fields", "hidden_fields"),
    [
        ("index", ["query", "requires_index_on", "forbid_sort", "ordered"], ["reader_query"]),
        ("transaction", ["reader_query"], ["query", "ordered", "requires_index_on"]),
    ],
)
def test_choosing_a_mode_redraws_the_form_with_its_fields_and_saves_nothing(
    author: Client,
    topic: Any,
    mode: str,
    shown_fields: list[str],
    hidden_fields: list[str],
) -> None:
    response = post(author, topic, PAID_TOTALS, op="redraw", **{"t-mode": mode})
    assert response.status_code == 200
    html = response.content.decode()
    for name in shown_fields:
        assert not _hidden(html, name), name
    for name in hidden_fields:
        assert _hidden(html, name), name
    check_tables = html[html.index('id="rows-check_tables"') :].split(">", 1)[0]
    assert (" hidden" in check_tables) == (mode != "transaction")
    typed = response.context["authoring"].typed
    assert typed.form["schema"].value() == PAID_TOTALS["challenge"]["schema"]  # kept
    assert response.context["authoring"].common["title"].value() == PAID_TOTALS["title"]
    assert not typed.has_errors()  # a redraw checks nothing
    assert not Item.objects.exists()


def test_another_modes_fields_keep_what_was_typed_and_stay_out_of_the_entry(
    author: Client, topic: Any
) -> None:
    url = f"/author/items/new?stage={topic.stage.number}&type=sql"
    as_query = post(author, topic, INDEX, op="redraw", **{"t-mode": "query"})
    typed = as_query.context["authoring"].typed
    assert typed.form["query"].value() == INDEX["challenge"]["query"]  # kept, hidden
    assert _hidden(as_query.content.decode(), "query")
    back = author.post(
        url, form_post_data(as_query.context["authoring"], op="redraw", **{"t-mode": "index"})
    )
    typed = back.context["authoring"].typed
    assert typed.mode() == "index"
    assert typed.form["query"].value() == INDEX["challenge"]["query"]
    assert not _hidden(back.content.decode(), "query")
    saved = post(author, topic, INDEX, op="save", **{"t-mode": "query"})
    assert saved.status_code == 302, saved.content.decode()[:3000]
    challenge = Item.objects.get(slug=INDEX["slug"]).current_version.source["challenge"]  # type: ignore[union-attr]
    assert challenge["mode"] == "query"  # the entry wrote its mode: it stays written
    assert not {"query", "requires_index_on", "forbid_sort"} & challenge.keys()


def test_the_yaml_mode_round_trips_with_a_script_mode_form(author: Client, topic: Any) -> None:
    to_yaml_page = post(author, topic, TRANSACTION, op="to-yaml")
    assert to_yaml_page.status_code == 200
    source = to_yaml_page.context["source"]
    assert parse_item_yaml(source) == entry_of(topic, TRANSACTION)
    edited = source.replace("- accounts", "- {table: accounts, columns: [balance]}")
    back = author.post(
        f"/author/items/new?stage={topic.stage.number}&type=sql",
        {"mode": "yaml", "op": "to-form", "source": edited},
    )
    assert back.status_code == 200
    typed = back.context["authoring"].typed
    assert typed.mode() == "transaction"
    row = typed.formsets["check_tables"].forms[0]
    assert (row["table"].value(), row["columns"].value()) == ("accounts", "balance")


def test_an_entry_the_form_cannot_keep_opens_in_yaml(
    author: Client, topic: Any, instructor: Any
) -> None:
    spec = copy.deepcopy(SQL)
    spec["challenge"]["wrong_solutions"] = [{"source": SQL["challenge"]["wrong_solutions"][0]}]
    item = item_save(entry=entry_of(topic, spec), stage=topic.stage, author=instructor)
    page = author.get(f"/author/items/{item.slug}/edit")
    assert page.context["mode"] == "yaml"
    assert "edit it in YAML" in page.content.decode()


# --- each problem next to its field -----------------------------------------------------------
def _errors(response: Any, where: str) -> list[str]:
    authoring = response.context["authoring"]
    kind, _, rest = where.partition(":")
    if kind == "t":
        return list(authoring.typed.form.errors.get(rest, []))
    name, _, row = rest.partition(":")
    formset = authoring.typed.formsets[name]
    if not row:
        return list(formset.non_form_errors())
    index, field = row.split(":")
    return list(formset.forms[int(index)].errors.get(field, []))


NO_RULE = "'paid-only' is not the id of one of the rules below."
BAD_FORMS = [
    pytest.param(
        SQL,
        {"t-schema": ""},
        "t:schema",
        "Write the schema: the CREATE TABLE statements every test starts from.",
        id="no schema",
    ),
    pytest.param(
        SQL,
        {"t-reference_solution": "  "},
        "t:reference_solution",
        "Write the reference solution.",
        id="no reference",
    ),
    pytest.param(
        SQL,
        {"t-mode": "nonsense"},
        "t:mode",
        "Choose a query, an index script or a transaction script.",
        id="unknown mode",
    ),
    pytest.param(
        SQL,
        {"t-time_limit": "99"},
        "t:time_limit",
        "Give the CPU time in seconds: more than 0, at most 30.",
        id="time limit",
    ),
    pytest.param(
        SQL,
        {"t-memory_limit_mb": "1"},
        "t:memory_limit_mb",
        "Give the memory in MiB: a whole number from 64 to 2048.",
        id="memory limit",
    ),
    pytest.param(
        SQL,
        {"tests-1-name": "two"},
        "rows:tests",
        "Two tests are named 'two': give each a name of its own.",
        id="duplicate test name",
    ),
    pytest.param(SQL, {"tests-0-name": ""}, "rows:tests:0:name", "Name the test.", id="no name"),
    pytest.param(
        SQL,
        {"tests-0-weight": "-1"},
        "rows:tests:0:weight",
        "The weight must be a positive number.",
        id="negative weight",
    ),
    pytest.param(
        SQL,
        {"tests-0-weight": "heavy"},
        "rows:tests:0:weight",
        "Enter a number, such as 42 or 0.25.",
        id="weight not a number",
    ),
    pytest.param(
        SQL,
        {"tests-1-visible": "on"},
        "rows:tests",
        "Keep at least one test hidden.",
        id="no hidden test",
    ),
    pytest.param(SQL, {"tests-1-rule": "paid-only"}, "rows:tests:1:rule", NO_RULE, id="test rule"),
    pytest.param(
        SQL,
        {"wrong_solutions-0-breaks": "paid-only"},
        "rows:wrong_solutions:0:breaks",
        NO_RULE,
        id="wrong solution's rule",
    ),
    pytest.param(
        SQL,
        {"rules-TOTAL_FORMS": "1", "rules-0-id": "Paid Only", "rules-0-text": "Paid only."},
        "rows:rules:0:id",
        "Use a-z, 0-9 and hyphens (kebab-case), such as paid-only.",
        id="rule id",
    ),
    pytest.param(
        PAID_TOTALS,
        {"rules-0-text": ""},
        "rows:rules:0:text",
        "Write the rule as the statement states it.",
        id="rule text",
    ),
    pytest.param(
        INDEX,
        {"t-query": ""},
        "t:query",
        "Write the query whose plan is judged.",
        id="index: no query",
    ),
    pytest.param(
        INDEX,
        {"t-requires_index_on": "the orders"},
        "t:requires_index_on",
        "Name the table the plan must search through an index: a table of the schema, "
        "in letters, digits and _.",
        id="index: table name",
    ),
    pytest.param(
        TRANSACTION,
        {"t-reader_query": ""},
        "t:reader_query",
        "Write the reader's query: what a second connection reads after each statement.",
        id="transaction: no reader",
    ),
    pytest.param(
        TRANSACTION,
        {"check_tables-0-table": ""},
        "rows:check_tables",
        "List at least one table whose final rows are compared.",
        id="transaction: no table",
    ),
    pytest.param(
        TRANSACTION,
        {"check_tables-0-table": "1accounts"},
        "rows:check_tables:0:table",
        "Write the name of a table of the schema (letters, digits and _).",
        id="transaction: table name",
    ),
    pytest.param(
        TRANSACTION,
        {"check_tables-0-columns": "id, id"},
        "rows:check_tables:0:columns",
        "A column is listed twice.",
        id="transaction: column twice",
    ),
    pytest.param(
        TRANSACTION,
        {"check_tables-TOTAL_FORMS": "2", "check_tables-1-table": "accounts"},
        "rows:check_tables",
        "A table is listed twice.",
        id="transaction: table twice",
    ),
]


@pytest.mark.parametrize(("spec", "changes", "where", "message"), BAD_FORMS)
def test_each_problem_is_shown_once_on_its_field_and_nothing_is_saved(
    author: Client,
    topic: Any,
    spec: dict[str, Any],
    changes: dict[str, Any],
    where: str,
    message: str,
) -> None:
    response = post(author, topic, spec, **changes)
    assert response.status_code == 400
    shown_errors = _errors(response, where)
    left = response.context["authoring"].non_field_errors
    assert shown_errors == [message], f"at {where}: {shown_errors}; above the form: {left}"
    assert left == []
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not Item.objects.filter(slug=spec["slug"]).exists()
