from django.conf import settings
from django.db import models


class LearnerPreference(models.Model):
    """A learner's settings for the quiz domain: the language they write code in ("my
    language"). Kept here, not on the user, because ``accounts`` knows nothing of quizzes.
    No row (or an empty language) means the learner has not chosen yet."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="learner_preference",
    )
    language = models.CharField(max_length=16, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.language or 'no language'}"
