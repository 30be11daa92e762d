"""Operations on accounts: granting roles, and the audit trail that goes with them."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet

from accounts.models import RoleChange, User
from accounts.roles import ROLE_ORDER, Role, role_of


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


def user_change_role(*, actor: User, user: User, role: str) -> RoleChange | None:
    """An administrator changes someone's role (the role-management page and API).

    The caller has checked that ``actor`` may manage roles. Raises ValidationError,
    changing nothing, for an unknown role and for an administrator removing their own
    right to manage roles (nobody could undo it if they were the last one).
    """
    if role not in Role.values:
        raise ValidationError(
            f"Unknown role {role!r}; expected one of {', '.join(Role.values)}.", code="role"
        )
    if actor.pk == user.pk and role != role_of(user):
        raise ValidationError(
            "You cannot change your own role: ask another administrator.", code="self"
        )
    return user_set_role(user=user, role=role, changed_by=actor)


def user_update_profile(*, user: User, display_name: str) -> User:
    user.display_name = display_name.strip()
    user.save(update_fields=["display_name"])
    return user


def user_delete_account(*, user: User) -> None:
    """Delete the account and everything that only identifies the person.

    Attempts and submissions keep their results for cohort statistics, anonymised:
    their ``learner`` foreign keys are SET_NULL. Email addresses, social accounts,
    authenticators and sessions go with the user (CASCADE). The last account that
    can manage roles cannot delete itself: nobody could manage roles afterwards.
    """
    if user.has_perm("accounts.manage_roles") and not _other_role_managers(user).exists():
        raise ValidationError(
            "You are the only administrator: make someone else an administrator first.",
            code="last_admin",
        )
    user.delete()


def _other_role_managers(user: User) -> QuerySet[User]:
    return (
        User.objects.filter(
            Q(groups__permissions__codename="manage_roles")
            | Q(user_permissions__codename="manage_roles")
            | Q(is_superuser=True),
            is_active=True,
        )
        .exclude(pk=user.pk)
        .distinct()
    )
