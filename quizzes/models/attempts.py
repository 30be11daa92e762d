from django.conf import settings
from django.db import models
from django.db.models import Q

from quizzes.models.bank import ItemVersion
from quizzes.models.quizzes import Quiz


class AttemptStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    SUBMITTED = "submitted", "Submitted, grading"
    GRADED = "graded", "Graded"


class Attempt(models.Model):
    """One learner's sitting of a quiz. Items are drawn once, at start, and pinned."""

    quiz = models.ForeignKey(Quiz, on_delete=models.PROTECT, related_name="attempts")
    # Null once the learner deleted their account: the attempt stays, anonymised.
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="attempts"
    )
    number = models.PositiveIntegerField(default=1)
    status = models.CharField(
        max_length=12, choices=AttemptStatus.choices, default=AttemptStatus.IN_PROGRESS
    )
    seed = models.BigIntegerField()
    started_at = models.DateTimeField(auto_now_add=True)
    deadline = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    graded_at = models.DateTimeField(null=True, blank=True)
    auto_submitted = models.BooleanField(default=False)
    score = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    max_score = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    passed = models.BooleanField(null=True)

    class Meta:
        ordering = ["-started_at"]
        permissions = [("view_attempt_log", "Can read attempt event logs")]
        constraints = [
            # A double click on "start" must not open two attempts.
            models.UniqueConstraint(
                fields=["learner", "quiz"],
                condition=Q(status="in_progress"),
                name="attempt_one_open_per_learner_quiz",
            )
        ]
        indexes = [models.Index(fields=["status", "deadline"])]

    def __str__(self) -> str:
        return f"{self.quiz.slug} #{self.number} ({self.learner_id})"

    @property
    def is_in_progress(self) -> bool:
        return self.status == AttemptStatus.IN_PROGRESS

    @property
    def percent(self) -> float | None:
        if self.score is None or not self.max_score:
            return None
        return float(self.score) * 100 / float(self.max_score)


class AttemptItem(models.Model):
    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="items")
    item_version = models.ForeignKey(ItemVersion, on_delete=models.PROTECT, related_name="+")
    # The version whose key produced ``score`` when it is not ``item_version`` (a regrade
    # re-scores with a corrected key while the attempt keeps the version it showed). The
    # review shows this version's key, so the verdict and the key shown always agree.
    scored_with = models.ForeignKey(
        ItemVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    position = models.PositiveSmallIntegerField()
    # Display order of choices/sequence entries as opaque per-attempt tokens:
    # {"choices": [[token, choice_id], ...], "rights": [[token, right_id], ...]}
    layout = models.JSONField(default=dict)
    answer = models.JSONField(null=True, blank=True)
    answer_revision = models.PositiveIntegerField(default=0)
    saved_at = models.DateTimeField(null=True, blank=True)
    flagged = models.BooleanField(default=False)
    locked = models.BooleanField(default=False)
    score = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    max_score = models.DecimalField(max_digits=8, decimal_places=2)
    is_correct = models.BooleanField(null=True)
    graded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["attempt", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["attempt", "position"], name="attemptitem_unique_position"
            )
        ]

    def __str__(self) -> str:
        return f"{self.attempt_id}:{self.position}"


class EventKind(models.TextChoices):
    STARTED = "started", "Started"
    SAVED = "saved", "Answer saved"
    SAVE_REJECTED = "save_rejected", "Save refused"
    CHECKED = "checked", "Answer checked (locked)"
    SUBMITTED = "submitted", "Submitted"
    AUTO_SUBMITTED = "auto_submitted", "Submitted automatically at the deadline"
    GRADED = "graded", "Graded"
    REGRADED = "regraded", "Regraded"


class AttemptEvent(models.Model):
    """Append-only log with server timestamps, to settle "I lost my answer" disputes."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    position = models.PositiveSmallIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["attempt", "at", "id"]

    def __str__(self) -> str:
        return f"{self.attempt_id} {self.kind} {self.at:%Y-%m-%d %H:%M:%S}"
