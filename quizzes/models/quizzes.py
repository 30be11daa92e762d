from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from quizzes.models.bank import Item
from quizzes.models.roadmap import Stage, Topic


class QuizKind(models.TextChoices):
    STAGE = "stage", "Stage quiz"
    PLACEMENT = "placement", "Placement quiz"
    CHALLENGE = "challenge", "Challenge"
    CUSTOM = "custom", "Custom quiz"


class QuizStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class FeedbackMode(models.TextChoices):
    IMMEDIATE = "immediate", "Immediately after each answer (the answer is then locked)"
    AFTER_SUBMIT = "after_submit", "After the quiz is submitted"
    AFTER_CLOSE = "after_close", "After the quiz closes"


class Quiz(models.Model):
    slug = models.SlugField(max_length=120, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=12, choices=QuizKind.choices, default=QuizKind.CUSTOM)
    stage = models.ForeignKey(
        Stage, on_delete=models.PROTECT, null=True, blank=True, related_name="quizzes"
    )
    status = models.CharField(max_length=12, choices=QuizStatus.choices, default=QuizStatus.DRAFT)
    time_limit_seconds = models.PositiveIntegerField(null=True, blank=True)
    max_attempts = models.PositiveIntegerField(null=True, blank=True)
    pass_mark_percent = models.PositiveSmallIntegerField(
        default=70, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    feedback_mode = models.CharField(
        max_length=14, choices=FeedbackMode.choices, default=FeedbackMode.AFTER_SUBMIT
    )
    opens_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)
    shuffle_items = models.BooleanField(default=True)
    shuffle_choices = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["stage__number", "kind", "title"]
        verbose_name_plural = "quizzes"
        permissions = [("take_quiz", "Can take quizzes and submit challenges")]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.opens_at and self.closes_at and self.opens_at >= self.closes_at:
            raise ValidationError({"closes_at": "The quiz must close after it opens."})

    @property
    def is_challenge(self) -> bool:
        return self.kind == QuizKind.CHALLENGE

    @property
    def is_adaptive(self) -> bool:
        """The server picks each next item from the answers so far (the placement)."""
        return self.kind == QuizKind.PLACEMENT


class QuizPool(models.Model):
    """Draw ``count`` published items matching these filters (empty filter = any)."""

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="pools")
    position = models.PositiveSmallIntegerField(default=0)
    count = models.PositiveSmallIntegerField(default=1)
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, null=True, blank=True)
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, null=True, blank=True)
    item = models.ForeignKey(Item, on_delete=models.PROTECT, null=True, blank=True)
    difficulty_min = models.PositiveSmallIntegerField(default=1)
    difficulty_max = models.PositiveSmallIntegerField(default=5)
    item_types = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["quiz", "position"]

    def __str__(self) -> str:
        return f"{self.quiz.slug} pool {self.position} ({self.count})"
