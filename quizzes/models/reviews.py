"""What instructors do to the bank in bulk, and what learners report about its items."""

from django.conf import settings
from django.db import models

from quizzes.models.attempts import Attempt
from quizzes.models.bank import Item, ItemVersion


class BankAction(models.TextChoices):
    PUBLISH = "publish", "Published"
    RETIRE = "retire", "Retired"
    MOVE_TOPIC = "move_topic", "Moved to another topic"


class BankEvent(models.Model):
    """One change an author made to an item outside its versions (audit trail)."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="bank_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    action = models.CharField(max_length=12, choices=BankAction.choices)
    detail = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.item.slug}: {self.action}"


class ItemReportStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"
    DISMISSED = "dismissed", "Dismissed"


class ItemReport(models.Model):
    """A learner's "problem with this question", queued for the item's authors."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="reports")
    version = models.ForeignKey(ItemVersion, on_delete=models.CASCADE, related_name="+")
    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="+")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    message = models.TextField(max_length=2000)
    status = models.CharField(
        max_length=10, choices=ItemReportStatus.choices, default=ItemReportStatus.OPEN
    )
    note = models.TextField(blank=True, max_length=2000)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["attempt", "item", "reporter"], name="itemreport_one_per_attempt_item"
            )
        ]

    def __str__(self) -> str:
        return f"{self.item.slug}: {self.message[:40]}"

    @property
    def is_open(self) -> bool:
        return self.status == ItemReportStatus.OPEN
