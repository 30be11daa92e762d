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

    The role is the only source of privilege: the admin role gives Django admin access
    (``is_staff``); any other role takes away staff and superuser status. An admin keeps
    superuser status, which only ``user_set_superuser`` grants or removes.

    Returns the audit record, or None when neither the role nor superuser status changed.
    Raises ValueError for an unknown role.
    """
    if role not in Role.values:
        raise ValueError(f"Unknown role {role!r}; expected one of {', '.join(Role.values)}")
    with transaction.atomic():
        old = role_of(user)
        was_superuser = user.is_superuser
        is_admin = role == Role.ADMIN
        if old != role:
            role_groups = Group.objects.filter(name__in=[str(r) for r in ROLE_ORDER])
            user.groups.remove(*role_groups)
            group, _ = Group.objects.get_or_create(name=role)
            user.groups.add(group)
        if user.is_staff != is_admin or (user.is_superuser and not is_admin):
            user.is_staff = is_admin
            user.is_superuser = user.is_superuser and is_admin
            user.save(update_fields=["is_staff", "is_superuser"])
        if old == role and was_superuser == user.is_superuser:
            return None
        return RoleChange.objects.create(
            user=user,
            changed_by=changed_by,
            old_role=old,
            new_role=role,
            old_superuser=was_superuser,
            new_superuser=user.is_superuser,
        )


def check_role_change(*, actor: User, user: User, role: str) -> None:
    """Raise ValidationError if ``actor`` may not give ``user`` the role ``role``.

    Refused: an unknown role; anyone without the right to manage roles; an administrator
    changing their own role (removing their own right to manage roles, which nobody could
    undo if they were the last one); and anyone but a superuser changing a superuser's role
    (which would take their superuser status away).
    """
    if role not in Role.values:
        raise ValidationError(
            f"Unknown role {role!r}; expected one of {', '.join(Role.values)}.", code="role"
        )
    if not actor.has_perm("accounts.manage_roles"):
        raise ValidationError("You do not have permission to manage roles.", code="permission")
    if role == role_of(user):
        return
    if actor.pk == user.pk:
        raise ValidationError(
            "You cannot change your own role: ask another administrator.", code="self"
        )
    if user.is_superuser and not actor.is_superuser:
        raise ValidationError("Only a superuser can change a superuser's role.", code="superuser")


def user_change_role(*, actor: User, user: User, role: str) -> RoleChange | None:
    """An administrator changes someone's role (the role-management page, the API, Django
    admin).

    Raises ValidationError, changing nothing, when ``check_role_change`` refuses.
    """
    check_role_change(actor=actor, user=user, role=role)
    return user_set_role(user=user, role=role, changed_by=actor)


def check_superuser_change(
    *, actor: User, user: User, value: bool, role: str | None = None
) -> None:
    """Raise ValidationError if ``actor`` may not set ``user``'s superuser status to ``value``.

    Only a superuser may, never for themselves, and only administrators can be
    superusers. ``role`` is the role the user will hold (default: the one they hold).
    """
    if not actor.is_superuser:
        raise ValidationError(
            "Only a superuser can grant or remove superuser status.", code="permission"
        )
    if value and (role or role_of(user)) != Role.ADMIN:
        raise ValidationError(
            "Only administrators can be superusers: give them the admin role first.",
            code="role",
        )
    if value != user.is_superuser and actor.pk == user.pk:
        raise ValidationError(
            "You cannot change your own superuser status: ask another superuser.", code="self"
        )


def user_set_superuser(*, actor: User, user: User, value: bool) -> RoleChange | None:
    """A superuser grants or removes another administrator's superuser status, audited.

    This is the only way to grant superuser status after an account is created. Returns
    the audit record, or None when the status already was ``value``. Raises
    ValidationError, changing nothing, when ``check_superuser_change`` refuses.
    """
    with transaction.atomic():
        check_superuser_change(actor=actor, user=user, value=value)
        if value == user.is_superuser:
            return None
        role = role_of(user)
        user.is_superuser = value
        user.save(update_fields=["is_superuser"])
        return RoleChange.objects.create(
            user=user,
            changed_by=actor,
            old_role=role,
            new_role=role,
            old_superuser=not value,
            new_superuser=value,
        )


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
