"""Logging in through a real OpenID Connect provider (oidc-provider-mock on loopback)."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.socialaccount.models import SocialAccount
from playwright.sync_api import Page, expect

from accounts.models import User
from tests.browser.conftest import OIDCProvider
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.usefixtures("transactional_db", "private_cache"),
]


@pytest.fixture
def configure_sso(settings: Any, live_server: Any, oidc_provider: OIDCProvider) -> Any:
    """Register a client at the provider and point the openid_connect app at it."""

    def configure(*, trust: bool, wrong_secret: bool = False) -> None:
        client_id, secret = oidc_provider.register_client(
            f"{live_server.url}/accounts/oidc/sso/login/callback/"
        )
        settings.SOCIALACCOUNT_PROVIDERS = {
            "openid_connect": {
                "APPS": [
                    {
                        "provider_id": "sso",
                        "name": "Company SSO",
                        "client_id": client_id,
                        "secret": "not-the-secret" if wrong_secret else secret,
                        "settings": {
                            "server_url": oidc_provider.url,
                            "token_auth_method": "client_secret_basic",
                        },
                    }
                ],
                "VERIFIED_EMAIL": False,
                "TRUST_EMAIL_VERIFIED": trust,
            }
        }

    return configure


def sign_in_with_sso(page: Page, live_server: Any, sub: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="Continue with Company SSO").click()
    # SOCIALACCOUNT_LOGIN_ON_GET is off: a button confirms (a POST, so no login CSRF).
    page.get_by_role("button", name="Continue").click()
    # The provider's own page: who signs in.
    page.locator("input[name=sub]").fill(sub)
    page.get_by_role("button", name="Authorize").click()


def test_new_person_signs_in_and_gets_a_learner_account(
    page: Page, live_server: Any, oidc_provider: OIDCProvider, configure_sso: Any
) -> None:
    configure_sso(trust=True)
    oidc_provider.set_user("grace-1", email="grace@corp.example", email_verified=True)
    sign_in_with_sso(page, live_server, "grace-1")

    page.wait_for_url(f"{live_server.url}/")
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("grace@corp.example")
    user = User.objects.get(email="grace@corp.example")
    assert user.role == "learner"
    assert user.groups.filter(name="learner").exists()
    account = SocialAccount.objects.get(user=user)
    assert (account.provider, account.uid) == ("sso", "grace-1")


def test_verified_email_connects_to_the_existing_account_when_trusted(
    page: Page, live_server: Any, oidc_provider: OIDCProvider, configure_sso: Any
) -> None:
    configure_sso(trust=True)
    existing = UserFactory(email="ada@corp.example", role="instructor")
    oidc_provider.set_user("ada-1", email="ada@corp.example", email_verified=True)
    sign_in_with_sso(page, live_server, "ada-1")

    page.wait_for_url(f"{live_server.url}/")
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("ada@corp.example")
    assert User.objects.filter(email__iexact="ada@corp.example").count() == 1
    account = SocialAccount.objects.get(uid="ada-1")
    assert account.user_id == existing.pk
    assert User.objects.get(pk=existing.pk).role == "instructor"  # the same account, untouched


def test_untrusted_provider_does_not_take_over_an_existing_account(
    page: Page,
    live_server: Any,
    oidc_provider: OIDCProvider,
    configure_sso: Any,
    mailoutbox: list[Any],
) -> None:
    configure_sso(trust=False)
    UserFactory(email="linus@corp.example")
    oidc_provider.set_user("linus-1", email="linus@corp.example", email_verified=True)
    sign_in_with_sso(page, live_server, "linus-1")

    # Not signed in: to the visitor it looks as if a verification mail went out (no
    # hint whether the address has an account); the owner is told by email instead.
    page.wait_for_url(lambda url: "/accounts/confirm-email/" in url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Verify your email address")
    expect(page.get_by_role("link", name="Log in", exact=True)).to_be_visible()
    assert [m.to for m in mailoutbox] == [["linus@corp.example"]]
    assert "already" in mailoutbox[0].body
    assert not SocialAccount.objects.exists()
    assert User.objects.count() == 1


def test_wrong_client_secret_shows_a_clear_error_and_creates_nothing(
    page: Page, live_server: Any, oidc_provider: OIDCProvider, configure_sso: Any
) -> None:
    configure_sso(trust=True, wrong_secret=True)
    oidc_provider.set_user("eve-1", email="eve@corp.example", email_verified=True)
    users_before = User.objects.count()
    sign_in_with_sso(page, live_server, "eve-1")

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Sign-in with Company SSO failed")
    expect(alert).to_contain_text("You are not signed in, and no account was created.")
    assert User.objects.count() == users_before
    assert not SocialAccount.objects.exists()
    expect(page.get_by_role("link", name="Log in", exact=True)).to_be_visible()
