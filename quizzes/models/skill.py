"""Skill measurement: item parameters, learners' estimates, and their history.

The model itself is the Django-free package ``quizzes.skill``; these rows are what it reads
and what pages read (precomputed, never computed per request). See docs/architecture.md,
"Skill model"."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from quizzes.models.bank import Item
from quizzes.models.roadmap import Stage, Topic


class ItemCalibration(models.Model):
    """An item's 2PL parameters once calibrated from learners' responses.

    An item without a row (or with ``calibrated=False``) is "provisional": its parameters
    come from the author's difficulty.
    """

    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="calibration")
    a = models.FloatField()
    b = models.FloatField()
    se_a = models.FloatField(null=True, blank=True)
    se_b = models.FloatField(null=True, blank=True)
    calibrated = models.BooleanField(default=False)
    n_responses = models.PositiveIntegerField(default=0)
    fit = models.FloatField(null=True, blank=True)
    calibrated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.item_id}: a={self.a:.2f} b={self.b:.2f}"


class SkillEstimate(models.Model):
    """A learner's current ability on a stage (``topic`` empty) or on one of its topics."""

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="skill_estimates"
    )
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="+")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, null=True, blank=True)
    theta = models.FloatField()
    se = models.FloatField()
    n_answers = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "stage"],
                condition=Q(topic__isnull=True),
                name="skillestimate_one_per_stage",
            ),
            models.UniqueConstraint(
                fields=["learner", "topic"],
                condition=Q(topic__isnull=False),
                name="skillestimate_one_per_topic",
            ),
        ]
        indexes = [models.Index(fields=["stage", "topic", "theta"])]

    def __str__(self) -> str:
        return f"{self.learner_id} stage {self.stage_id}: {self.theta:.2f} ± {self.se:.2f}"


class SkillHistory(models.Model):
    """A stage estimate as it was after a change, for the learner's progress over time."""

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="+")
    theta = models.FloatField()
    se = models.FloatField()
    n_answers = models.PositiveIntegerField()
    at = models.DateTimeField()

    class Meta:
        ordering = ["learner", "stage", "at"]
        indexes = [models.Index(fields=["learner", "at"])]

    def __str__(self) -> str:
        return f"{self.learner_id} stage {self.stage_id} at {self.at:%Y-%m-%d}"


class CalibrationRun(models.Model):
    """One run of the periodic calibration, with what it did and how long it took."""

    started_at = models.DateTimeField()
    seconds = models.FloatField(default=0)
    responses = models.PositiveIntegerField(default=0)
    items_calibrated = models.PositiveIntegerField(default=0)
    learners_updated = models.PositiveIntegerField(default=0)
    converged = models.BooleanField(default=True)
    linking = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"calibration {self.started_at:%Y-%m-%d %H:%M}"


class SkillUpdateRequest(models.Model):
    """A learner whose estimates are out of date. Written in the transaction of the grade
    that changed them (so it is never lost), removed once they are recomputed
    (quizzes/analytics/skill.py, ``skill_updates_drain``). One row per learner: a newer
    request moves ``requested_at`` on, and a drain removes only the request it served."""

    learner = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    requested_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["requested_at"])]

    def __str__(self) -> str:
        return f"{self.learner_id} since {self.requested_at:%Y-%m-%d %H:%M:%S}"
