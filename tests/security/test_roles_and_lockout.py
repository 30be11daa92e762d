"""Hostile administrators and strangers.

The role is the only source of privilege: a learner or instructor is never staff or
superuser, whichever path changed the role (the role page, the API, Django admin). Only a
superuser grants superuser status, audited, and nobody changes their own role or status.

Failed logins throttle the address they come from, not the account: a stranger failing
someone's password does not lock the owner out, and a school behind one address can log in.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from accounts.models import RoleChange, User
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_cache")]

ROLE_PAGE = "/manage/roles/"
SELF_ROLE = "You cannot change your own role: ask another administrator."
SUPERUSER_ROLE = "Only a superuser can change a superuser&#x27;s role."
SUPERUSER_ROLE_API = "Only a superuser can change a superuser's role."
SELF_SUPERUSER = "You cannot change your own superuser status: ask another superuser."
ONLY_SUPERUSERS = "Only a superuser can grant or remove superuser status."
ADMINS_ONLY = "Only administrators can be superusers: give them the admin role first."
PRIVILEGE_FIELDS = ("is_superuser", "is_staff", "groups", "user_permissions", "superuser")


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def change_url(user: User) -> str:
    return f"/admin/accounts/user/{user.pk}/change/"


def admin_form(user: User, **changes: Any) -> dict[str, Any]:
    """The Django admin change form for ``user`` as the page would post it, plus ``changes``."""
    form: dict[str, Any] = {
        "email": user.email,
        "display_name": user.display_name,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": user.role,
        "is_active": "on",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }
    form.update(changes)
    return form


def hostile_fields() -> dict[str, Any]:
    """Everything a non-superuser might add to a crafted POST to gain privileges."""
    return {
        "is_superuser": "on",
        "is_staff": "on",
        "superuser": "on",
        "groups": [Group.objects.get(name="admin").pk],
        "user_permissions": [Permission.objects.get(codename="manage_roles").pk],
    }


@pytest.fixture
def superuser(db: None) -> User:
    return User.objects.create_superuser(email="root@example.com", password=DEFAULT_PASSWORD)


@pytest.fixture
def other_superuser(db: None) -> User:
    return User.objects.create_superuser(email="root2@example.com", password=DEFAULT_PASSWORD)


def assert_no_privileges(user: User) -> None:
    """What the demoted person notices: no role management, no API, no Django admin."""
    user = fresh(user)
    assert not user.is_superuser
    assert not user.is_staff
    assert not user.has_perm("accounts.manage_roles")
    client = client_for(user)
    assert client.get(ROLE_PAGE).status_code == 403
    assert client.get("/api/users/").status_code == 403
    assert client.get("/admin/").status_code == 302


# --- the role decides: demotion removes superuser and staff, on every path ----------------
def test_a_superuser_made_learner_on_the_role_page_loses_every_privilege(
    superuser: User, other_superuser: User
) -> None:
    response = client_for(superuser).post(
        ROLE_PAGE, {"user": other_superuser.pk, "role": "learner"}, follow=True
    )
    assert response.status_code == 200
    assert f"{other_superuser.email} is now learner (was admin)." in response.content.decode()
    assert fresh(other_superuser).role == "learner"
    assert_no_privileges(other_superuser)
    change = RoleChange.objects.get(user=other_superuser)
    assert (change.old_role, change.new_role, change.changed_by) == ("admin", "learner", superuser)
    assert (change.old_superuser, change.new_superuser) == (True, False)
    audit = response.content.decode().split('id="role-audit"')[1]
    assert "<td>admin (superuser)</td>\n      <td>learner</td>" in audit


def test_a_superuser_made_instructor_through_the_api_loses_every_privilege(
    superuser: User, other_superuser: User
) -> None:
    response = client_for(superuser).post(
        f"/api/users/{other_superuser.pk}/role",
        {"role": "instructor"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["role"] == "instructor"
    assert_no_privileges(other_superuser)
    assert fresh(other_superuser).has_perm("quizzes.author_item")  # an instructor, no more
    change = RoleChange.objects.get(user=other_superuser)
    assert (change.old_superuser, change.new_superuser) == (True, False)


def test_setting_learner_again_clears_a_leftover_superuser_flag(superuser: User) -> None:
    # An account left inconsistent by an older release: learner role, superuser flag.
    leftover = UserFactory()
    User.objects.filter(pk=leftover.pk).update(is_superuser=True, is_staff=True)
    response = client_for(superuser).post(ROLE_PAGE, {"user": leftover.pk, "role": "learner"})
    assert response.status_code == 302
    assert_no_privileges(leftover)
    change = RoleChange.objects.get(user=leftover)
    assert (change.old_role, change.new_role) == ("learner", "learner")
    assert (change.old_superuser, change.new_superuser) == (True, False)


def test_an_admin_cannot_change_a_superusers_role_on_the_page_or_the_api(
    admin_user: User, superuser: User
) -> None:
    client = client_for(admin_user)
    page = client.post(ROLE_PAGE, {"user": superuser.pk, "role": "learner"})
    assert page.status_code == 400
    assert SUPERUSER_ROLE in page.content.decode()
    api = client.post(
        f"/api/users/{superuser.pk}/role", {"role": "learner"}, content_type="application/json"
    )
    assert api.status_code == 400
    assert api.json()["detail"] == SUPERUSER_ROLE_API
    superuser = fresh(superuser)
    assert (superuser.role, superuser.is_superuser, superuser.is_staff) == ("admin", True, True)
    assert not RoleChange.objects.filter(user=superuser).exists()


# --- Django admin: no privilege fields for non-superusers, guards hold -------------------
def test_django_admin_shows_no_privilege_fields_to_an_admin(
    admin_user: User, learner: User
) -> None:
    client = client_for(admin_user)
    for target in (learner, admin_user):
        html = client.get(change_url(target)).content.decode()
        assert 'name="role"' in html
        for field in PRIVILEGE_FIELDS:
            assert f'name="{field}"' not in html, (target, field)


@pytest.mark.parametrize("target_kind", ["self", "learner"])
def test_a_crafted_django_admin_post_gives_an_admin_no_privileges(
    admin_user: User, learner: User, target_kind: str
) -> None:
    target = admin_user if target_kind == "self" else learner
    before = fresh(target)
    form = admin_form(target, display_name="Renamed", **hostile_fields())
    response = client_for(admin_user).post(change_url(target), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    after = fresh(target)
    assert after.display_name == "Renamed"  # the ordinary fields were saved
    assert not after.is_superuser
    assert after.is_staff == before.is_staff
    assert after.role == before.role
    assert list(after.groups.values_list("name", flat=True)) == [before.role]
    assert not after.user_permissions.exists()
    assert not RoleChange.objects.exclude(changed_by=None).exists()


def test_an_admin_cannot_change_their_own_role_in_django_admin(admin_user: User) -> None:
    UserFactory(role="admin")  # even when another admin exists
    form = admin_form(admin_user, role="learner", display_name="Renamed")
    response = client_for(admin_user).post(change_url(admin_user), form)
    assert response.status_code == 200  # the form again, with the error
    assert SELF_ROLE in response.content.decode()
    after = fresh(admin_user)
    assert (after.role, after.is_staff) == ("admin", True)
    assert after.display_name == admin_user.display_name  # nothing was saved
    assert not RoleChange.objects.exclude(changed_by=None).exists()


def test_an_admin_cannot_edit_a_superusers_account_in_django_admin(
    admin_user: User, superuser: User
) -> None:
    client = client_for(admin_user)
    page = client.get(change_url(superuser)).content.decode()
    assert 'name="email"' not in page  # read only
    form = admin_form(superuser, email="taken@example.com", role="learner", is_active="")
    assert client.post(change_url(superuser), form).status_code == 403
    password_url = f"/admin/accounts/user/{superuser.pk}/password/"
    assert client.get(password_url).status_code == 403
    new = {"password1": "an-attackers-passphrase-1", "password2": "an-attackers-passphrase-1"}
    assert client.post(password_url, new).status_code == 403
    after = fresh(superuser)
    assert (after.email, after.role, after.is_active) == ("root@example.com", "admin", True)
    assert after.check_password(DEFAULT_PASSWORD)
    assert not RoleChange.objects.filter(user=superuser).exists()


# --- superuser status: granted only by a superuser, audited, never to oneself ------------
def test_a_superuser_grants_and_removes_superuser_in_django_admin_audited(
    superuser: User, admin_user: User
) -> None:
    client = client_for(superuser)
    assert 'name="superuser"' in client.get(change_url(admin_user)).content.decode()
    response = client.post(change_url(admin_user), admin_form(admin_user, superuser="on"))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert fresh(admin_user).is_superuser
    response = client.post(change_url(admin_user), admin_form(admin_user))
    assert response.status_code == 302, response.content.decode()[:2000]
    after = fresh(admin_user)
    assert (after.is_superuser, after.is_staff, after.role) == (False, True, "admin")
    changes = RoleChange.objects.filter(user=admin_user, changed_by=superuser).order_by("id")
    assert [(c.changed_by, c.old_superuser, c.new_superuser) for c in changes] == [
        (superuser, False, True),
        (superuser, True, False),
    ]
    assert all(c.old_role == c.new_role == "admin" for c in changes)


def test_superuser_status_is_refused_to_a_learner(superuser: User, learner: User) -> None:
    response = client_for(superuser).post(change_url(learner), admin_form(learner, superuser="on"))
    assert response.status_code == 200
    assert ADMINS_ONLY in response.content.decode()
    assert not fresh(learner).is_superuser
    assert not RoleChange.objects.exists()


def test_a_superuser_cannot_remove_their_own_superuser_status(superuser: User) -> None:
    from accounts.services import user_set_superuser

    response = client_for(superuser).post(change_url(superuser), admin_form(superuser))
    assert response.status_code == 200
    assert SELF_SUPERUSER in response.content.decode()
    with pytest.raises(ValidationError, match="your own superuser status"):
        user_set_superuser(actor=superuser, user=superuser, value=False)
    assert fresh(superuser).is_superuser
    assert not RoleChange.objects.exists()


def test_only_a_superuser_may_grant_superuser(admin_user: User) -> None:
    from accounts.services import user_set_superuser

    other_admin = UserFactory(role="admin")
    with pytest.raises(ValidationError, match="Only a superuser"):
        user_set_superuser(actor=admin_user, user=other_admin, value=True)
    assert not fresh(other_admin).is_superuser
    assert not RoleChange.objects.exclude(changed_by=None).exists()


# --- login lock-out ----------------------------------------------------------------------
ATTACKER_IP = "203.0.113.66"
VICTIM_IP = "198.51.100.20"
SCHOOL_IP = "192.0.2.10"


def login(client: Client, email: str, password: str, ip: str) -> Any:
    return client.post(
        reverse("account_login"), {"login": email, "password": password}, REMOTE_ADDR=ip
    )


def test_a_stranger_failing_your_password_does_not_lock_you_out() -> None:
    victim = UserFactory(email="victim@example.com")
    attacker = Client()
    for _ in range(20):
        assert login(attacker, victim.email, "guess", ATTACKER_IP).status_code in (200, 429)
    client = Client()
    response = login(client, victim.email, DEFAULT_PASSWORD, VICTIM_IP)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(victim.pk)


def test_an_attacker_at_one_address_is_throttled() -> None:
    victim = UserFactory(email="victim@example.com")
    attacker = Client()
    statuses = [login(attacker, victim.email, "guess", ATTACKER_IP).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    throttled = login(attacker, victim.email, DEFAULT_PASSWORD, ATTACKER_IP)
    assert throttled.status_code == 429  # even the right password tells the attacker nothing
    assert "Too many attempts" in throttled.content.decode()
    assert "_auth_user_id" not in attacker.session
    # Spraying one guess at many addresses from the same place is throttled too.
    sprayed = [
        login(attacker, f"someone{n}@example.com", "guess", ATTACKER_IP).status_code
        for n in range(25)
    ]
    assert 429 in sprayed


def test_many_people_behind_one_address_log_in_even_after_typos() -> None:
    people = [UserFactory() for _ in range(10)]
    for person in people:
        client = Client()
        assert login(client, person.email, "a typo", SCHOOL_IP).status_code == 200
        response = login(client, person.email, DEFAULT_PASSWORD, SCHOOL_IP)
        assert response.status_code == 302, person.email
        assert client.session["_auth_user_id"] == str(person.pk)


def test_an_attacker_cannot_dodge_the_limit_by_hopping_within_an_ipv6_network() -> None:
    victim = UserFactory(email="victim@example.com")
    attacker = Client()
    statuses = [
        login(attacker, victim.email, "guess", f"2001:db8:1:2::{n + 1:x}").status_code
        for n in range(6)
    ]
    assert statuses == [200] * 5 + [429]
    # Another network is another client.
    client = Client()
    assert login(client, victim.email, DEFAULT_PASSWORD, "2001:db8:9:9::1").status_code == 302
