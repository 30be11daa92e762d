"""Reads that feed the account pages and APIs, with their related rows fetched."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.db.models import Exists, OuterRef, QuerySet

from accounts.models import RoleChange, User


def user_list_with_roles(*, search: str = "") -> QuerySet[User]:
    """Users ordered by email, optionally those whose email contains ``search``.

    Groups are prefetched, so reading ``user.role`` costs no query per row.
    """
    users = User.objects.prefetch_related("groups").order_by("email")
    if search.strip():
        users = users.filter(email__icontains=search.strip())
    return users


def learner_list(*, search: str = "") -> QuerySet[User]:
    """The cohort: active accounts that may take quizzes and may not read learners' results
    (so not instructors or admins), optionally those whose email contains ``search``.

    Unordered: callers sort. Roles are groups, so both checks are on the groups'
    permissions, each one ``EXISTS`` per account (no join that could repeat a row).
    """
    held = Permission.objects.filter(group__user=OuterRef("pk"))
    users = User.objects.filter(is_active=True).filter(
        Exists(held.filter(content_type__app_label="quizzes", codename="take_quiz")),
        ~Exists(held.filter(content_type__app_label="accounts", codename="view_learner_results")),
    )
    if search.strip():
        users = users.filter(email__icontains=search.strip())
    return users


def role_change_list_recent(*, limit: int = 20) -> QuerySet[RoleChange]:
    return RoleChange.objects.select_related("user", "changed_by").order_by("-changed_at", "-id")[
        :limit
    ]
