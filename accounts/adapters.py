"""allauth customisation, in one place."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from django.conf import settings
from django.http import HttpRequest

from accounts.models import User
from accounts.roles import Role
from accounts.services import user_grant_initial_role

# Providers that verify the addresses they report (GitHub and Google do).
TRUSTED_EMAIL_PROVIDERS = frozenset({"github", "google"})


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return bool(getattr(settings, "ACCOUNT_ALLOW_SIGNUP", True))

    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            user_grant_initial_role(user=user, role=Role.LEARNER)
        return user


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def save_user(self, request: HttpRequest, sociallogin: SocialLogin, form: Any = None) -> User:
        user: User = super().save_user(request, sociallogin, form)
        user_grant_initial_role(user=user, role=Role.LEARNER)
        return user

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        # A generic OpenID Connect provider may mark any address as verified; unless the
        # operator trusts it (OIDC_TRUST_EMAIL_VERIFIED), its addresses count as
        # unverified, so allauth will not connect the login to an existing account by
        # email and asks the person instead.
        provider = sociallogin.account.get_provider()
        trusted = provider.id in TRUSTED_EMAIL_PROVIDERS or bool(
            provider.get_settings().get("VERIFIED_EMAIL", False)
        )
        if not trusted:
            for address in sociallogin.email_addresses:
                address.verified = False
        super().pre_social_login(request, sociallogin)
