"""Operations on accounts: granting roles, and the audit trail that goes with them."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction

from accounts.models import RoleChange, User
from accounts.roles import ROLE_ORDER, Role, role_of


def user_grant_initial_role(*, user: User, role: str) -> None:
    """Put a new account in its first role group (no audit row: nobody changed it)."""
    group, _ = Group.objects.get_or_create(name=role)
    user.groups.add(group)


def user_set_role(*, user: User, role: str, changed_by: User | None) -> RoleChange | None:
    """Make ``role`` the user's only role group; record who did it.

    Returns the audit record, or None when the user already had that role.
    Raises ValueError for an unknown role.
    """
    if role not in Role.values:
        raise ValueError(f"Unknown role {role!r}; expected one of {', '.join(Role.values)}")
    with transaction.atomic():
        old = role_of(user)
        if old == role:
            return None
        role_groups = Group.objects.filter(name__in=[str(r) for r in ROLE_ORDER])
        user.groups.remove(*role_groups)
        group, _ = Group.objects.get_or_create(name=role)
        user.groups.add(group)
        # Django admin access follows the admin role.
        user.is_staff = role == Role.ADMIN
        user.save(update_fields=["is_staff"])
        return RoleChange.objects.create(
            user=user, changed_by=changed_by, old_role=old, new_role=role
        )
