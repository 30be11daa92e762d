"""The authoring form of an SQL challenge (quizzes/itemtypes/sql.py), in each of its modes.

The mode (the spec's ``mode``; docs/architecture.md, "SQL challenges come in three modes")
says what the learner writes and what the form asks besides the schema, the tests and the
solutions: ``query``, whether row order matters; ``index``, the fixed query whose plan is
judged, the table it must search through an index and whether it may sort; ``transaction``,
the query a concurrent reader runs after each statement and the tables whose final rows
are compared. Choosing a mode redraws the form with that mode's fields; the other modes'
fields keep what was typed, hidden, and stay out of the entry.

The form keeps how an entry was written: a key the entry left out (a query's ``mode``, a
hidden test's ``visible``) stays out while it holds its default, and one it wrote stays
written, so an unchanged form saves the very same entry (same content hash, so no new
version) whichever way its YAML spelled the defaults. New items write ``ordered``,
``forbid_sort`` and ``starter``, as the bank does.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.forms import BaseFormSet, BoundField

from quizzes.grading.spec import (
    MAX_MEMORY_LIMIT_MB,
    MAX_TIME_LIMIT,
    MIN_MEMORY_LIMIT_MB,
    SQL_MODES,
)
from quizzes.itemtypes.challenge_forms import (
    CHALLENGE_RULES,
    ChallengeForm,
    RuleRow,
    TestRow,
    WrongRow,
)
from quizzes.itemtypes.forms import ErrorRule, RowForm, RowSet, normalise_text, text_field

MODE_CHOICES = [
    (
        "query",
        "A query: the learner writes one SELECT, graded by its rows against the reference's",
    ),
    (
        "index",
        "An index script: the learner writes a migration (CREATE INDEX, ANALYZE), graded by "
        "the plan of a fixed query",
    ),
    (
        "transaction",
        "A transaction script: the learner writes a script, graded by the final rows and by "
        "what a concurrent reader saw after each statement",
    ),
]
# The fields and row sets that belong to some modes only (the others belong to every mode).
_MODE_FIELDS: dict[str, tuple[str, ...]] = {
    "ordered": ("query", "index"),
    "query": ("index",),
    "requires_index_on": ("index",),
    "forbid_sort": ("index",),
    "reader_query": ("transaction",),
    "check_tables": ("transaction",),
}
# Keys left out of the entry while they hold their default, unless the entry wrote them.
_DEFAULTS: dict[str, Any] = {"mode": "query", "ordered": False, "forbid_sort": False, "starter": ""}
_TEST_DEFAULTS: dict[str, Any] = {"visible": False, "data": ""}
# What a new item writes even at the default.
_NEW_ITEM_WRITES = "ordered forbid_sort starter"


def _written_field(initial: str = "") -> forms.CharField:
    """The keys of ``_DEFAULTS`` (or ``_TEST_DEFAULTS``) the entry wrote, space-separated."""
    return forms.CharField(required=False, widget=forms.HiddenInput, initial=initial)


def _written(value: Any) -> set[str]:
    return set(str(value or "").split())


class SqlTestRow(TestRow):
    # Not "data": a form's data is what was posted.
    rows_sql = text_field(
        "Data set (SQL run on the schema before the learner's answer)",
        rows=4,
        max_length=64 * 1024,
        help_text="INSERT statements, or any SQL that fills the tables; blank for empty tables.",
    )
    written = _written_field()


class CheckTableRow(RowForm):
    table = forms.CharField(label="Table", required=False, max_length=60)
    columns = forms.CharField(
        label="Columns compared",
        required=False,
        max_length=1000,
        help_text="Separated by commas; blank for every column. List them to leave out keys "
        "whose values depend on the order rows were inserted in.",
    )


class SqlChallengeForm(ChallengeForm):
    fields = {
        "mode": forms.ChoiceField(
            label="What the learner writes",
            choices=MODE_CHOICES,
            initial="query",
            widget=forms.RadioSelect,
            error_messages={
                "required": "Choose what the learner writes.",
                "invalid_choice": "Choose a query, an index script or a transaction script.",
            },
        ),
        "schema": text_field(
            "Schema (SQLite DDL)",
            rows=6,
            help_text="The CREATE TABLE (and CREATE INDEX) statements every test starts from.",
        ),
        "ordered": forms.BooleanField(
            label="Row order matters",
            required=False,
            help_text="Tick when the query has ORDER BY: its rows are then compared in order.",
        ),
        "query": text_field(
            "The fixed query whose plan is judged (SQL)",
            rows=5,
            help_text="Run after the learner's script on every test's data: its plan is "
            "judged, and its rows must be those it returns without the script.",
        ),
        "requires_index_on": forms.CharField(
            label="Table the plan must search through an index",
            required=False,
            max_length=60,
            # Help texts are HTML: no angle brackets.
            help_text="Its plan must SEARCH this table USING INDEX, with an index the script "
            "created.",
        ),
        "forbid_sort": forms.BooleanField(
            label="The plan may not sort (no USE TEMP B-TREE)",
            required=False,
        ),
        "reader_query": text_field(
            "The concurrent reader's query (SQL)",
            rows=5,
            help_text="A second connection runs it after each of the script's statements: it "
            "must see the database as before the script or as after it, never in between.",
        ),
        **ChallengeForm.common_fields,
        "written": _written_field(_NEW_ITEM_WRITES),
    }
    own_keys = frozenset(
        {"schema", "ordered", "starter", "reference_solution", "wrong_solutions", "tests",
         "time_limit", "memory_limit_mb", "rules", "tests_author", "mode", "query",
         "requires_index_on", "forbid_sort", "reader_query", "check_tables"}
    )  # fmt: skip
    test_keys = frozenset({"name", "visible", "weight", "rule", "data"})
    row_sets = (
        RowSet(
            "check_tables",
            CheckTableRow,
            "Tables whose final rows are compared",
            "Add a table",
            spare=1,
        ),
        RowSet("tests", SqlTestRow, "Tests (each a data set)", "Add a test", spare=2),
        RowSet("wrong_solutions", WrongRow, "Wrong solutions", "Add a wrong solution", spare=1),
        RowSet("rules", RuleRow, "Rules the statement states", "Add a rule"),
    )
    template = "quizzes/staff/itemforms/sql.html"
    error_rules = (
        ErrorRule(
            r"challenge\.mode:",
            "mode",
            "Choose a query, an index script or a transaction script.",
        ),
        ErrorRule(
            r"'schema'|challenge\.schema:",
            "schema",
            "Write the schema: the CREATE TABLE statements every test starts from.",
        ),
        ErrorRule(
            r"'reference_solution'|challenge\.reference_solution:",
            "reference_solution",
            "Write the reference solution.",
        ),
        ErrorRule(
            r"key 'query'|challenge\.query:", "query", "Write the query whose plan is judged."
        ),
        ErrorRule(
            r"requires_index_on",
            "requires_index_on",
            "Name the table the plan must search through an index: a table of the schema, "
            "in letters, digits and _.",
        ),
        ErrorRule(
            r"reader_query",
            "reader_query",
            "Write the reader's query: what a second connection reads after each statement.",
        ),
        ErrorRule(
            r"challenge\.check_tables\[(?P<row>\d+)\]\.columns: a column is listed twice",
            "check_tables.columns",
            "A column is listed twice.",
            first_row=0,
        ),
        ErrorRule(
            r"challenge\.check_tables\[(?P<row>\d+)\]\.columns",
            "check_tables.columns",
            "Write column names (letters, digits and _) separated by commas, or leave it "
            "blank to compare every column.",
            first_row=0,
        ),
        ErrorRule(
            r"challenge\.check_tables\[(?P<row>\d+)\]",
            "check_tables.table",
            "Write the name of a table of the schema (letters, digits and _).",
            first_row=0,
        ),
        ErrorRule(
            r"check_tables: a table is listed twice", "check_tables", "A table is listed twice."
        ),
        ErrorRule(
            r"check_tables",
            "check_tables",
            "List at least one table whose final rows are compared.",
        ),
        ErrorRule(
            r"challenge\.tests: expected a non-empty list",
            "tests",
            "Add at least one test: a data set the answers run on.",
        ),
        ErrorRule(
            r"challenge\.tests: duplicate test name (?P<name>.+)$",
            "tests",
            "Two tests are named {name}: give each a name of its own.",
        ),
        ErrorRule(
            r"challenge\.tests\[(?P<row>\d+)\][^:]*: missing or empty 'name'",
            "tests.name",
            "Name the test.",
            first_row=0,
        ),
        ErrorRule(
            r"challenge\.tests\[(?P<row>\d+)\][^:]*\.weight",
            "tests.weight",
            "The weight must be a positive number.",
            first_row=0,
        ),
        ErrorRule(
            r"challenge\.tests\[(?P<row>\d+)\][^:]*\.rule: (?P<rule>'.*') is not",
            "tests.rule",
            "{rule} is not the id of one of the rules below.",
            first_row=0,
        ),
        ErrorRule(
            r"challenge\.wrong_solutions\[(?P<row>\d+)\]\.source",
            "wrong_solutions.source",
            "Write the wrong solution's SQL.",
            first_row=0,
        ),
        ErrorRule(
            r"challenge\.wrong_solutions\[(?P<row>\d+)\]\.breaks: (?P<rule>'.*') is not",
            "wrong_solutions.breaks",
            "{rule} is not the id of one of the rules below.",
            first_row=0,
        ),
        ErrorRule(
            r"challenge\.wrong_solutions\[(?P<row>\d+)\]\.author",
            "wrong_solutions.author",
            "Write a name, or leave it blank.",
            first_row=0,
        ),
        ErrorRule(
            r"challenge\.rules\[(?P<row>\d+)\]\.id: duplicate",
            "rules.id",
            "Another rule has this id.",
            first_row=0,
        ),
        ErrorRule(
            r"challenge\.rules\[(?P<row>\d+)\]\.id",
            "rules.id",
            "Use a-z, 0-9 and hyphens (kebab-case), such as paid-only.",
            first_row=0,
        ),
        ErrorRule(
            r"challenge\.rules\[(?P<row>\d+)\]\.text",
            "rules.text",
            "Write the rule as the statement states it.",
            first_row=0,
        ),
        ErrorRule(
            r"challenge\.time_limit",
            "time_limit",
            f"Give the CPU time in seconds: more than 0, at most {MAX_TIME_LIMIT:g}.",
        ),
        ErrorRule(
            r"challenge\.memory_limit_mb",
            "memory_limit_mb",
            f"Give the memory in MiB: a whole number from {MIN_MEMORY_LIMIT_MB} to "
            f"{MAX_MEMORY_LIMIT_MB}.",
        ),
        ErrorRule(r"challenge\.tests_author", "tests_author", "Write a name, or leave it blank."),
        *CHALLENGE_RULES,
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self.unsupported:
            self.unsupported = (
                "This challenge uses what the form does not edit (tests kept to some "
                "languages, or a wrong solution or checked table written in a longer form "
                "than it needs): edit it in YAML."
            )

    # --- which entries the form edits ---------------------------------------------------------
    def editable(self, challenge: dict[str, Any]) -> bool:
        wrong = challenge.get("wrong_solutions") or []
        tables = challenge.get("check_tables") or []
        return (
            challenge.get("mode", "query") in SQL_MODES
            and super().editable(challenge)
            # A wrong solution as a mapping holding its source alone is written back as text.
            and isinstance(wrong, list)
            and all(
                isinstance(w, str) or (isinstance(w, dict) and w.keys() - {"source"}) for w in wrong
            )
            and isinstance(tables, list)
            and all(isinstance(t, str) or _is_table_with_columns(t) for t in tables)
        )

    # --- entry → form ---------------------------------------------------------------------------
    def own_initial(self, challenge: dict[str, Any]) -> dict[str, Any]:
        written = (
            " ".join(k for k in _DEFAULTS if k in challenge) if challenge else _NEW_ITEM_WRITES
        )
        return {
            "mode": challenge.get("mode", "query"),
            "schema": challenge.get("schema", ""),
            "ordered": bool(challenge.get("ordered")),
            "query": challenge.get("query", ""),
            "requires_index_on": challenge.get("requires_index_on", ""),
            "forbid_sort": bool(challenge.get("forbid_sort")),
            "reader_query": challenge.get("reader_query", ""),
            "check_tables": [_table_initial(t) for t in challenge.get("check_tables") or []],
            "written": written,
        }

    def test_initial(self, test: dict[str, Any]) -> dict[str, Any]:
        written = " ".join(k for k in _TEST_DEFAULTS if k in test)
        return {**test, "rows_sql": test.get("data", ""), "written": written}

    # --- form → entry ---------------------------------------------------------------------------
    def mode(self) -> str:
        """The mode the form shows (as posted, else as first shown)."""
        value = self.form["mode"].value()
        return value if value in SQL_MODES else "query"

    def own_entry(self, data: dict[str, Any]) -> dict[str, Any]:
        mode = data["mode"]
        challenge: dict[str, Any] = {"mode": mode, "schema": normalise_text(data["schema"])}
        if mode in _MODE_FIELDS["ordered"]:
            challenge["ordered"] = data["ordered"]
        if mode == "index":
            challenge["query"] = normalise_text(data["query"])
            challenge["requires_index_on"] = data["requires_index_on"]
            challenge["forbid_sort"] = data["forbid_sort"]
        if mode == "transaction":
            challenge["reader_query"] = normalise_text(data["reader_query"])
            challenge["check_tables"] = [_table_entry(row) for row in self.rows("check_tables")]
        return challenge

    def entry_fields(self) -> dict[str, Any]:
        challenge = super().entry_fields()["challenge"]
        written = _written(self.form.cleaned_data["written"])
        for key, default in _DEFAULTS.items():
            if key in challenge and _same(challenge[key], default) and key not in written:
                del challenge[key]
        return {"challenge": challenge}

    def test_entry(self, row: dict[str, Any]) -> dict[str, Any]:
        test = {**super().test_entry(row), "data": normalise_text(row["rows_sql"])}
        written = _written(row["written"])
        for key, default in _TEST_DEFAULTS.items():
            if _same(test[key], default) and key not in written:
                del test[key]
        return test

    # --- errors -----------------------------------------------------------------------------
    def add_bank_errors(self, messages: list[str]) -> list[str]:
        """As the base class, once the messages that name a test by its name (``tests
        ('late order').rule``) also give its row, so they go next to it."""
        names = [str(row.get("name") or "") for row in self.rows("tests")]
        return super().add_bank_errors([_test_row_named(m, names) for m in messages])

    # --- used by the template -----------------------------------------------------------------
    def field_layout(self) -> list[tuple[BoundField, bool]]:
        """Every field but the mode, with whether it is hidden: another mode's, unless it
        has an error to show."""
        mode = self.mode()
        return [
            (
                self.form[name],
                mode not in _MODE_FIELDS.get(name, SQL_MODES) and not self.form[name].errors,
            )
            for name in self.form.fields
            if name != "mode"
        ]

    def row_set_layout(self) -> list[tuple[RowSet, BaseFormSet[Any], bool]]:
        mode = self.mode()
        return [
            (
                row_set,
                formset,
                mode not in _MODE_FIELDS.get(row_set.name, SQL_MODES)
                and not (formset.non_form_errors() or any(f.errors for f in formset.forms)),
            )
            for row_set, formset in self.row_sets_view()
        ]


def _same(value: Any, default: Any) -> bool:
    return type(value) is type(default) and value == default


def _is_table_with_columns(table: Any) -> bool:
    columns = table.get("columns") if isinstance(table, dict) else None
    return (
        isinstance(table, dict)
        and set(table) == {"table", "columns"}
        and isinstance(columns, list)
        and bool(columns)
        and all(isinstance(c, str) for c in columns)
    )


def _table_initial(table: Any) -> dict[str, Any]:
    if isinstance(table, dict):
        return {"table": table.get("table", ""), "columns": ", ".join(table.get("columns") or [])}
    return {"table": table}


def _table_entry(row: dict[str, Any]) -> Any:
    columns = [c for c in re.split(r"[,\s]+", row["columns"]) if c]
    return {"table": row["table"], "columns": columns} if columns else row["table"]


def _test_row_named(message: str, names: list[str]) -> str:
    """``challenge.tests ('late order').rule: …`` as ``challenge.tests[3] ('late order')…``."""
    for index, name in enumerate(names):
        named = f"challenge.tests ({name!r})"
        if named in message:
            return message.replace(named, f"challenge.tests[{index}] ({name!r})", 1)
    return message
