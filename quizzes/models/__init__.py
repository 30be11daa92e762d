from quizzes.models.attempts import (
    Attempt,
    AttemptEvent,
    AttemptItem,
    AttemptStatus,
    EventKind,
)
from quizzes.models.bank import (
    Cognitive,
    Item,
    ItemStatus,
    ItemType,
    ItemVersion,
)
from quizzes.models.grading import Submission, SubmissionKind, SubmissionStatus
from quizzes.models.ops import WorkerHeartbeat
from quizzes.models.quizzes import FeedbackMode, Quiz, QuizKind, QuizPool, QuizStatus
from quizzes.models.roadmap import Stage, Topic

__all__ = [
    "Attempt",
    "AttemptEvent",
    "AttemptItem",
    "AttemptStatus",
    "Cognitive",
    "EventKind",
    "FeedbackMode",
    "Item",
    "ItemStatus",
    "ItemType",
    "ItemVersion",
    "Quiz",
    "QuizKind",
    "QuizPool",
    "QuizStatus",
    "Stage",
    "Submission",
    "SubmissionKind",
    "SubmissionStatus",
    "Topic",
    "WorkerHeartbeat",
]
