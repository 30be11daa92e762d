"""Forms for authoring: an item's common fields, combined with its type's own form
(quizzes/itemtypes/forms.py); a quiz's settings and the pools its items are drawn from.

They read the input; the rules are kept by the services (``check_item`` through
``item_save``, and ``quiz_save`` in quizzes/bank/quizzes.py)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.forms import inlineformset_factory
from django.http import QueryDict

from quizzes.itemtypes import ItemTypeHandler
from quizzes.itemtypes.forms import ErrorRule, NumberField, normalise_text, text_field
from quizzes.models import Cognitive, Item, ItemType, Quiz, QuizPool, Stage

MAX_MINUTES = 24 * 60
MAX_POOLS = 50


class QuizForm(forms.ModelForm[Quiz]):
    time_limit_minutes = forms.IntegerField(
        label="Time limit (minutes)",
        required=False,
        min_value=1,
        max_value=MAX_MINUTES,
        help_text="Empty for no limit. The server enforces it.",
    )
    opens_at = forms.DateTimeField(
        label="Opens",
        required=False,
        help_text="UTC, e.g. 2026-12-01 09:00. Before it, learners cannot start the quiz.",
    )
    closes_at = forms.DateTimeField(
        label="Closes",
        required=False,
        help_text="UTC, e.g. 2026-12-31 18:00. After it, no new attempts; "
        "'after the quiz closes' feedback is released.",
    )

    class Meta:
        model = Quiz
        fields = [
            "slug", "title", "description", "stage", "status", "max_attempts",
            "pass_mark_percent", "feedback_mode", "opens_at", "closes_at",
            "shuffle_items", "shuffle_choices",
        ]  # fmt: skip
        help_texts = {"max_attempts": "Empty for unlimited."}

    field_order = [
        "slug", "title", "description", "stage", "status", "time_limit_minutes",
        "max_attempts", "pass_mark_percent", "feedback_mode", "opens_at", "closes_at",
        "shuffle_items", "shuffle_choices",
    ]  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        seconds = self.instance.time_limit_seconds
        if seconds and "time_limit_minutes" not in self.initial:
            self.initial["time_limit_minutes"] = max(1, round(seconds / 60))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        minutes = data.get("time_limit_minutes")
        self.instance.time_limit_seconds = minutes * 60 if minutes else None
        return data


class PoolForm(forms.ModelForm[QuizPool]):
    item = forms.ModelChoiceField(
        label="Hand-picked item",
        queryset=Item.objects.all(),
        to_field_name="slug",
        required=False,
        widget=forms.TextInput(attrs={"list": "item-slugs", "autocomplete": "off"}),
        help_text="An item's slug: the pool then draws exactly this item (count 1), "
        "whatever its filters.",
    )
    item_types = forms.MultipleChoiceField(
        choices=ItemType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: any type.",
    )

    class Meta:
        model = QuizPool
        fields = [
            "item",
            "count",
            "stage",
            "topic",
            "difficulty_min",
            "difficulty_max",
            "item_types",
        ]


PoolFormSet = inlineformset_factory(
    Quiz, QuizPool, form=PoolForm, extra=1, can_delete=True, max_num=MAX_POOLS, validate_max=True
)


# --- items ---------------------------------------------------------------------------------
_COMMON_RULES = (
    ErrorRule(
        r"'slug' must be", "slug", "Use a-z, 0-9 and hyphens (kebab-case), at most 120 characters."
    ),
    ErrorRule(
        r"an item with slug .* already exists", "slug", "An item with this slug already exists."
    ),
    ErrorRule(r"the slug must stay", "slug"),
    ErrorRule(r"'topic'", "topic", "Choose a topic of this stage."),
    ErrorRule(r"'difficulty'", "difficulty", "Choose a difficulty from 1 to 5."),
    ErrorRule(r"'cognitive'", "cognitive", "Choose judgement or recall."),
    ErrorRule(r"'points'", "points", "Points must be a positive number."),
    ErrorRule(r"'title' is required", "title", "Write a title."),
    ErrorRule(r"'body' is required", "body", "Write the question."),
    ErrorRule(r"'explanation'", "explanation", "Write the explanation learners read at review."),
)


class ItemCommonForm(forms.Form):
    """The fields every item has, whatever its type."""

    slug = forms.SlugField(
        max_length=120,
        required=False,
        help_text="The item's lasting id: kebab-case, unique in the bank.",
    )
    title = text_field("Title", max_length=200)
    body = text_field(
        "Question (Markdown)", rows=6, help_text="Fenced code blocks are highlighted."
    )
    explanation = text_field(
        "Explanation (Markdown)",
        rows=4,
        help_text="Shown at review: why the key is right, why tempting answers are wrong.",
    )
    topic = forms.ChoiceField(label="Topic", required=False)
    difficulty = forms.TypedChoiceField(
        label="Difficulty",
        choices=[
            (n, f"{n} — {w}")
            for n, w in enumerate(("very easy", "easy", "medium", "hard", "very hard"), start=1)
        ],
        coerce=int,
        required=False,
        empty_value=None,
    )
    cognitive = forms.ChoiceField(
        label="Cognitive level", choices=Cognitive.choices, required=False
    )
    points = NumberField(label="Points", required=False, help_text="Empty for the type's default.")

    def __init__(self, *args: Any, stage: Stage, fixed_slug: str | None, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "c")
        super().__init__(*args, **kwargs)
        topic = self.fields["topic"]
        assert isinstance(topic, forms.ChoiceField)
        topic.choices = [("", "—")] + [(t.slug, t.title) for t in stage.topics.all()]
        if fixed_slug is not None:
            self.fields["slug"].disabled = True
            self.fields["slug"].initial = fixed_slug
            self.fields["slug"].help_text = "The slug of an existing item stays."

    def entry_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        entry: dict[str, Any] = {
            "slug": data["slug"],
            "topic": data["topic"],
            "difficulty": data["difficulty"],
            "cognitive": data["cognitive"] or Cognitive.RECALL,
        }
        if data["points"] is not None:
            entry["points"] = data["points"]
        entry["title"] = normalise_text(data["title"])
        entry["body"] = normalise_text(data["body"])
        if data["explanation"]:
            entry["explanation"] = normalise_text(data["explanation"])
        return entry


def _common_initial(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        key: entry.get(key)
        for key in ("slug", "title", "body", "explanation", "topic", "difficulty", "cognitive",
                    "points")
    }  # fmt: skip


class ItemAuthoring:
    """One item's whole form: the common fields and its type's (``TypeForm``)."""

    def __init__(
        self,
        *,
        handler: ItemTypeHandler,
        stage: Stage,
        item: Item | None,
        data: QueryDict | None = None,
        entry: dict[str, Any] | None = None,
    ) -> None:
        form_class = handler.authoring_form
        assert form_class is not None, "the caller checks the type has a form"
        self.handler = handler
        fixed = item.slug if item is not None else None
        self.non_field_errors: list[str] = []
        if data is not None:
            self.common = ItemCommonForm(data, stage=stage, fixed_slug=fixed)
            self.typed = form_class(data=data)
        else:
            initial = _common_initial(entry or {})
            self.common = ItemCommonForm(initial=initial, stage=stage, fixed_slug=fixed)
            self.typed = form_class(entry=entry)

    @classmethod
    def after_row_op(
        cls, *, handler: ItemTypeHandler, stage: Stage, item: Item | None, op: str, data: QueryDict
    ) -> ItemAuthoring | None:
        """The form as posted, with a row added, removed or moved (nothing validated)."""
        form_class = handler.authoring_form
        typed = form_class.apply_row_op(op, data) if form_class else None
        if typed is None:
            return None
        authoring = cls(handler=handler, stage=stage, item=item)
        fixed = item.slug if item else None
        posted = ItemCommonForm(data, stage=stage, fixed_slug=fixed)
        authoring.common = ItemCommonForm(
            initial={name: posted[name].value() for name in posted.fields},
            stage=stage,
            fixed_slug=fixed,
        )
        authoring.typed = typed
        return authoring

    def entry(self) -> dict[str, Any] | None:
        """The bank entry the form holds, or None while a field cannot be read."""
        common_ok = self.common.is_valid()
        typed_ok = self.typed.is_valid()
        if not (common_ok and typed_ok):
            return None
        entry = self.common.entry_fields()
        entry = {
            "slug": entry.pop("slug"),
            "type": str(self.handler.type),
            **entry,
            **self.typed.entry_fields(),
        }
        return entry

    def error_messages(self) -> list[str]:
        """Every error the form shows, each after the name of its field (and row), for a
        summary away from the fields: the live preview lists them so."""
        found = list(self.non_field_errors)
        found += _form_errors(self.common, [])
        found += _form_errors(self.typed.form, [])
        for row_set, formset in self.typed.row_sets_view():
            found += [f"{row_set.label}: {e}" for e in formset.non_form_errors()]
            for number, row in enumerate(formset.forms, start=1):
                found += _form_errors(row, [row_set.label, f"row {number}"])
        return found

    def add_problems(self, problems: list[str]) -> None:
        """Put the bank's problems next to their fields; the rest above the form."""
        left = []
        for message in self.typed.add_bank_errors(problems):
            for rule in _COMMON_RULES:
                match = re.search(rule.pattern, message)
                if match:
                    self.common.add_error(rule.target, rule.plain(match, message))
                    break
            else:
                left.append(message)
        self.non_field_errors += left


def _form_errors(form: forms.Form, where: list[str]) -> list[str]:
    found = []
    for name, errors in form.errors.items():
        label = [str(form[name].label)] if name in form.fields else []
        prefix = ", ".join([*where, *label])
        found += [f"{prefix}: {error}" if prefix else str(error) for error in errors]
    return found


def is_slug_problem(message: str) -> bool:
    """Whether a bank problem is about the slug, which a draft's preview does not need."""
    return any(re.search(r.pattern, message) for r in _COMMON_RULES if r.target == "slug")
