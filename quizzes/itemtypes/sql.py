"""SQL challenges: a query graded against a reference on a seeded SQLite schema."""

from __future__ import annotations

from quizzes.grading.runner import grade_sql
from quizzes.grading.spec import sql_spec_from_dict
from quizzes.itemtypes.challenge import ChallengeHandler
from quizzes.models import ItemType


class SqlChallenge(ChallengeHandler):
    type = ItemType.SQL
    editor_language = "sql"
    code_label = "query (SQLite)"
    spec_parser = staticmethod(sql_spec_from_dict)
    runner = staticmethod(grade_sql)
