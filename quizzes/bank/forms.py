"""Forms for authoring quizzes: settings and the pools their items are drawn from.

They read the input; the pool rules are kept by ``quiz_save`` (quizzes/bank/quizzes.py)."""

from __future__ import annotations

from django import forms
from django.forms import inlineformset_factory

from quizzes.models import ItemType, Quiz, QuizPool


class QuizForm(forms.ModelForm[Quiz]):
    closes_at = forms.DateTimeField(
        required=False,
        help_text="UTC, e.g. 2026-12-31 18:00. After it, no new attempts; "
        "'after the quiz closes' feedback is released.",
    )

    class Meta:
        model = Quiz
        fields = [
            "slug", "title", "description", "stage", "status", "time_limit_seconds",
            "max_attempts", "pass_mark_percent", "feedback_mode", "closes_at",
            "shuffle_items", "shuffle_choices",
        ]  # fmt: skip
        help_texts = {
            "time_limit_seconds": "Empty for no limit. The server enforces it.",
            "max_attempts": "Empty for unlimited.",
        }


class PoolForm(forms.ModelForm[QuizPool]):
    item_types = forms.MultipleChoiceField(
        choices=ItemType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: any type.",
    )

    class Meta:
        model = QuizPool
        fields = ["count", "stage", "topic", "difficulty_min", "difficulty_max", "item_types"]


PoolFormSet = inlineformset_factory(Quiz, QuizPool, form=PoolForm, extra=1, can_delete=True)
