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
    VerificationPurpose,
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
from quizzes.models.preferences import LearnerPreference
from quizzes.models.quizzes import FeedbackMode, Quiz, QuizKind, QuizPool, QuizStatus
from quizzes.models.reviews import BankAction, BankEvent, ItemReport, ItemReportStatus
from quizzes.models.roadmap import Stage, Topic
from quizzes.models.skill import (
    CalibrationRun,
    ItemCalibration,
    SkillEstimate,
    SkillHistory,
    SkillUpdateRequest,
)

__all__ = [
    "GRADING_UNAVAILABLE",
    "HELD",
    "IN_FLIGHT",
    "Attempt",
    "AttemptEvent",
    "AttemptItem",
    "AttemptStatus",
    "BankAction",
    "BankEvent",
    "CalibrationRun",
    "ChallengeVerification",
    "Cognitive",
    "EventKind",
    "FeedbackMode",
    "Item",
    "ItemCalibration",
    "ItemReport",
    "ItemReportStatus",
    "ItemStatus",
    "ItemType",
    "ItemVersion",
    "LearnerPreference",
    "OutcomeCategory",
    "Quiz",
    "QuizKind",
    "QuizPool",
    "QuizStatus",
    "ReportStatus",
    "SkillEstimate",
    "SkillHistory",
    "SkillUpdateRequest",
    "Stage",
    "Submission",
    "SubmissionKind",
    "SubmissionStatus",
    "Topic",
    "VerificationPurpose",
    "VerificationStatus",
    "WorkerHeartbeat",
]
