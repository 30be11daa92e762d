"""Forms for authoring quizzes: settings and the pools their items are drawn from.

They read the input; the pool rules are kept by ``quiz_save`` (quizzes/bank/quizzes.py)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms import inlineformset_factory

from quizzes.models import Item, ItemType, Quiz, QuizPool

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
