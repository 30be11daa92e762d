"""Email + password accounts: sign-up, verification, login, throttling, reset, admin login."""

from __future__ import annotations

import re
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-much-longer-passphrase-42"


def _link_in_last_mail(prefix: str) -> str:
    body = mail.outbox[-1].body
    match = re.search(r"https?://[^\s]+" + re.escape(prefix) + r"[^\s]*", body)
    assert match, body
    return match.group(0).split("testserver", 1)[-1]


def _login(client: Client, email: str, password: str, **extra: Any) -> Any:
    return client.post(reverse("account_login"), {"login": email, "password": password}, **extra)


def test_login_and_signup_pages_use_the_site_layout_and_label_every_field(client: Client) -> None:
    login = client.get(reverse("account_login")).content.decode()
    assert '<a class="brand"' in login  # our base.html, not allauth's bare layout
    assert "<title>Log in · Skillmap</title>" in login
    for field in ("id_login", "id_password", "id_remember"):
        assert f'<label for="{field}"' in login
        assert f'id="{field}"' in login
    signup = client.get(reverse("account_signup")).content.decode()
    for field in ("id_email", "id_password1", "id_password2"):
        assert f'<label for="{field}"' in signup
    assert 'name="csrfmiddlewaretoken"' in signup


@pytest.mark.usefixtures("production_password_hashers")
def test_signup_requires_email_verification_then_logs_in_as_a_learner(client: Client) -> None:
    response = client.post(
        reverse("account_signup"),
        {"email": "Ada@Example.com", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get(email__iexact="ada@example.com")
    assert user.role == "learner"
    assert user.password.startswith("argon2$")
    assert not EmailAddress.objects.get(user=user).verified
    # Not logged in until the address is confirmed, and a password login is refused too.
    assert "_auth_user_id" not in client.session
    refused = _login(client, "ada@example.com", NEW_PASSWORD)
    assert refused["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session

    assert len(mail.outbox) >= 1
    confirm_url = _link_in_last_mail("/accounts/confirm-email/")
    assert client.get(confirm_url).status_code == 200  # a confirmation page (POST to confirm)
    response = client.post(confirm_url)
    assert response.status_code == 302
    assert EmailAddress.objects.get(user=user).verified
    assert client.session["_auth_user_id"] == str(user.pk)  # ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION


def test_signup_with_a_weak_password_is_refused_and_creates_nothing(client: Client) -> None:
    response = client.post(
        reverse("account_signup"),
        {"email": "weak@example.com", "password1": "password", "password2": "password"},
    )
    assert response.status_code == 200
    assert "This password is too common." in response.content.decode()
    assert not User.objects.filter(email="weak@example.com").exists()


def test_login_with_email_and_password_lands_on_home(client: Client) -> None:
    user = UserFactory()
    response = _login(client, user.email.upper(), DEFAULT_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.session["_auth_user_id"] == str(user.pk)


def test_wrong_password_shows_an_error_and_does_not_log_in(client: Client) -> None:
    user = UserFactory()
    response = _login(client, user.email, "not-the-password")
    assert response.status_code == 200
    assert "The email address and/or password you specified are not correct." in (
        response.content.decode()
    )
    assert "_auth_user_id" not in client.session


def test_repeated_failed_logins_are_throttled_even_with_the_right_password(
    client: Client,
) -> None:
    user = UserFactory()
    for _ in range(5):  # login_failed: 5 per 5 minutes per account and client IP
        assert _login(client, user.email, "guess").status_code == 200
    throttled = _login(client, user.email, "guess")
    assert throttled.status_code == 429
    assert "Too many attempts" in throttled.content.decode()
    # The right password does not get through while the account is throttled.
    correct = _login(client, user.email, DEFAULT_PASSWORD)
    assert correct.status_code == 429
    assert "_auth_user_id" not in client.session
    # Other accounts are unaffected by the attack on this one.
    other = UserFactory()
    assert _login(client, other.email, DEFAULT_PASSWORD).status_code == 302


def test_throttling_by_ip_honours_the_trusted_proxy(client: Client, settings: Any) -> None:
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    attacker = {"HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    for n in range(20):  # login_failed: 20 per minute per client IP
        assert _login(client, f"nobody{n}@example.com", "guess", **attacker).status_code == 200
    assert _login(client, "nobody-else@example.com", "guess", **attacker).status_code == 429
    # Behind the proxy, every client has its own REMOTE_ADDR (the proxy's): a different
    # client address is not throttled.
    user = UserFactory()
    response = _login(client, user.email, DEFAULT_PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.10")
    assert response.status_code == 302


@pytest.mark.usefixtures("production_password_hashers")
def test_password_reset_by_email(client: Client) -> None:
    user = UserFactory()
    response = client.post(reverse("account_reset_password"), {"email": user.email})
    assert response.status_code == 302
    reset_url = _link_in_last_mail("/accounts/password/reset/key/")
    response = client.get(reset_url, follow=True)  # allauth moves the key into the session
    assert response.status_code == 200
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else reset_url
    response = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert user.password.startswith("argon2$")


def test_password_reset_for_an_unknown_address_reveals_nothing(client: Client) -> None:
    response = client.post(reverse("account_reset_password"), {"email": "ghost@example.com"})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_reset_password_done")


def test_change_password(client: Client) -> None:
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": DEFAULT_PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_change_password_with_a_wrong_current_password_changes_nothing(client: Client) -> None:
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": "wrong", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 200
    assert "Please type your current password." in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


CONSOLE_HINT = (
    "In development, the email with the link is printed in the console where the server runs."
)


@pytest.mark.parametrize(
    ("backend", "hinted"),
    [
        ("django.core.mail.backends.console.EmailBackend", True),
        ("django.core.mail.backends.smtp.EmailBackend", False),
        ("django.core.mail.backends.locmem.EmailBackend", False),
    ],
)
def test_the_verification_page_says_where_the_email_went_in_development(
    client: Client, settings: Any, backend: str, hinted: bool
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client.post(
        reverse("account_signup"),
        {"email": "grace@example.com", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    settings.EMAIL_BACKEND = backend  # what the page reports on; nothing is sent from here
    page = client.get(reverse("account_email_verification_sent"))
    assert page.status_code == 200
    text = " ".join(page.content.decode().split())
    assert "We have sent you an email" in text
    assert (CONSOLE_HINT in text) is hinted


def test_change_email_sends_a_verification_to_the_new_address(client: Client) -> None:
    user = UserFactory()
    client.force_login(user)
    response = client.post(reverse("account_email"), {"action_add": "", "email": "new@example.com"})
    assert response.status_code == 302
    assert mail.outbox[-1].to == ["new@example.com"]
    # With ACCOUNT_CHANGE_EMAIL the old address stays primary until the new one is verified.
    user.refresh_from_db()
    assert user.email != "new@example.com"
    confirm_url = _link_in_last_mail("/accounts/confirm-email/")
    client.post(confirm_url)
    user.refresh_from_db()
    assert user.email == "new@example.com"
    assert list(EmailAddress.objects.filter(user=user).values_list("email", flat=True)) == [
        "new@example.com"
    ]


@pytest.mark.parametrize(
    "url_name",
    [
        "account_email",
        "account_change_password",
        "mfa_index",
        "usersessions_list",
        "socialaccount_connections",
    ],
)
def test_account_management_pages_render_in_the_site_layout(client: Client, url_name: str) -> None:
    client.force_login(UserFactory())
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    assert '<a class="brand"' in response.content.decode()


def test_admin_login_goes_through_allauth(client: Client) -> None:
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login") + "?next=")


def test_admin_site_refuses_learners_and_admits_admins(client: Client) -> None:
    client.force_login(UserFactory())
    assert client.get("/admin/login/").status_code == 403
    client.force_login(UserFactory(role="admin"))
    assert client.get("/admin/").status_code == 200
