"""The learner's programming language ("my language"): read it, set it.

Kept in the quiz domain (``LearnerPreference``), since ``accounts`` does not import it;
the profile page shows its form through the profile-section hook that ``quizzes/apps.py``
registers (``accounts.profile``). Code challenges open in this language, stage 1's
quizzes draw its topic, and the placement asks for it first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.http import HttpRequest

from quizzes.grading.languages import LANGUAGES
from quizzes.models import LearnerPreference

if TYPE_CHECKING:
    from accounts.models import User

__all__ = [
    "PreferenceError",
    "language_choices",
    "learner_language",
    "learner_language_set",
]


class PreferenceError(ValueError):
    """A preference that cannot be stored; the message is for the learner."""

    def __init__(self, message: str, *, field: str = "language") -> None:
        super().__init__(message)
        self.field = field


def language_choices() -> list[tuple[str, str]]:
    """(key, label) of every language code challenges are offered in, in page order."""
    return [(key, lang.label) for key, lang in LANGUAGES.items()]


def learner_language(*, user: User | None) -> str | None:
    """The learner's language, or None when they have not chosen one (or it is no longer
    offered)."""
    if user is None or not user.is_authenticated:
        return None
    language = (
        LearnerPreference.objects.filter(user=user).values_list("language", flat=True).first()
    )
    return language if language in LANGUAGES else None


class LanguageForm(forms.Form):
    language = forms.ChoiceField(
        label="My language",
        help_text="Coding challenges open in it (you can switch per challenge), and stage 1's "
        "quizzes ask about it.",
        error_messages={
            "required": "Choose a language.",
            "invalid_choice": "Choose one of the offered languages.",
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["language"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = language_choices()


def language_section(request: HttpRequest) -> dict[str, Any]:
    """The profile page's language section: the form, filled with the learner's choice."""
    user: Any = request.user
    current = learner_language(user=user)
    return {"form": LanguageForm(initial={"language": current}), "current": current}


def learner_language_set(*, user: User, language: str) -> LearnerPreference:
    """Store the learner's language; raises PreferenceError for one not offered."""
    if language not in LANGUAGES:
        choices = ", ".join(label for _, label in language_choices())
        raise PreferenceError(f"Choose one of the offered languages: {choices}.")
    preference, _ = LearnerPreference.objects.update_or_create(
        user=user, defaults={"language": language}
    )
    return preference
