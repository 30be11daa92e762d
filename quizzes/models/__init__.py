from quizzes.models.attempts import (
    Attempt,
    AttemptEvent,
    AttemptItem,
    AttemptStatus,
    EventKind,
)
from quizzes.models.bank import (
    ChallengeVerification,
    Cognitive,
    Item,
    ItemStatus,
    ItemType,
    ItemVersion,
    VerificationStatus,
)
from quizzes.models.grading import (
    GRADING_UNAVAILABLE,
    HELD,
    IN_FLIGHT,
    OutcomeCategory,
    ReportStatus,
    Submission,
    SubmissionKind,
    SubmissionStatus,
)
from quizzes.models.ops import WorkerHeartbeat
from quizzes.models.quizzes import FeedbackMode, Quiz, QuizKind, QuizPool, QuizStatus
from quizzes.models.roadmap import Stage, Topic
from quizzes.models.skill import CalibrationRun, ItemCalibration, SkillEstimate, SkillHistory

__all__ = [
    "GRADING_UNAVAILABLE",
    "HELD",
    "IN_FLIGHT",
    "Attempt",
    "AttemptEvent",
    "AttemptItem",
    "AttemptStatus",
    "CalibrationRun",
    "ChallengeVerification",
    "Cognitive",
    "EventKind",
    "FeedbackMode",
    "Item",
    "ItemCalibration",
    "ItemStatus",
    "ItemType",
    "ItemVersion",
    "OutcomeCategory",
    "Quiz",
    "QuizKind",
    "QuizPool",
    "QuizStatus",
    "ReportStatus",
    "SkillEstimate",
    "SkillHistory",
    "Stage",
    "Submission",
    "SubmissionKind",
    "SubmissionStatus",
    "Topic",
    "VerificationStatus",
    "WorkerHeartbeat",
]
