from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from accounts.models import RoleChange, User
from accounts.roles import ROLE_PERMISSIONS, Role, sync_role_groups
from accounts.services import user_set_role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_role_groups_hold_exactly_their_permissions_after_migrate() -> None:
    assert sync_role_groups() == {}  # every permission named in the table exists
    for role, names in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        assert held == set(names)


def test_new_accounts_are_learners() -> None:
    user = User.objects.create_user(email="New@Example.com", password="pw-123456789")
    assert user.email == "new@example.com"
    assert user.role == "learner"
    assert user.has_perm("quizzes.take_quiz")
    assert not user.has_perm("quizzes.author_item")


def test_superusers_are_admins() -> None:
    user = User.objects.create_superuser(email="root@example.com", password="pw-123456789")
    assert user.role == "admin"


def test_promotion_is_audited_and_grants_permissions() -> None:
    admin = UserFactory(role="admin")
    user = UserFactory()
    change = user_set_role(user=user, role=Role.INSTRUCTOR, changed_by=admin)
    assert change is not None
    assert (change.old_role, change.new_role, change.changed_by) == ("learner", "instructor", admin)
    user = User.objects.get(pk=user.pk)  # fresh permission cache
    assert user.has_perm("quizzes.author_item")
    assert not user.has_perm("accounts.manage_roles")
    assert user.groups.count() == 1
    # Setting the same role again records nothing.
    assert user_set_role(user=user, role=Role.INSTRUCTOR, changed_by=admin) is None
    assert RoleChange.objects.filter(user=user).count() == 1


def test_unknown_role_is_rejected_and_changes_nothing() -> None:
    user = UserFactory()
    with pytest.raises(ValueError, match="Unknown role 'wizard'"):
        user_set_role(user=user, role="wizard", changed_by=None)
    assert user.role == "learner"
    assert not RoleChange.objects.exists()
