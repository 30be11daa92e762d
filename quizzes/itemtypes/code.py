"""Coding challenges: a function or class over JSON-like values, described by a
language-neutral signature and graded in the learner's language in the sandbox
(quizzes/grading/languages)."""

from __future__ import annotations

from typing import ClassVar

from quizzes.grading.languages import LANGUAGES
from quizzes.grading.runner import GradeReport, grade_code
from quizzes.grading.spec import CodeChallengeSpec, WrongSolution, code_spec_from_dict
from quizzes.itemtypes.challenge import ChallengeHandler, Spec
from quizzes.models import ItemType


class CodeChallenge(ChallengeHandler):
    type = ItemType.CODE
    editor_language = "python"
    code_label = "Python code"
    mutation_tested = True
    language_files: ClassVar[bool] = True
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
            spec, source, language=language or "python", visible_only=visible_only, slot=slot
        )

    def offered_languages(self, spec: CodeChallengeSpec) -> list[str]:
        """Python always; with a signature, every registered language."""
        if spec.signature is None:
            return ["python"]
        return list(LANGUAGES)

    def solution_languages(self, spec: Spec) -> list[str]:
        assert isinstance(spec, CodeChallengeSpec)
        return self.offered_languages(spec)

    def solutions(self, spec: Spec, language: str) -> tuple[str, tuple[WrongSolution, ...]] | None:
        assert isinstance(spec, CodeChallengeSpec)
        material = spec.material(language)
        if material is None:
            return None
        return material.reference_solution, material.wrong_solutions
