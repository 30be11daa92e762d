"""Personal API tokens: create (the secret is shown once), list, revoke, authenticate.

A token reads ``skm_<prefix>_<secret>``: the prefix (public, unique) finds the row and the
whole token is checked against its stored SHA-256 digest in constant time. The secret is
256 random bits, so a fast hash is enough: a slow password hash protects guessable
secrets, and nobody guesses 256 bits (GitHub and PyPI store their tokens the same way).
A token acts as its account, narrowed by its scope (``TokenScope``), and never beyond
the account's own permissions; it stops working when it expires, is revoked, or its
account is deactivated.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import ApiToken, TokenScope, User

TOKEN_PREFIX = "skm_"  # noqa: S105 (the public start of every token, not a secret)
MAX_TOKEN_DAYS = 366
MAX_ACTIVE_TOKENS = 50
NAME_MAX = 100
# Writing last_used_at on every request would make every API read a write.
LAST_USED_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # the whole token, shown once


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_token_name(name: str) -> str:
    """The name, trimmed; ValidationError (on ``name``) if it is empty, too long or holds
    characters that cannot be shown."""
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        raise ValidationError({"name": ["Give the token a name, such as the script that uses it."]})
    if len(name) > NAME_MAX:
        raise ValidationError({"name": [f"The name has more than {NAME_MAX} characters."]})
    if any(unicodedata.category(c) in ("Cc", "Cs", "Cn") for c in name):
        raise ValidationError({"name": ["The name holds characters that cannot be shown."]})
    return name


def active_tokens(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(
        user=user, revoked_at__isnull=True, expires_at__gt=timezone.now()
    )


def api_token_create(
    *,
    user: User,
    name: str,
    scope: str,
    days: int,
    within: ApiToken | None = None,
) -> NewToken:
    """Create a token for ``user`` valid for ``days`` days. ``within`` is the token the
    request came with, if any: a token cannot make a token with a wider scope or a later
    expiry than its own. Raises ValidationError naming the field at fault."""
    name = check_token_name(name)
    if scope not in TokenScope.values:
        raise ValidationError({"scope": [f"Choose one of: {', '.join(TokenScope.values)}."]})
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_TOKEN_DAYS:
        raise ValidationError({"expires_in_days": [f"Choose from 1 to {MAX_TOKEN_DAYS} days."]})
    expires_at = timezone.now() + timedelta(days=days)
    if within is not None:
        if not within.allows(scope):
            raise ValidationError(
                {"scope": [f"A token with scope {within.scope!r} cannot create a wider one."]}
            )
        expires_at = min(expires_at, within.expires_at)
    if active_tokens(user).count() >= MAX_ACTIVE_TOKENS:
        raise ValidationError(
            {"name": [f"You have {MAX_ACTIVE_TOKENS} active tokens; revoke one first."]}
        )
    prefix = secrets.token_hex(4)
    secret = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user,
        name=name,
        scope=scope,
        prefix=prefix,
        digest=_digest(secret),
        expires_at=expires_at,
    )
    return NewToken(token=token, secret=secret)


def api_token_revoke(*, user: User, token_id: int) -> ApiToken:
    """Revoke one of ``user``'s tokens (idempotent). ApiToken.DoesNotExist for a token
    that is not theirs, so ids do not leak."""
    token = ApiToken.objects.get(pk=token_id, user=user)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_authenticate(*, secret: str) -> ApiToken | None:
    """The live token ``secret`` is, with its user; None for anything else."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    prefix, _, rest = secret[len(TOKEN_PREFIX) :].partition("_")
    if not prefix or not rest:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
    if token is None or not hmac.compare_digest(token.digest, _digest(secret)):
        return None
    now = timezone.now()
    if token.revoked_at is not None or token.expires_at <= now or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def token_list(user: User) -> QuerySet[ApiToken]:
    """Every token of ``user``, newest first, revoked and expired ones included."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")
