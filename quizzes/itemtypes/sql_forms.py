"""The authoring form of an SQL challenge (quizzes/itemtypes/sql.py).

A challenge of the query mode is edited here; the index and transaction modes are edited
in YAML, and the form says so.
"""

from __future__ import annotations

from typing import Any

from django import forms

from quizzes.itemtypes.challenge_forms import (
    CHALLENGE_RULES,
    ChallengeForm,
    RuleRow,
    TestRow,
    WrongRow,
)
from quizzes.itemtypes.forms import ErrorRule, RowSet, normalise_text, text_field


class SqlTestRow(TestRow):
    # Not "data": a form's data is what was posted.
    rows_sql = text_field("Rows inserted before the query (SQL)", rows=4, max_length=64 * 1024)


class SqlChallengeForm(ChallengeForm):
    fields = {
        "schema": text_field("Schema (SQLite DDL)", rows=6),
        "ordered": forms.BooleanField(
            label="Row order matters", required=False, help_text="Tick when the query has ORDER BY."
        ),
        **ChallengeForm.common_fields,
    }
    own_keys = frozenset(
        {"schema", "ordered", "starter", "reference_solution", "wrong_solutions", "tests",
         "time_limit", "memory_limit_mb", "rules", "tests_author", "mode"}
    )  # fmt: skip
    test_keys = frozenset({"name", "visible", "weight", "rule", "data"})
    row_sets = (
        RowSet("tests", SqlTestRow, "Tests (each a data set)", "Add a test", spare=2),
        RowSet("wrong_solutions", WrongRow, "Wrong solutions", "Add a wrong solution", spare=1),
        RowSet("rules", RuleRow, "Rules the statement states", "Add a rule"),
    )
    error_rules = (ErrorRule(r"schema", "schema"), *CHALLENGE_RULES)

    def editable(self, challenge: dict[str, Any]) -> bool:
        return challenge.get("mode", "query") == "query" and super().editable(challenge)

    def own_initial(self, challenge: dict[str, Any]) -> dict[str, Any]:
        return {"schema": challenge.get("schema", ""), "ordered": bool(challenge.get("ordered"))}

    def own_entry(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"schema": normalise_text(data["schema"]), "ordered": data["ordered"]}

    def test_entry(self, row: dict[str, Any]) -> dict[str, Any]:
        return {**super().test_entry(row), "data": normalise_text(row["rows_sql"])}

    def test_initial(self, test: dict[str, Any]) -> dict[str, Any]:
        return {**test, "rows_sql": test.get("data", "")}
