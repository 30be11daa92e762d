from django.conf import settings
from django.db import models
from django.db.models import Q

from quizzes.grading.outcomes import OutcomeCategory, ReportStatus
from quizzes.models.attempts import AttemptItem
from quizzes.models.bank import ItemVersion

__all__ = [
    "GRADING_UNAVAILABLE",
    "HELD",
    "IN_FLIGHT",
    "IN_PROGRESS_STATUSES",
    "OutcomeCategory",
    "ReportStatus",
    "Submission",
    "SubmissionKind",
    "SubmissionStatus",
]


class SubmissionStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    GRADED = "graded", "Graded"
    ERROR = "error", "Error"


IN_PROGRESS_STATUSES = frozenset({SubmissionStatus.QUEUED, SubmissionStatus.RUNNING})
# QUEUED rows are either held (stored, not sent: the learner has the cap in flight) or sent.
# See quizzes/pipeline/grading.py.
HELD = Q(status=SubmissionStatus.QUEUED, enqueued_at__isnull=True)
IN_FLIGHT = Q(status=SubmissionStatus.RUNNING) | Q(
    status=SubmissionStatus.QUEUED, enqueued_at__isnull=False
)
# How the reason of a QUEUED submission starts while no sandbox can run it.
GRADING_UNAVAILABLE = "grading unavailable"


class SubmissionKind(models.TextChoices):
    SUBMIT = "submit", "Submit (all tests)"
    RUN_EXAMPLES = "run_examples", "Run examples (visible tests only)"


class Submission(models.Model):
    """Code or SQL sent for grading. See quizzes/pipeline/grading.py for the state machine."""

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="submissions",
    )
    item_version = models.ForeignKey(ItemVersion, on_delete=models.PROTECT, related_name="+")
    attempt_item = models.ForeignKey(
        AttemptItem, on_delete=models.CASCADE, null=True, blank=True, related_name="submissions"
    )
    kind = models.CharField(
        max_length=14, choices=SubmissionKind.choices, default=SubmissionKind.SUBMIT
    )
    source = models.TextField()
    # The language ``source`` is written in (a key of quizzes.grading.languages); empty
    # for SQL, whose dialect the challenge fixes.
    language = models.CharField(max_length=16, blank=True, default="")
    idempotency_key = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(
        max_length=10, choices=SubmissionStatus.choices, default=SubmissionStatus.QUEUED
    )
    claim_token = models.UUIDField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    attempt_count = models.PositiveSmallIntegerField(default=0)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    graded_at = models.DateTimeField(null=True, blank=True)
    score = models.FloatField(null=True, blank=True)
    results = models.JSONField(default=dict, blank=True)
    error_reason = models.TextField(blank=True)
    run_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("operate_grading", "Can see the grading operator page and requeue")]
        indexes = [
            models.Index(fields=["status", "enqueued_at"]),
            models.Index(fields=["status", "lease_expires_at"]),
        ]
        constraints = [
            # A retried request with the same key creates no second submission.
            models.UniqueConstraint(
                fields=["learner", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="submission_unique_idempotency_key",
            )
        ]

    def __str__(self) -> str:
        return f"submission {self.pk} ({self.status})"

    @property
    def is_pending(self) -> bool:
        """Queued or running: a result is still to come."""
        return self.status in IN_PROGRESS_STATUSES

    @property
    def is_held(self) -> bool:
        """Stored but not sent yet: it waits for the learner's earlier submissions."""
        return self.status == SubmissionStatus.QUEUED and self.enqueued_at is None

    @property
    def is_graded(self) -> bool:
        return self.status == SubmissionStatus.GRADED

    @property
    def is_failed(self) -> bool:
        """Grading gave up (not the learner's code: theirs is graded, however it went)."""
        return self.status == SubmissionStatus.ERROR

    @property
    def waits_for_sandbox(self) -> bool:
        return self.status == SubmissionStatus.QUEUED and self.error_reason.startswith(
            GRADING_UNAVAILABLE
        )
