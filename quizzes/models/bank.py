from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from quizzes.models.roadmap import Stage, Topic


class ItemType(models.TextChoices):
    SINGLE_CHOICE = "single_choice", "Single choice"
    MULTIPLE_CHOICE = "multiple_choice", "Multiple choice"
    TRUE_FALSE = "true_false", "True / false"
    NUMERIC = "numeric", "Numeric"
    SHORT_TEXT = "short_text", "Short text"
    ORDERING = "ordering", "Ordering"
    MATCHING = "matching", "Matching"
    CODE = "code", "Coding challenge"
    SQL = "sql", "SQL challenge"


class ItemStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    RETIRED = "retired", "Retired"


class Cognitive(models.TextChoices):
    JUDGEMENT = "judgement", "Judgement"
    RECALL = "recall", "Recall"


class Item(models.Model):
    """A question or challenge. Its content lives in versions; the item is its identity."""

    slug = models.SlugField(max_length=120, unique=True)
    type = models.CharField(max_length=20, choices=ItemType.choices)
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="items")
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="items")
    status = models.CharField(max_length=12, choices=ItemStatus.choices, default=ItemStatus.DRAFT)
    current_version = models.ForeignKey(
        "ItemVersion", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["stage__number", "slug"]
        permissions = [
            ("author_item", "Can author and preview questions, challenges and quizzes"),
            ("view_item_statistics", "Can read item statistics and cohort analytics"),
            ("regrade", "Can regrade attempts and submissions"),
        ]

    def __str__(self) -> str:
        return self.slug

    @property
    def is_published(self) -> bool:
        return self.status == ItemStatus.PUBLISHED


class ItemVersion(models.Model):
    """An immutable snapshot of an item's content. Attempts pin the version they were given.

    ``data`` holds the type-specific content (choices and their keys, accepted answers,
    a challenge's spec, tests and solutions); it is never sent to a learner as is.
    """

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField()
    body_html = models.TextField()
    explanation = models.TextField(blank=True)
    explanation_html = models.TextField(blank=True)
    difficulty = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    cognitive = models.CharField(max_length=10, choices=Cognitive.choices, default=Cognitive.RECALL)
    points = models.DecimalField(max_digits=6, decimal_places=2, default=1)
    data = models.JSONField(default=dict)
    # The item as authored (the YAML mapping), for editing and export. Never sent to learners.
    source = models.JSONField(default=dict)
    content_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["item", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="itemversion_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.item.slug} v{self.number}"


class VerificationStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    ERROR = "error", "Could not run"


class VerificationPurpose(models.TextChoices):
    VERIFY = "verify", "Verify"  # the reference and wrong solutions: the publish gate
    TRIAL = "trial", "Run as a learner"  # one author-written solution, graded as a learner's


class ChallengeVerification(models.Model):
    """A run of a challenge version's reference and wrong solutions through the real
    grading (quizzes/bank/verification.py). A challenge is published only after a PASSED
    verification of its current version.

    ``runs`` holds one entry per solution: its role, label, how the run ended and each
    test's outcome; ``problems`` what stops publishing, in plain words. Both are for
    authors only.

    A TRIAL (``purpose``) is an author's own solution (``source``, in ``language``) run
    from "Preview as a learner" (quizzes/bank/trial.py): ``result`` holds the grading
    report a learner's submission would store, ``score`` its fraction. A trial never
    counts: no verification check reads it, and no statistic reads this table.
    """

    version = models.ForeignKey(ItemVersion, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(
        max_length=10, choices=VerificationStatus.choices, default=VerificationStatus.QUEUED
    )
    runs = models.JSONField(default=list)
    problems = models.JSONField(default=list)
    purpose = models.CharField(
        max_length=10, choices=VerificationPurpose.choices, default=VerificationPurpose.VERIFY
    )
    source = models.TextField(blank=True, default="")
    language = models.CharField(max_length=20, blank=True, default="")
    result = models.JSONField(default=dict)
    score = models.FloatField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"verification of {self.version} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status in (VerificationStatus.QUEUED, VerificationStatus.RUNNING)

    @property
    def is_passed(self) -> bool:
        return self.status == VerificationStatus.PASSED

    @property
    def is_failed(self) -> bool:
        return self.status == VerificationStatus.FAILED
