from typing import Any

from django.db import models


class ActiveQuerySet(models.QuerySet[Any]):
    def active(self) -> "ActiveQuerySet":
        return self.filter(retired_at__isnull=True)


class Stage(models.Model):
    """A roadmap stage: a skill area on the dashboard."""

    number = models.PositiveSmallIntegerField(unique=True)
    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    objects = ActiveQuerySet.as_manager()

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number}. {self.title}"


class Topic(models.Model):
    """A sub-skill of a stage; items are tagged with one."""

    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="topics")
    slug = models.SlugField()
    title = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(default=0)
    retired_at = models.DateTimeField(null=True, blank=True)
    # The programming languages this topic is about (stage 1's language topics); empty
    # for a topic that is the same in every language. A learner's quizzes draw only the
    # language topics of their language.
    languages = models.JSONField(default=list, blank=True)

    objects = ActiveQuerySet.as_manager()

    class Meta:
        ordering = ["stage__number", "position"]
        constraints = [
            models.UniqueConstraint(fields=["stage", "slug"], name="topic_unique_slug_per_stage")
        ]

    def __str__(self) -> str:
        return self.title
