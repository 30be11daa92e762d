"""The authoring form of a code challenge (quizzes/itemtypes/code.py).

A Python challenge of the function kind is edited here; any other (a class, tests with
keyword arguments or tolerances) is edited in YAML, and the form says so.
"""

from __future__ import annotations

from typing import Any

from django import forms

from quizzes.itemtypes.challenge_forms import (
    CHALLENGE_RULES,
    ChallengeForm,
    JSONTextField,
    RuleRow,
    TestRow,
    WrongRow,
)
from quizzes.itemtypes.forms import ErrorRule, RowSet


class PythonTestRow(TestRow):
    args = JSONTextField(label="Arguments (a JSON list)", required=False)
    expect = JSONTextField(label="Expected result (JSON)", required=False)
    raises = forms.CharField(label="…or the exception it raises", required=False, max_length=100)


class PythonChallengeForm(ChallengeForm):
    fields = {
        "entry_point": forms.CharField(
            label="Function the learner writes", required=False, max_length=100
        ),
        **ChallengeForm.common_fields,
    }
    own_keys = frozenset(
        {"entry_point", "kind", "starter", "time_limit", "memory_limit_mb",
         "reference_solution", "wrong_solutions", "tests", "rules", "tests_author"}
    )  # fmt: skip
    test_keys = frozenset({"name", "visible", "weight", "rule", "args", "expect", "raises"})
    row_sets = (
        RowSet("tests", PythonTestRow, "Tests", "Add a test", spare=2),
        RowSet("wrong_solutions", WrongRow, "Wrong solutions", "Add a wrong solution", spare=1),
        RowSet("rules", RuleRow, "Rules the statement states", "Add a rule"),
    )
    error_rules = (
        ErrorRule(r"entry_point", "entry_point", "Name the function: a Python identifier."),
        *CHALLENGE_RULES,
    )

    def editable(self, challenge: dict[str, Any]) -> bool:
        return challenge.get("kind", "function") == "function" and super().editable(challenge)

    def own_initial(self, challenge: dict[str, Any]) -> dict[str, Any]:
        return {"entry_point": challenge.get("entry_point", "")}

    def test_initial(self, test: dict[str, Any]) -> dict[str, Any]:
        row = dict(test)
        row["args"] = {"value": test.get("args", [])}
        if "expect" in test:
            row["expect"] = {"value": test["expect"]}
        return row

    def own_entry(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"entry_point": data["entry_point"], "kind": "function"}

    def test_entry(self, row: dict[str, Any]) -> dict[str, Any]:
        test = super().test_entry(row)
        test["args"] = row["args"]["value"] if row["args"] else []
        if row["raises"]:
            test["raises"] = row["raises"]
        else:
            test["expect"] = row["expect"]["value"] if row["expect"] else None
        return test
