"""Sections other apps add to the profile page, without ``accounts`` importing them.

An app registers a ``ProfileSection`` in its ``AppConfig.ready()``: a template rendered
in the profile page, and a function giving that template its context for the request
(the quiz domain adds "Your programming language" this way).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

__all__ = ["ProfileSection", "profile_sections", "register_profile_section"]


@dataclass(frozen=True)
class ProfileSection:
    key: str
    template: str
    context: Callable[[HttpRequest], dict[str, Any]]


_SECTIONS: dict[str, ProfileSection] = {}


def register_profile_section(section: ProfileSection) -> None:
    """Add (or replace, by key) a section of the profile page."""
    _SECTIONS[section.key] = section


def profile_sections(request: HttpRequest) -> list[dict[str, Any]]:
    """Each registered section as ``{"template", "context"}``, in registration order."""
    return [
        {"template": section.template, "context": section.context(request)}
        for section in _SECTIONS.values()
    ]
