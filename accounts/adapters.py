"""allauth customisation, in one place."""

from __future__ import annotations

import ipaddress
from typing import Any

from allauth import app_settings as allauth_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.core.ratelimit import respond_429
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp, SocialLogin
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest

from accounts.models import User
from accounts.roles import Role, user_create

# Providers that verify the addresses they report (GitHub and Google do).
TRUSTED_EMAIL_PROVIDERS = frozenset({"github", "google"})


def provider_trusts_email_verified(provider: Any) -> bool:
    """Whether addresses this provider reports as verified may be believed.

    GitHub and Google verify addresses themselves. A generic OpenID Connect provider
    may let anyone claim any address, so its ``email_verified`` claim counts only when
    the operator says so: ``trust_email_verified`` in the app's settings, or
    ``TRUST_EMAIL_VERIFIED`` for the provider (set from OIDC_TRUST_EMAIL_VERIFIED).
    """
    if provider.id in TRUSTED_EMAIL_PROVIDERS:
        return True
    app = getattr(provider, "app", None)
    trusted = app.settings.get("trust_email_verified") if app is not None else None
    if trusted is None:
        trusted = provider.get_settings().get("TRUST_EMAIL_VERIFIED", False)
    return bool(trusted)


def rate_limit_ip(ip: str) -> str:
    """The client as the rate limits count it: an IPv6 address stands for its network
    (ALLAUTH_RATE_LIMIT_IPV6_PREFIX, /64 by default), as in allauth's per-IP limits, since
    one client usually holds a whole /64."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        prefix = allauth_settings.RATE_LIMIT_IPV6_PREFIX
        return str(ipaddress.IPv6Network(f"{address}/{prefix}", strict=False).network_address)
    return ip


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return bool(getattr(settings, "ACCOUNT_ALLOW_SIGNUP", True))

    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        user = super().save_user(request, user, form, commit=False)
        if commit:
            user_create(user=user, role=Role.LEARNER)
        return user

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        # The "key" of the login_failed rate limit (ACCOUNT_RATE_LIMITS). allauth uses the
        # address alone, so anyone failing a password from anywhere locks its owner out;
        # keyed by (client IP, address), a stranger only throttles themselves. The same
        # key is cleared after a password reset.
        key: str = super()._get_login_attempts_cache_key(request, **credentials)
        return f"{rate_limit_ip(self.get_client_ip(request))}:{key}"

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        # allauth answers a throttled login with a form error (status 200). We answer
        # with 429 Too Many Requests instead, so that proxies, monitoring and scripted
        # clients see the throttling for what it is; the page still explains it.
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError as exc:
            if exc.code == "too_many_login_attempts":
                raise ImmediateHttpResponse(respond_429(request)) from exc
            raise


class ProviderNotConfigured(SocialApp.DoesNotExist, Http404):
    """No app for this provider: still a DoesNotExist for allauth, a 404 for the visitor.

    Every provider's URLs are installed, but only those with credentials in the
    environment are usable; /accounts/github/login/ without GitHub credentials would
    otherwise be a server error.
    """


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def get_app(self, request: HttpRequest, provider: Any, client_id: Any = None) -> Any:
        try:
            return super().get_app(request, provider, client_id=client_id)
        except SocialApp.DoesNotExist as exc:
            raise ProviderNotConfigured(f"{provider} sign-in is not configured") from exc

    def save_user(self, request: HttpRequest, sociallogin: SocialLogin, form: Any = None) -> User:
        # allauth saves the account with its social login; the role follows at once.
        user: User = super().save_user(request, sociallogin, form)
        return user_create(user=user, role=Role.LEARNER)

    def populate_user(self, request: HttpRequest, sociallogin: SocialLogin, data: Any) -> Any:
        # This runs while allauth builds the login from the provider's answer, before it
        # looks up an existing account by verified address (``SocialLogin.lookup``, which
        # precedes ``pre_social_login``: downgrading there would be too late). An
        # untrusted provider's addresses count as unverified from here on: no automatic
        # connection to an existing account, and a new account must confirm its address.
        if not provider_trusts_email_verified(sociallogin.provider):
            for address in sociallogin.email_addresses:
                address.verified = False
        return super().populate_user(request, sociallogin, data)
