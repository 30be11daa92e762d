"""OAuth2 / OpenID Connect: providers from configuration, redirects, and email trust."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.core import context
from allauth.socialaccount.adapter import get_adapter
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

GITHUB = {
    "APPS": [{"client_id": "gh-client", "secret": "gh-secret"}],
    "SCOPE": ["user:email"],
    "VERIFIED_EMAIL": True,
}
GOOGLE = {
    "APPS": [{"client_id": "google-client", "secret": "google-secret"}],
    "SCOPE": ["profile", "email"],
    "VERIFIED_EMAIL": True,
}


def oidc(*, trust: bool, server_url: str = "http://127.0.0.1:9/") -> dict[str, Any]:
    return {
        "APPS": [
            {
                "provider_id": "sso",
                "name": "Company SSO",
                "client_id": "sso-client",
                "secret": "sso-secret",
                "settings": {"server_url": server_url},
            }
        ],
        "VERIFIED_EMAIL": False,
        "TRUST_EMAIL_VERIFIED": trust,
    }


def provider_buttons(client: Client) -> list[str]:
    html = client.get(reverse("account_login")).content.decode()
    import re

    return re.findall(r'data-provider="([^"]+)"[^>]*>Continue with ([^<]+)<', html)


def test_login_page_shows_no_provider_when_none_is_configured(
    client: Client, settings: Any
) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = {}
    assert provider_buttons(client) == []


def test_login_page_shows_exactly_the_configured_providers(client: Client, settings: Any) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = {"github": GITHUB}
    assert provider_buttons(client) == [("github", "GitHub")]
    settings.SOCIALACCOUNT_PROVIDERS = {"github": GITHUB, "google": GOOGLE, **_sso()}
    assert sorted(provider_buttons(client)) == [
        ("github", "GitHub"),
        ("google", "Google"),
        ("openid_connect", "Company SSO"),
    ]


def _sso(trust: bool = False) -> dict[str, Any]:
    return {"openid_connect": oidc(trust=trust)}


@pytest.mark.parametrize(
    ("provider", "config", "authorize_url", "client_id"),
    [
        ("github", GITHUB, "https://github.com/login/oauth/authorize", "gh-client"),
        ("google", GOOGLE, "https://accounts.google.com/o/oauth2/v2/auth", "google-client"),
    ],
)
def test_login_redirects_to_the_providers_authorize_url(
    client: Client, settings: Any, provider: str, config: Any, authorize_url: str, client_id: str
) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = {provider: config}
    login_url = reverse(f"{provider}_login")
    # A GET only shows a confirmation form (SOCIALACCOUNT_LOGIN_ON_GET off: no login CSRF).
    page = client.get(login_url)
    assert page.status_code == 200
    assert '<form method="post"' in page.content.decode()
    response = client.post(login_url)
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(authorize_url + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["client_id"] == [client_id]
    assert query["redirect_uri"] == [f"http://testserver/accounts/{provider}/login/callback/"]
    assert query["response_type"] == ["code"]
    assert query["state"]


def test_unconfigured_provider_login_is_not_found(client: Client, settings: Any) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = {}
    assert client.post(reverse("github_login")).status_code == 404


# --- Email trust ------------------------------------------------------------------------
def _sociallogin(provider_id: str, data: dict[str, Any]) -> Any:
    """Build the SocialLogin allauth builds from a provider's answer, and look it up."""
    request = RequestFactory().get("/")
    SessionMiddleware(lambda r: HttpResponse()).process_request(request)
    request.user = __import__("django.contrib.auth.models").contrib.auth.models.AnonymousUser()
    with context.request_context(request):
        provider = get_adapter().get_provider(request, provider_id)
        login = provider.sociallogin_from_response(request, data)
        login.lookup()
    return login


@pytest.mark.parametrize(
    ("provider_id", "data"),
    [
        ("google", {"sub": "g-1", "email": "ada@example.com", "email_verified": True}),
        ("sso", {"sub": "o-1", "email": "ada@example.com", "email_verified": True}),
    ],
)
def test_trusted_verified_email_finds_the_existing_account(
    settings: Any, provider_id: str, data: dict[str, Any]
) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = {"google": GOOGLE, **_sso(trust=True)}
    existing = UserFactory(email="ada@example.com")
    login = _sociallogin(provider_id, data)
    assert login.is_existing
    assert login.user == existing


def test_untrusted_oidc_provider_does_not_connect_by_email(settings: Any) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = _sso(trust=False)
    UserFactory(email="ada@example.com")
    login = _sociallogin("sso", {"sub": "o-1", "email": "ada@example.com", "email_verified": True})
    assert not login.is_existing
    # The address counts as unverified: a new account would have to confirm it.
    assert [(a.email, a.verified) for a in login.email_addresses] == [("ada@example.com", False)]


def test_trusted_oidc_provider_still_refuses_an_address_it_says_is_unverified(
    settings: Any,
) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = _sso(trust=True)
    UserFactory(email="ada@example.com")
    login = _sociallogin("sso", {"sub": "o-1", "email": "ada@example.com", "email_verified": False})
    assert not login.is_existing


def test_oidc_trust_follows_the_environment_variable() -> None:
    import os
    import subprocess
    import sys

    from tests.conftest import BASE_DIR

    code = (
        "from django.conf import settings as s;"
        "p = s.SOCIALACCOUNT_PROVIDERS['openid_connect'];"
        "print(p['VERIFIED_EMAIL'], p['TRUST_EMAIL_VERIFIED'], sorted(s.SOCIALACCOUNT_PROVIDERS))"
    )
    env = {
        **os.environ,
        "DEBUG": "true",
        "OIDC_CLIENT_ID": "x",
        "OIDC_SECRET": "y",
        "OIDC_SERVER_URL": "https://sso.example",
        "OIDC_TRUST_EMAIL_VERIFIED": "true",
        "GITHUB_CLIENT_ID": "",
        "GOOGLE_CLIENT_ID": "",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False True ['openid_connect']"
