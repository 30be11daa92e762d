"""Reads that feed the account pages and APIs, with their related rows fetched."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import RoleChange, User


def user_list_with_roles(*, search: str = "") -> QuerySet[User]:
    """Users ordered by email, optionally those whose email contains ``search``.

    Groups are prefetched, so reading ``user.role`` costs no query per row.
    """
    users = User.objects.prefetch_related("groups").order_by("email")
    if search.strip():
        users = users.filter(email__icontains=search.strip())
    return users


def role_change_list_recent(*, limit: int = 20) -> QuerySet[RoleChange]:
    return RoleChange.objects.select_related("user", "changed_by").order_by("-changed_at", "-id")[
        :limit
    ]
