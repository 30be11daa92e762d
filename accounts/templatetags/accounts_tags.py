"""Template helpers for the account pages."""

from __future__ import annotations

from django import template
from django.conf import settings

register = template.Library()

CONSOLE_BACKEND = "django.core.mail.backends.console.EmailBackend"


@register.simple_tag
def email_goes_to_console() -> bool:
    """Emails are printed where the server runs (the development default), not sent."""
    return bool(settings.EMAIL_BACKEND == CONSOLE_BACKEND)
