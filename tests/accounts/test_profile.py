"""The profile page: display name, links to account security, deleting one's account."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.test import Client
from django.urls import reverse

from accounts.models import User
from quizzes.models import Attempt, Quiz
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_profile_shows_links_to_every_account_setting(client: Client) -> None:
    user = UserFactory()
    SocialAccount.objects.create(user=user, provider="github", uid="42")
    client.force_login(user)
    response = client.get(reverse("profile"))
    assert response.status_code == 200
    html = response.content.decode()
    for name in (
        "account_email",
        "account_change_password",
        "mfa_index",
        "usersessions_list",
        "socialaccount_connections",
        "account-delete",
    ):
        assert f'href="{reverse(name)}"' in html, name
    assert "GitHub" in html  # the connected account
    assert '<label for="id_display_name">Display name' in html


def test_social_only_account_is_offered_to_set_a_password(client: Client) -> None:
    user = UserFactory()
    user.set_unusable_password()
    user.save()
    client.force_login(user)
    html = client.get(reverse("profile")).content.decode()
    assert f'href="{reverse("account_set_password")}"' in html


def test_display_name_is_saved(client: Client) -> None:
    user = UserFactory(display_name="Old")
    client.force_login(user)
    response = client.post(reverse("profile"), {"display_name": "  Ada L.  "}, follow=True)
    assert "Your profile was saved." in response.content.decode()
    user.refresh_from_db()
    assert user.display_name == "Ada L."


def test_too_long_display_name_is_refused(client: Client) -> None:
    user = UserFactory(display_name="Old")
    client.force_login(user)
    response = client.post(reverse("profile"), {"display_name": "x" * 151})
    assert response.status_code == 400
    assert "Ensure this value has at most 150 characters" in response.content.decode()
    user.refresh_from_db()
    assert user.display_name == "Old"


def _attempt_of(user: User) -> Attempt:
    quiz = Quiz.objects.create(slug=f"q-{user.pk}", title="Stage quiz")
    return Attempt.objects.create(quiz=quiz, learner=user, seed=7)


@pytest.mark.parametrize("typed", ["email", "EMAIL", "password"])
def test_delete_account_by_typing_email_or_password_keeps_attempts_anonymised(
    client: Client, typed: str
) -> None:
    user = UserFactory()
    attempt = _attempt_of(user)
    client.force_login(user)
    confirmation = {
        "email": user.email,
        "EMAIL": f" {user.email.upper()} ",
        "password": DEFAULT_PASSWORD,
    }[typed]
    response = client.post(reverse("account-delete"), {"confirmation": confirmation}, follow=True)
    assert response.status_code == 200
    assert "Your account was deleted." in response.content.decode()
    assert not User.objects.filter(pk=user.pk).exists()
    assert not EmailAddress.objects.filter(email=user.email).exists()
    assert "_auth_user_id" not in client.session
    attempt.refresh_from_db()
    assert attempt.learner is None  # kept for statistics, no longer linked to the person


def test_wrong_confirmation_deletes_nothing(client: Client) -> None:
    user = UserFactory()
    client.force_login(user)
    response = client.post(reverse("account-delete"), {"confirmation": "someone@else.example"})
    assert response.status_code == 400
    assert "neither your email address nor your password. Nothing was deleted." in (
        response.content.decode()
    )
    assert User.objects.filter(pk=user.pk).exists()


def test_the_only_administrator_cannot_delete_their_account(client: Client) -> None:
    admin = UserFactory(role="admin")
    client.force_login(admin)
    response = client.post(reverse("account-delete"), {"confirmation": admin.email})
    assert response.status_code == 400
    assert "You are the only administrator" in response.content.decode()
    assert User.objects.filter(pk=admin.pk).exists()
    # With a second administrator, it is allowed.
    UserFactory(role="admin")
    response = client.post(reverse("account-delete"), {"confirmation": admin.email})
    assert response.status_code == 302
    assert not User.objects.filter(pk=admin.pk).exists()


def test_delete_page_asks_before_deleting(client: Client) -> None:
    user = UserFactory()
    client.force_login(user)
    response = client.get(reverse("account-delete"))
    assert response.status_code == 200
    assert "This cannot be undone." in response.content.decode()
    assert User.objects.filter(pk=user.pk).exists()
