"""Coding challenges: a function or class over JSON-like values, described by a
language-neutral signature and graded in the learner's language in the sandbox
(quizzes/grading/languages). The answer records the language it is written in."""

from __future__ import annotations

from typing import Any, ClassVar

from rest_framework import serializers

from quizzes.grading.languages import LANGUAGE_KEYS, LANGUAGES, Language, UnknownLanguage
from quizzes.grading.languages import language as get_language
from quizzes.grading.runner import GradeReport, grade_code
from quizzes.grading.spec import (
    CodeChallengeSpec,
    SpecError,
    WrongSolution,
    code_spec_cached,
    code_spec_from_dict,
)
from quizzes.itemtypes.base import Answer, Data, Layout
from quizzes.itemtypes.challenge import ChallengeHandler, CodeAnswer, Spec
from quizzes.itemtypes.code_forms import CodeChallengeForm
from quizzes.models import ItemType

DEFAULT_LANGUAGE = "python"


class CodeChallengeAnswer(CodeAnswer):
    language = serializers.ChoiceField(
        choices=list(LANGUAGE_KEYS),
        required=False,
        error_messages={"invalid_choice": "Unknown language {input}."},
    )


class CodeChallenge(ChallengeHandler):
    type = ItemType.CODE
    # The whole spec: the signature, the tests, every registered language's solutions.
    authoring_form = CodeChallengeForm
    editor_language = "python"
    code_label = "Python code"
    mutation_tested = True
    language_files: ClassVar[bool] = True
    # Taken in the learner's own language, so drawn whatever that language is.
    in_any_language: ClassVar[bool] = True
    answer_serializer = CodeChallengeAnswer
    spec_parser = staticmethod(code_spec_from_dict)

    def grade(
        self,
        spec: Spec,
        source: str,
        *,
        language: str | None = None,
        visible_only: bool = False,
        slot: int = 0,
    ) -> GradeReport:
        assert isinstance(spec, CodeChallengeSpec)
        return grade_code(
            spec,
            source,
            language=language or DEFAULT_LANGUAGE,
            visible_only=visible_only,
            slot=slot,
        )

    # --- languages -----------------------------------------------------------------------
    def code_spec(self, data: Data) -> CodeChallengeSpec | None:
        """The stored challenge's spec (parsed once per content: ``code_spec_cached``)."""
        try:
            return code_spec_cached(data["challenge"])
        except (SpecError, KeyError):
            return None

    def offered_languages(self, spec: CodeChallengeSpec | None) -> list[str]:
        """Python always; with a signature, every registered language."""
        if spec is None or spec.signature is None:
            return [DEFAULT_LANGUAGE]
        return list(LANGUAGES)

    def answer_language(
        self, data: Data, answer: Answer | None, preferred: str | None = None
    ) -> str:
        """The language an answer is written in: its own, else ``preferred``, else Python
        (a language the challenge is not offered in falls back the same way)."""
        offered = self.offered_languages(self.code_spec(data))
        for candidate in ((answer or {}).get("language"), preferred):
            if candidate in offered:
                return str(candidate)
        return offered[0]

    def written_in(self, answer: Answer | None) -> str:
        language = (answer or {}).get("language")
        return language if isinstance(language, str) and language else DEFAULT_LANGUAGE

    def submission_language(self, data: Data, answer: Answer | None) -> str:
        return self.answer_language(data, answer)

    def starter_in(self, data: Data, language: str) -> str:
        spec = self.code_spec(data)
        if spec is None:
            return str(data["challenge"].get("starter", ""))
        try:
            return get_language(language).starter(spec)
        except (UnknownLanguage, ValueError):
            return ""

    def starter(self, data: Data) -> str:
        return self.starter_in(data, DEFAULT_LANGUAGE)

    def is_blank(self, data: Data, answer: Answer | None) -> bool:
        """Nothing to grade: no code, or the starter of its language untouched."""
        code = str((answer or {}).get("code", "")).strip()
        starter = self.starter_in(data, self.answer_language(data, answer))
        return not code or code == starter.strip()

    def language_view(self, data: Data, answer: Answer, preferred: str | None) -> dict[str, Any]:
        """The editor's languages: each with its label, editor mode, toolchain version and
        starter; the one it opens in (the answer's, else the learner's, else Python)."""
        spec = self.code_spec(data)
        current = self.answer_language(data, answer, preferred)
        languages = []
        for key in self.offered_languages(spec):
            lang: Language = LANGUAGES[key]
            languages.append(
                {
                    "id": key,
                    "label": lang.label,
                    "editor_mode": lang.editor_mode,
                    "version": lang.version(),
                    "available": lang.available(),
                    "starter": lang.starter(spec) if spec is not None else "",
                    "file_name": "solution" + lang.extensions[0],
                }
            )
        chosen = next(entry for entry in languages if entry["id"] == current)
        written_in = (answer or {}).get("language", DEFAULT_LANGUAGE)
        code = answer.get("code") if "code" in answer and written_in == current else None
        return {
            "language": current,
            "languages": languages,
            "language_label": chosen["label"],
            "language_version": chosen["version"],
            "editor_language": chosen["editor_mode"],
            "code_label": f"{chosen['label']} code",
            "starter": chosen["starter"],
            "code": chosen["starter"] if code is None else code,
        }

    def learner_view(self, data: Data, layout: Layout, answer: Answer) -> dict[str, Any]:
        view = super().learner_view(data, layout, answer)
        view.update(self.language_view(data, answer, None))
        return view

    # --- the bank ------------------------------------------------------------------------
    def solution_languages(self, spec: Spec) -> list[str]:
        assert isinstance(spec, CodeChallengeSpec)
        return self.offered_languages(spec)

    def solutions(self, spec: Spec, language: str) -> tuple[str, tuple[WrongSolution, ...]] | None:
        assert isinstance(spec, CodeChallengeSpec)
        material = spec.material(language)
        if material is None:
            return None
        return material.reference_solution, material.wrong_solutions
