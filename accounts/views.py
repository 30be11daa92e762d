"""Account pages: the profile, deleting one's account, and role management."""

from __future__ import annotations

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount, SocialApp
from allauth.socialaccount.providers import registry
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.forms import ApiTokenForm, DeleteAccountForm, ProfileForm, RoleChangeForm
from accounts.models import User
from accounts.profile import profile_sections
from accounts.roles import Role
from accounts.selectors import role_change_list_recent, user_list_with_roles
from accounts.services import user_change_role, user_delete_account, user_update_profile
from accounts.tokens import api_token_create, api_token_revoke, token_list

ROLE_PAGE_SIZE = 50
NEW_TOKEN_KEY = "new_api_token"  # noqa: S105 (a session key, not a secret)


def _user(request: HttpRequest) -> User:
    # login_required has run: the user is a real account.
    assert isinstance(request.user, User)
    return request.user


def _provider_name(request: HttpRequest, account: SocialAccount) -> str:
    # A connection outlives its provider's configuration (credentials removed from the
    # environment): still show it, under the provider class's name.
    try:
        return str(account.get_provider(request).name)
    except SocialApp.DoesNotExist:
        provider_class = registry.get_class(account.provider)
        return str(provider_class.name) if provider_class else account.provider


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = ProfileForm(request.POST if request.method == "POST" else None, instance=user)
    if request.method == "POST" and form.is_valid():
        user_update_profile(user=user, display_name=form.cleaned_data["display_name"])
        messages.success(request, "Your profile was saved.")
        return redirect("profile")
    context = {
        "form": form,
        "has_password": user.has_usable_password(),
        "mfa_enabled": Authenticator.objects.filter(user=user).exists(),
        "social_accounts": [
            _provider_name(request, account)
            for account in SocialAccount.objects.filter(user=user).order_by("provider")
        ],
        "sections": profile_sections(request),
    }
    return render(request, "accounts/profile.html", context, status=400 if form.errors else 200)


@login_required
@never_cache  # the page that shows a new token once must never be kept by a cache
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    """Personal API tokens: create one (its secret is shown once, on the page after the
    redirect), list, revoke."""
    user = _user(request)
    form = ApiTokenForm(request.POST if request.POST.get("action") == "create" else None)
    new_secret = None
    if request.POST.get("action") == "revoke":
        token_id = request.POST.get("token", "")
        try:
            token = api_token_revoke(user=user, token_id=int(token_id) if token_id.isdigit() else 0)
        except ObjectDoesNotExist:
            messages.error(request, "That token does not exist.")
        else:
            messages.success(request, f"The token “{token.name}” is revoked.")
        return redirect("api-tokens")
    if form.is_bound and form.is_valid():
        try:
            new = api_token_create(
                user=user,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                days=form.cleaned_data["expires_in_days"],
            )
        except ValidationError as exc:
            for field, problems in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            # Shown once, on the page the redirect leads to (so a reload cannot create a
            # second token); the session holds it only until then.
            request.session[NEW_TOKEN_KEY] = new.secret
            return redirect("api-tokens")
    if request.method == "GET":
        new_secret = request.session.pop(NEW_TOKEN_KEY, None)
    context = {
        "form": form,
        "tokens": token_list(user),
        "new_secret": new_secret,
        "now": timezone.now(),
    }
    return render(request, "accounts/api_tokens.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def account_delete(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = DeleteAccountForm(request.POST if request.method == "POST" else None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            user_delete_account(user=user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            get_account_adapter(request).logout(request)
            messages.success(request, "Your account was deleted.")
            return redirect("home")
    return render(
        request, "accounts/account_delete.html", {"form": form}, status=400 if form.errors else 200
    )


@login_required
@permission_required("accounts.manage_roles", raise_exception=True)
@require_http_methods(["GET", "POST"])
def role_management(request: HttpRequest) -> HttpResponse:
    form = RoleChangeForm(request.POST if request.method == "POST" else None)
    failed_user_id: int | None = None
    if request.method == "POST" and form.is_valid():
        target = User.objects.filter(pk=form.cleaned_data["user"]).first()
        if target is None:
            form.add_error(None, "That user no longer exists.")
        else:
            try:
                change = user_change_role(
                    actor=_user(request), user=target, role=form.cleaned_data["role"]
                )
            except ValidationError as exc:
                form.add_error(None, exc)
                failed_user_id = target.pk
            else:
                if change is None:
                    messages.info(request, f"{target.email} already was {target.role}.")
                else:
                    messages.success(
                        request,
                        f"{target.email} is now {change.new_role} (was {change.old_role}).",
                    )
                return redirect(request.get_full_path())
    search = request.GET.get("q", "")
    page = Paginator(user_list_with_roles(search=search), ROLE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "form": form if form.is_bound else None,
        "failed_user_id": failed_user_id,
        "page": page,
        "search": search,
        "roles": Role.choices,
        "recent_changes": role_change_list_recent(),
    }
    return render(
        request, "accounts/role_management.html", context, status=400 if form.errors else 200
    )
