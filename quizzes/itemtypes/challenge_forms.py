"""What the authoring forms of code and SQL challenges share (code_forms.py and
sql_forms.py): the starter code, the tests (name, visibility, weight, rule), the reference
and wrong solutions, the rules and the limits.

Kept thin on purpose: the spec itself belongs to quizzes/grading/spec.py, which validates
what the forms build.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from django import forms

from quizzes.itemtypes.forms import (
    ErrorRule,
    NumberField,
    RowForm,
    TypeForm,
    normalise_text,
    text_field,
)


class JSONTextField(forms.CharField):
    """A JSON value typed on one line (``[1, 2]``, ``"text"``, ``null``); blank is None."""

    def to_python(self, value: Any) -> Any:
        text = str(super().to_python(value)).strip()
        if not text:
            return None
        try:
            return {"value": json.loads(text)}
        except ValueError as exc:
            raise forms.ValidationError(f"Write a JSON value: {exc}.") from None

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dict) and "value" in value:
            return json.dumps(value["value"], ensure_ascii=False)
        return value


class WrongRow(RowForm):
    source = text_field("Wrong solution", rows=6, max_length=64 * 1024)
    breaks = forms.CharField(label="Rule it breaks (id)", required=False, max_length=60)
    author = forms.CharField(label="Written by", required=False, max_length=100)


class RuleRow(RowForm):
    id = forms.CharField(label="Rule id", required=False, max_length=60)
    text = forms.CharField(label="The rule, as the statement states it", required=False)


class TestRow(RowForm):
    name = forms.CharField(label="Test name", required=False, max_length=200)
    visible = forms.BooleanField(label="Visible to learners", required=False)
    weight = NumberField(label="Weight", required=False, help_text="Default 1.")
    rule = forms.CharField(label="Rule it enforces (id)", required=False, max_length=60)


CHALLENGE_RULES = (
    ErrorRule(
        r"'reference_solution' is required", "reference_solution", "Write the reference solution."
    ),
    ErrorRule(
        r"'wrong_solutions' must list",
        "wrong_solutions",
        "Give at least one wrong solution: a plausible mistake the hidden tests catch.",
    ),
    ErrorRule(r"at least one visible test", "tests", "Make at least one test visible."),
    ErrorRule(r"at least one hidden test", "tests", "Keep at least one test hidden."),
    ErrorRule(r"challenge\.tests\[(?P<row>\d+)\]", "tests.*", first_row=0),
    ErrorRule(r"challenge\.wrong_solutions\[(?P<row>\d+)\]", "wrong_solutions.*", first_row=0),
    ErrorRule(r"challenge\.rules\[(?P<row>\d+)\]", "rules.*", first_row=0),
    ErrorRule(r"time_limit", "time_limit"),
    ErrorRule(r"memory_limit", "memory_limit_mb"),
)


class ChallengeForm(TypeForm):
    """What code and SQL challenges share; subclasses add their own fields and tests."""

    # The challenge keys this form writes; an entry with any other is edited in YAML.
    own_keys: ClassVar[frozenset[str]]
    test_keys: ClassVar[frozenset[str]]
    common_fields: ClassVar[dict[str, forms.Field]] = {
        "starter": text_field("Starter code (what the editor shows first)", rows=6),
        "reference_solution": text_field("Reference solution", rows=10),
        "time_limit": NumberField(label="Time limit (seconds of CPU)", required=False),
        "memory_limit_mb": NumberField(label="Memory limit (MiB)", required=False),
        "tests_author": forms.CharField(label="Tests written by", required=False, max_length=100),
    }
    test_row: ClassVar[type[RowForm]]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        entry = kwargs.get("entry") or {}
        challenge = entry.get("challenge")
        if isinstance(challenge, dict) and not self.editable(challenge):
            self.unsupported = (
                "This challenge uses what the form does not edit (a class, an SQL script "
                "mode, keyword arguments or tolerances): edit it in YAML."
            )

    def editable(self, challenge: dict[str, Any]) -> bool:
        tests = challenge.get("tests") or []
        return set(challenge) <= self.own_keys and all(
            isinstance(t, dict) and set(t) <= self.test_keys for t in tests
        )

    def initial_from_entry(self, entry: dict[str, Any]) -> dict[str, Any]:
        challenge = entry.get("challenge") or {}
        initial = {key: challenge.get(key) for key in self.common_fields}
        initial.update(self.own_initial(challenge))
        initial["tests"] = [self.test_initial(t) for t in challenge.get("tests") or []]
        initial["wrong_solutions"] = [
            {"source": w} if isinstance(w, str) else dict(w)
            for w in challenge.get("wrong_solutions") or []
        ]
        initial["rules"] = [dict(r) for r in challenge.get("rules") or []]
        return initial

    def own_initial(self, challenge: dict[str, Any]) -> dict[str, Any]:
        return {}

    def test_initial(self, test: dict[str, Any]) -> dict[str, Any]:
        return dict(test)

    def entry_fields(self) -> dict[str, Any]:
        data = self.form.cleaned_data
        challenge: dict[str, Any] = self.own_entry(data)
        for key in ("starter", "reference_solution"):
            challenge[key] = normalise_text(data[key])
        for key in ("time_limit", "memory_limit_mb", "tests_author"):
            if data[key] not in (None, ""):
                challenge[key] = data[key]
        rules = [{"id": r["id"], "text": r["text"]} for r in self.rows("rules")]
        if rules:
            challenge["rules"] = rules
        challenge["tests"] = [self.test_entry(row) for row in self.rows("tests")]
        wrong: list[Any] = []
        for row in self.rows("wrong_solutions"):
            source = normalise_text(row["source"])
            extra = {k: row[k] for k in ("breaks", "author") if row[k]}
            wrong.append({"source": source, **extra} if extra else source)
        challenge["wrong_solutions"] = wrong
        return {"challenge": challenge}

    def own_entry(self, data: dict[str, Any]) -> dict[str, Any]:
        return {}

    def test_entry(self, row: dict[str, Any]) -> dict[str, Any]:
        test: dict[str, Any] = {"name": row["name"], "visible": row["visible"]}
        for key in ("weight", "rule"):
            if row[key] not in (None, ""):
                test[key] = row[key]
        return test
