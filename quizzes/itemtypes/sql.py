"""SQL challenges: a query graded against a reference on a seeded SQLite schema."""

from __future__ import annotations

from typing import Any

from quizzes.grading.runner import GradeReport, grade_sql
from quizzes.grading.spec import PythonChallengeSpec, SqlChallengeSpec, sql_spec_from_dict
from quizzes.itemtypes.challenge import ChallengeHandler
from quizzes.models import ItemType


class SqlChallenge(ChallengeHandler):
    type = ItemType.SQL
    editor_language = "sql"
    code_label = "query (SQLite)"

    def parse_spec(self, challenge: dict[str, Any]) -> SqlChallengeSpec:
        return sql_spec_from_dict(challenge)

    def grade(
        self,
        spec: PythonChallengeSpec | SqlChallengeSpec,
        source: str,
        *,
        visible_only: bool = False,
        slot: int = 0,
    ) -> GradeReport:
        if not isinstance(spec, SqlChallengeSpec):
            raise TypeError(f"expected a SqlChallengeSpec, got {type(spec).__name__}")
        return grade_sql(spec, source, visible_only=visible_only, slot=slot)
