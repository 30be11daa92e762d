"""Coding challenges: a function or class, graded in Python in the sandbox."""

from __future__ import annotations

from quizzes.grading.runner import grade_python
from quizzes.grading.spec import python_spec_from_dict
from quizzes.itemtypes.challenge import ChallengeHandler
from quizzes.itemtypes.challenge_forms import PythonChallengeForm
from quizzes.models import ItemType


class CodeChallenge(ChallengeHandler):
    type = ItemType.PYTHON
    editor_language = "python"
    code_label = "Python code"
    mutation_tested = True
    spec_parser = staticmethod(python_spec_from_dict)
    authoring_form = PythonChallengeForm
    runner = staticmethod(grade_python)
