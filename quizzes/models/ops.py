from django.db import models


class WorkerHeartbeat(models.Model):
    """Written by each Celery worker on a timer; read by the worker status endpoint."""

    hostname = models.CharField(max_length=255, unique=True)
    pid = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    last_seen = models.DateTimeField()
    queues = models.CharField(max_length=255, blank=True)
    sandbox_available = models.BooleanField(default=False)
    sandbox_reason = models.TextField(blank=True)
    health_ping_at = models.DateTimeField(null=True, blank=True)
    # The code languages this worker can grade, and why it cannot grade the others
    # ({key: reason}); see docs/architecture.md, "Languages".
    languages = models.JSONField(default=list, blank=True)
    languages_unavailable = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["hostname"]

    def __str__(self) -> str:
        return self.hostname
