"""The role-management page and its JSON API (administrators only)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import RoleChange, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PAGE = "/manage/roles/"


@pytest.fixture
def admin_client(client: Client, admin_user: User) -> Client:
    client.force_login(admin_user)
    return client


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


# --- Page -------------------------------------------------------------------------------
def test_page_lists_users_with_their_role_in_a_bounded_number_of_queries(
    admin_client: Client, django_assert_max_num_queries: Any
) -> None:
    assert reverse("role-management") == PAGE
    people = [UserFactory(role=role) for role in ("learner", "instructor", "learner")]
    for _ in range(20):
        UserFactory()
    with django_assert_max_num_queries(12):
        response = admin_client.get(PAGE)
    html = response.content.decode()
    assert response.status_code == 200
    for person in people:
        assert person.email in html
    assert f'<label class="visually-hidden" for="role-{people[1].pk}">' in html
    assert '<option value="instructor" selected>' in html


def test_search_by_email(admin_client: Client) -> None:
    UserFactory(email="grace@navy.example")
    UserFactory(email="ada@engine.example")
    html = admin_client.get(PAGE, {"q": "NAVY"}).content.decode()
    assert "grace@navy.example" in html
    assert "ada@engine.example" not in html
    assert "Nobody matches" in admin_client.get(PAGE, {"q": "zzz"}).content.decode()


def test_change_role_is_applied_audited_and_listed(admin_client: Client, admin_user: User) -> None:
    learner = UserFactory()
    response = admin_client.post(PAGE, {"user": learner.pk, "role": "instructor"}, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert f"{learner.email} is now instructor (was learner)." in html
    assert fresh(learner).has_perm("quizzes.author_item")
    change = RoleChange.objects.get(user=learner)
    assert (change.old_role, change.new_role, change.changed_by) == (
        "learner",
        "instructor",
        admin_user,
    )
    audit = html.split('id="role-audit"', 1)[1]
    assert learner.email in audit
    assert admin_user.email in audit


def test_setting_the_same_role_records_nothing(admin_client: Client) -> None:
    learner = UserFactory()
    response = admin_client.post(PAGE, {"user": learner.pk, "role": "learner"}, follow=True)
    assert "already was learner" in response.content.decode()
    assert not RoleChange.objects.filter(user=learner).exists()


def test_admin_cannot_demote_themselves(admin_client: Client, admin_user: User) -> None:
    UserFactory(role="admin")  # even when another admin exists
    response = admin_client.post(PAGE, {"user": admin_user.pk, "role": "learner"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "The role was not changed." in html
    assert "You cannot change your own role: ask another administrator." in html
    assert fresh(admin_user).role == "admin"
    assert not RoleChange.objects.filter(user=admin_user).exclude(changed_by=None).exists()


def test_unknown_role_or_user_is_a_clear_error_and_changes_nothing(admin_client: Client) -> None:
    learner = UserFactory()
    response = admin_client.post(PAGE, {"user": learner.pk, "role": "wizard"})
    assert response.status_code == 400
    assert "Unknown role &#x27;wizard&#x27;" in response.content.decode()
    response = admin_client.post(PAGE, {"user": 999999, "role": "admin"})
    assert response.status_code == 400
    assert "That user no longer exists." in response.content.decode()
    assert fresh(learner).role == "learner"
    assert not RoleChange.objects.filter(user=learner).exists()


def test_role_change_requires_csrf(admin_user: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    learner = UserFactory()
    response = client.post(PAGE, {"user": learner.pk, "role": "admin"})
    assert response.status_code == 403
    assert fresh(learner).role == "learner"


def test_promoted_admin_gets_the_django_admin_and_demotion_removes_it(
    admin_client: Client,
) -> None:
    learner = UserFactory()
    admin_client.post(PAGE, {"user": learner.pk, "role": "admin"})
    assert fresh(learner).is_staff
    admin_client.post(PAGE, {"user": learner.pk, "role": "learner"})
    assert not fresh(learner).is_staff
    assert RoleChange.objects.filter(user=learner).count() == 2


# --- API --------------------------------------------------------------------------------
def test_api_lists_users_with_roles(admin_client: Client) -> None:
    instructor = UserFactory(role="instructor", email="ins@example.com")
    body = admin_client.get("/api/users/", {"q": "ins@"}).json()
    assert body["count"] == 1
    assert body["results"][0]["id"] == instructor.pk
    assert body["results"][0]["role"] == "instructor"
    assert body["results"][0]["email"] == "ins@example.com"


def test_api_changes_a_role(admin_client: Client, admin_user: User) -> None:
    learner = UserFactory()
    response = admin_client.post(
        f"/api/users/{learner.pk}/role", {"role": "instructor"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["role"] == "instructor"
    assert RoleChange.objects.get(user=learner).changed_by == admin_user


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        ({"role": "wizard"}, "Unknown role 'wizard'; expected one of learner, instructor, admin."),
        ({}, "Invalid input."),
    ],
)
def test_api_bad_role_is_400_with_detail(
    admin_client: Client, payload: dict[str, str], detail: str
) -> None:
    learner = UserFactory()
    response = admin_client.post(
        f"/api/users/{learner.pk}/role", payload, content_type="application/json"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == detail
    assert fresh(learner).role == "learner"
    assert not RoleChange.objects.filter(user=learner).exists()


def test_api_unknown_user_is_404(admin_client: Client) -> None:
    response = admin_client.post(
        "/api/users/999999/role", {"role": "admin"}, content_type="application/json"
    )
    assert response.status_code == 404
    assert response.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "No user with id 999999.",
    }


def test_api_admin_cannot_demote_themselves(admin_client: Client, admin_user: User) -> None:
    response = admin_client.post(
        f"/api/users/{admin_user.pk}/role", {"role": "learner"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert (
        response.json()["detail"] == "You cannot change your own role: ask another administrator."
    )
    assert fresh(admin_user).role == "admin"


@pytest.mark.parametrize("role", ["learner", "instructor"])
def test_api_refuses_non_admins(client: Client, role: str) -> None:
    client.force_login(UserFactory(role=role))
    target = UserFactory()
    assert client.get("/api/users/").status_code == 403
    response = client.post(
        f"/api/users/{target.pk}/role", {"role": "admin"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert "detail" in response.json()
    assert fresh(target).role == "learner"


def test_permission_not_role_name_is_what_counts(client: Client) -> None:
    from django.contrib.auth.models import Permission

    # A learner given only the manage_roles permission may use the page: code checks
    # permissions, never role names.
    learner = UserFactory()
    learner.user_permissions.add(Permission.objects.get(codename="manage_roles"))
    client.force_login(learner)
    assert client.get(PAGE).status_code == 200
    assert client.get("/api/users/").status_code == 200


def test_a_role_changed_in_django_admin_is_audited(admin_user: Any, learner: Any) -> None:
    from django.test import Client

    from accounts.models import RoleChange

    client = Client()
    client.force_login(admin_user)
    page = client.get(f"/admin/accounts/user/{learner.pk}/change/")
    assert page.status_code == 200 and 'name="role"' in page.content.decode()
    form = {
        "email": learner.email, "display_name": learner.display_name, "first_name": "",
        "last_name": "", "role": "instructor", "is_active": "on",
        "last_login_0": "", "last_login_1": "", "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }  # fmt: skip
    response = client.post(f"/admin/accounts/user/{learner.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    change = RoleChange.objects.get(user=learner)
    assert (change.old_role, change.new_role, change.changed_by) == (
        "learner",
        "instructor",
        admin_user,
    )
