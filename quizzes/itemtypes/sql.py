"""SQL challenges on a seeded SQLite schema: a query graded against a reference, an
index script judged by the query plan it produces, or a transaction script judged by its
final state and what a concurrent reader saw (the spec's ``mode``)."""

from __future__ import annotations

from typing import Any

from quizzes.grading.runner import grade_sql
from quizzes.grading.spec import sql_spec_from_dict
from quizzes.itemtypes.base import Answer, Data, Layout
from quizzes.itemtypes.challenge import ChallengeHandler
from quizzes.itemtypes.sql_forms import SqlChallengeForm
from quizzes.models import ItemType

# The editor's label in the modes where the learner writes a script, not a query.
_SCRIPT_LABELS = {
    "index": "index script (SQLite)",
    "transaction": "transaction script (SQLite)",
}


class SqlChallenge(ChallengeHandler):
    type = ItemType.SQL
    editor_language = "sql"
    code_label = "query (SQLite)"
    answer_example = {"code": "SELECT name FROM customers ORDER BY name;"}
    spec_parser = staticmethod(sql_spec_from_dict)
    authoring_form = SqlChallengeForm
    runner = staticmethod(grade_sql)

    def learner_view(self, data: Data, layout: Layout, answer: Answer) -> dict[str, Any]:
        view = super().learner_view(data, layout, answer)
        mode = data["challenge"].get("mode", "query")
        view["code_label"] = _SCRIPT_LABELS.get(mode, self.code_label)
        return view
