"""The three roles and the permissions each holds.

Roles are Django groups. Code checks permissions (``user.has_perm``), never role
names; this table is the single place that says which role holds which permission.
Later features add their permissions to ``ROLE_PERMISSIONS``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import Group, Permission
from django.db import models

if TYPE_CHECKING:
    from accounts.models import User


class Role(models.TextChoices):
    LEARNER = "learner", "Learner"
    INSTRUCTOR = "instructor", "Instructor"
    ADMIN = "admin", "Admin"


# Ordered from least to most privileged; each role also holds the ones before it.
ROLE_ORDER = [Role.LEARNER, Role.INSTRUCTOR, Role.ADMIN]

_LEARNER = [
    "quizzes.take_quiz",
]
_INSTRUCTOR = [
    "quizzes.author_item",
    "quizzes.view_item",
    "quizzes.add_item",
    "quizzes.change_item",
    "quizzes.view_item_statistics",
    "quizzes.regrade",
    "quizzes.view_attempt_log",
    "accounts.view_learner_results",
]
_ADMIN = [
    "accounts.manage_roles",
    "accounts.view_user",
    "accounts.change_user",
    "accounts.view_rolechange",
    "quizzes.operate_grading",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.LEARNER: _LEARNER,
    Role.INSTRUCTOR: _LEARNER + _INSTRUCTOR,
    Role.ADMIN: _LEARNER + _INSTRUCTOR + _ADMIN,
}


def sync_role_groups(*, using: str = "default") -> dict[str, list[str]]:
    """Create the role groups and set their permissions to exactly ROLE_PERMISSIONS.

    Returns, per role, the permissions named in the table that do not exist (yet).
    """
    missing: dict[str, list[str]] = {}
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=role)
        wanted = []
        for name in names:
            app_label, codename = name.split(".", 1)
            perm = (
                Permission.objects.using(using)
                .filter(content_type__app_label=app_label, codename=codename)
                .first()
            )
            if perm is None:
                missing.setdefault(role, []).append(name)
            else:
                wanted.append(perm)
        group.permissions.set(wanted)
    return missing


def sync_role_groups_after_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    # post_migrate fires once per app; only the last app's signal sees every permission,
    # and syncing repeatedly is idempotent and cheap.
    sync_role_groups(using=using)


def role_of(user: User) -> str:
    names = {g.name for g in user.groups.all()}
    for role in reversed(ROLE_ORDER):
        if role in names:
            return str(role)
    return str(Role.LEARNER)


def user_create(*, user: User, role: str, using: str | None = None) -> User:
    """The one way an account is born: saved, then put in its first role group.

    Used by the user manager (``createsuperuser``, the demo accounts, tests) and by both
    allauth adapters. No audit row is written: nobody changed a role. It lives here, not
    in ``accounts.services``, because the user manager calls it and ``accounts.models``
    must not import the services that import it.
    """
    user.save(using=using)
    group, _ = Group.objects.using(using or "default").get_or_create(name=role)
    user.groups.add(group)
    return user
