"""The words a grade is reported in: a test's outcome category and a report's status.

Django-free like the rest of quizzes/grading; quizzes.models re-exports both. Learners see
categories through ``label``: the labels are written here and nowhere else.
"""

from __future__ import annotations

from enum import StrEnum


class OutcomeCategory(StrEnum):
    """Why a test passed or failed, as stored in a submission's results."""

    PASSED = "passed"
    WRONG_ANSWER = "wrong_answer"
    EXCEPTION = "exception"
    TIMEOUT = "timeout"
    MEMORY_LIMIT = "memory_limit"
    OUTPUT_LIMIT = "output_limit"
    NOT_RUN = "not_run"
    # A hidden test that did not pass. Hidden tests say pass or fail and nothing more:
    # which way one failed could be chosen by code that has seen its input.
    FAILED = "failed"

    @property
    def label(self) -> str:
        return _CATEGORY_LABELS[self]

    @classmethod
    def label_of(cls, value: object) -> object:
        """The label of a stored category; anything else (older results) as it is."""
        if isinstance(value, str) and value in cls._value2member_map_:
            return cls(value).label
        return value


_CATEGORY_LABELS = {
    OutcomeCategory.PASSED: "passed",
    OutcomeCategory.WRONG_ANSWER: "wrong answer",
    OutcomeCategory.EXCEPTION: "exception",
    OutcomeCategory.TIMEOUT: "time limit",
    OutcomeCategory.MEMORY_LIMIT: "memory limit",
    OutcomeCategory.OUTPUT_LIMIT: "output limit",
    OutcomeCategory.NOT_RUN: "not run",
    OutcomeCategory.FAILED: "failed",
}


class ReportStatus(StrEnum):
    """How a grading run ended."""

    GRADED = "graded"  # the tests ran; the outcomes say how they went
    COMPILE_ERROR = "compile_error"  # the learner's code did not load: every test not run
    ERROR = "error"  # the grader failed, not the learner's code: retried
