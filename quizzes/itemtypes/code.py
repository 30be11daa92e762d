"""Coding challenges: a function or class, graded in Python in the sandbox."""

from __future__ import annotations

from typing import Any

from quizzes.grading.runner import GradeReport, grade_python
from quizzes.grading.spec import PythonChallengeSpec, SqlChallengeSpec, python_spec_from_dict
from quizzes.itemtypes.challenge import ChallengeHandler
from quizzes.models import ItemType


class CodeChallenge(ChallengeHandler):
    type = ItemType.PYTHON
    editor_language = "python"
    code_label = "Python code"

    def parse_spec(self, challenge: dict[str, Any]) -> PythonChallengeSpec:
        return python_spec_from_dict(challenge)

    def grade(
        self,
        spec: PythonChallengeSpec | SqlChallengeSpec,
        source: str,
        *,
        visible_only: bool = False,
        slot: int = 0,
    ) -> GradeReport:
        if not isinstance(spec, PythonChallengeSpec):
            raise TypeError(f"expected a PythonChallengeSpec, got {type(spec).__name__}")
        return grade_python(spec, source, visible_only=visible_only, slot=slot)
