"""Two-factor authentication: staff must set it up when MFA_REQUIRED_FOR_STAFF is on."""

from __future__ import annotations

import time
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value
from django.test import Client
from django.urls import reverse

from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mfa_required(settings: Any) -> None:
    settings.MFA_REQUIRED_FOR_STAFF = True


@pytest.mark.usefixtures("mfa_required")
@pytest.mark.parametrize("role", ["instructor", "admin"])
def test_staff_without_an_authenticator_are_sent_to_set_one_up(client: Client, role: str) -> None:
    client.force_login(UserFactory(role=role))
    for path in ("/", reverse("role-management"), "/api/users/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == reverse("mfa_activate_totp")


@pytest.mark.usefixtures("mfa_required")
def test_learners_are_not_asked_for_two_factor(client: Client) -> None:
    client.force_login(UserFactory())
    assert client.get("/").status_code == 200


@pytest.mark.usefixtures("mfa_required")
def test_account_pages_stay_reachable_while_setting_up(client: Client) -> None:
    client.force_login(UserFactory(role="instructor"))
    assert client.get(reverse("profile")).status_code == 200
    assert client.get(reverse("mfa_index")).status_code == 200


@pytest.mark.usefixtures("mfa_required")
def test_staff_with_an_authenticator_get_through(client: Client) -> None:
    user = UserFactory(role="instructor")
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "x"})
    client.force_login(user)
    assert client.get("/").status_code == 200


def test_staff_are_not_forced_when_the_setting_is_off(client: Client, settings: Any) -> None:
    settings.MFA_REQUIRED_FOR_STAFF = False
    client.force_login(UserFactory(role="admin"))
    assert client.get("/").status_code == 200


@pytest.mark.usefixtures("mfa_required")
def test_an_instructor_activates_totp_and_then_needs_the_code_to_log_in(client: Client) -> None:
    user = UserFactory(role="instructor")
    client.post(reverse("account_login"), {"login": user.email, "password": DEFAULT_PASSWORD})
    assert client.get("/")["Location"] == reverse("mfa_activate_totp")
    # allauth asks for the password again before adding an authenticator.
    assert client.get(reverse("mfa_activate_totp")).status_code == 302
    client.post(reverse("account_reauthenticate"), {"password": DEFAULT_PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    response = client.post(reverse("mfa_activate_totp"), {"code": code})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    assert client.get("/").status_code == 200

    # The next login asks for the second factor before the session is authenticated.
    client.logout()
    response = client.post(
        reverse("account_login"), {"login": user.email, "password": DEFAULT_PASSWORD}
    )
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
