"""Permissions are read from the shared cache (accounts/backends.py), and every change of
role or permission takes effect on the very next request."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.services import user_set_role
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def fresh(user: User) -> User:
    """The account as a new request loads it: no permissions remembered on the object."""
    return User.objects.get(pk=user.pk)


def perm_queries(user: User, perm: str) -> tuple[bool, int]:
    with CaptureQueriesContext(connection) as queries:
        allowed = user.has_perm(perm)
    return allowed, len(queries)


def test_a_learners_permissions_are_read_once_then_come_from_the_cache(
    learner: Any, private_cache: Any
) -> None:
    allowed, queries = perm_queries(fresh(learner), "quizzes.take_quiz")
    assert allowed and queries > 0
    # Every later request (a new user object each time) asks the database nothing.
    assert perm_queries(fresh(learner), "quizzes.take_quiz") == (True, 0)
    assert perm_queries(fresh(learner), "quizzes.author_item") == (False, 0)


def test_a_promotion_and_a_demotion_take_effect_at_once(
    learner: Any, admin_user: Any, private_cache: Any
) -> None:
    assert not fresh(learner).has_perm("quizzes.author_item")
    user_set_role(user=learner, role="instructor", changed_by=admin_user)
    assert fresh(learner).has_perm("quizzes.author_item")
    user_set_role(user=learner, role="learner", changed_by=admin_user)
    assert not fresh(learner).has_perm("quizzes.author_item")
    assert fresh(learner).has_perm("quizzes.take_quiz")


def test_a_groups_permissions_changed_take_effect_at_once(learner: Any, private_cache: Any) -> None:
    assert fresh(learner).has_perm("quizzes.take_quiz")
    take_quiz = Permission.objects.get(codename="take_quiz")
    group = Group.objects.get(name="learner")
    group.permissions.remove(take_quiz)
    assert not fresh(learner).has_perm("quizzes.take_quiz")
    group.permissions.add(take_quiz)
    assert fresh(learner).has_perm("quizzes.take_quiz")
    # A permission given to the account itself, then taken back.
    learner.user_permissions.add(Permission.objects.get(codename="regrade"))
    assert fresh(learner).has_perm("quizzes.regrade")
    learner.user_permissions.clear()
    assert not fresh(learner).has_perm("quizzes.regrade")


def test_a_deactivated_account_holds_nothing(learner: Any, private_cache: Any) -> None:
    assert fresh(learner).has_perm("quizzes.take_quiz")
    User.objects.filter(pk=learner.pk).update(is_active=False)
    assert not fresh(learner).has_perm("quizzes.take_quiz")


def test_another_account_with_the_same_id_gets_nothing_of_the_first(
    private_cache: Any,
) -> None:
    """An id reused (another database on the same Redis, a recreated test database)
    is another account: an admin's cached set never reaches the learner after them."""
    admin = UserFactory(role="admin")
    assert fresh(admin).has_perm("accounts.manage_roles")
    pk = admin.pk
    User.objects.filter(pk=pk).delete()
    newcomer = User.objects.create_user(email="newcomer@example.com", password="x", pk=pk)
    assert newcomer.pk == pk
    assert not fresh(newcomer).has_perm("accounts.manage_roles")
    assert fresh(newcomer).has_perm("quizzes.take_quiz")


def test_pages_and_the_api_answer_by_the_current_role(
    learner: Any, admin_user: Any, private_cache: Any
) -> None:
    client = Client()
    client.force_login(learner)
    assert client.get("/author/items/").status_code == 403
    user_set_role(user=learner, role="instructor", changed_by=admin_user)
    assert client.get("/author/items/").status_code == 200
    user_set_role(user=learner, role="learner", changed_by=admin_user)
    assert client.get("/author/items/").status_code == 403


def test_a_failed_login_is_checked_as_before(learner: Any, private_cache: Any) -> None:
    from django.contrib.auth import authenticate

    assert authenticate(email=learner.email, password="wrong") is None
    user = authenticate(email=learner.email, password=DEFAULT_PASSWORD)
    assert user is not None and user.pk == learner.pk
    # The session names a backend that authenticates (the cached one only reads).
    assert user.backend != "accounts.backends.CachedPermissionBackend"
