from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.db.models.signals import post_migrate

from accounts.models import RoleChange, User
from accounts.roles import ROLE_PERMISSIONS, Role
from accounts.services import user_set_role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def held_permissions(role: str) -> set[str]:
    group = Group.objects.get(name=role)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}


def test_every_permission_named_in_the_role_table_exists() -> None:
    for names in ROLE_PERMISSIONS.values():
        for name in names:
            app_label, codename = name.split(".", 1)
            assert Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).exists(), name


def test_role_groups_hold_exactly_their_permissions_after_migrate() -> None:
    # The test database was built by `migrate`; nothing in this test syncs the groups.
    for role, names in ROLE_PERMISSIONS.items():
        assert held_permissions(role) == set(names)


def test_post_migrate_restores_deleted_and_altered_role_groups() -> None:
    Group.objects.filter(name__in=[Role.LEARNER, Role.ADMIN]).delete()
    instructor = Group.objects.get(name=Role.INSTRUCTOR)
    instructor.permissions.set([Permission.objects.get(codename="manage_roles")])
    assert not Group.objects.filter(name=Role.ADMIN).exists()

    # What `migrate` emits when it finishes, here for the accounts app only.
    post_migrate.send(
        sender=apps.get_app_config("accounts"),
        app_config=apps.get_app_config("accounts"),
        verbosity=0,
        interactive=False,
        using="default",
        apps=apps,
        plan=[],
    )

    for role, names in ROLE_PERMISSIONS.items():
        assert held_permissions(role) == set(names)


def test_the_role_sync_is_connected_to_post_migrate() -> None:
    from accounts.roles import sync_role_groups_after_migrate

    # disconnect() says whether the receiver was connected; connect it back either way.
    try:
        assert post_migrate.disconnect(dispatch_uid="accounts.sync_roles")
    finally:
        post_migrate.connect(sync_role_groups_after_migrate, dispatch_uid="accounts.sync_roles")


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
