"""Permission checks without two queries on every request.

Django's ``ModelBackend`` reads a user's permissions (their own and their groups') once
per user object, and every request loads a new user object: every autosave paid two
joins for ``take_quiz``. ``CachedPermissionBackend`` keeps each user's permission set in
the shared cache (Redis in production) instead, so only the first request after a change
reads them (docs/architecture.md, "Permissions in the cache").

Correctness rests on two things:

- **The key names the exact account.** Database, user id, the moment the account was
  created, and whether it is active and a superuser: an id reused by another database (a
  test run, a second deployment on one Redis) or a flag flipped is a different key.
- **Any change of role or permission invalidates every entry at once**: a membership
  (``user.groups``), a user's own permissions, a group's permissions, a group or a
  permission deleted. The receivers below bump a generation stamp, now and again when the
  transaction commits, so a request that read the old permissions mid-transaction cannot
  leave them cached. ``PERMISSION_CACHE_SECONDS`` bounds how long an entry lives in any
  case (a change made in raw SQL).

Object-level checks are not cached here (``obj`` is never given in Skillmap; Django's
backend answers nothing for objects either): ``access_*`` selectors compare owners.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.core.cache import cache
from django.db import connections, transaction
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save

GENERATION_KEY = "perms:generation"


def _generation_bump() -> None:
    cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)


def permissions_changed(**kwargs: Any) -> None:
    """Forget every cached permission set (a signal receiver; also callable directly)."""
    _generation_bump()
    using = kwargs.get("using") or "default"
    if connections[using].in_atomic_block:
        transaction.on_commit(_generation_bump, using=using)


def _user_key(user: Any) -> str:
    database = connections[user._state.db or "default"].settings_dict["NAME"]
    joined = user.date_joined.timestamp() if user.date_joined else 0
    flags = f"{int(user.is_active)}{int(user.is_superuser)}"
    return f"perms:{database}:{user.pk}:{joined:.6f}:{flags}"


class CachedPermissionBackend(ModelBackend):
    """``ModelBackend``'s permissions, read from the shared cache. Listed first in
    ``AUTHENTICATION_BACKENDS``: the backends after it (Django's and allauth's, which
    authenticate) find the set already on the user object and ask nothing more.

    It authenticates nobody itself, so a failed login is hashed no more often than
    before; it does load the user of a session (``get_user``), as ``ModelBackend``."""

    def authenticate(self, request: Any, *args: Any, **kwargs: Any) -> None:
        return None

    async def aauthenticate(self, request: Any, *args: Any, **kwargs: Any) -> None:
        return None

    def get_all_permissions(self, user_obj: Any, obj: Model | None = None) -> set[str]:
        if (
            not user_obj.is_active
            or isinstance(user_obj, AnonymousUser)
            or user_obj.is_anonymous
            or obj is not None
        ):
            return set()
        if hasattr(user_obj, "_perm_cache"):
            return user_obj._perm_cache  # type: ignore[no-any-return]
        key = _user_key(user_obj)
        found = cache.get_many([GENERATION_KEY, key])
        generation = found.get(GENERATION_KEY)
        entry = found.get(key)
        if generation is None:
            # First use, or evicted: a fresh stamp (add: whoever is first sets it).
            cache.add(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
            generation = cache.get(GENERATION_KEY)
        if entry is not None and generation is not None and entry[0] == generation:
            user_obj._perm_cache = set(entry[1])
            return user_obj._perm_cache  # type: ignore[no-any-return]
        perms = super().get_all_permissions(user_obj)
        if generation is not None:
            cache.set(key, (generation, sorted(perms)), timeout=settings.PERMISSION_CACHE_SECONDS)
        return perms


def connect_invalidation() -> None:
    """Every way a role or permission changes through the ORM forgets the cached sets."""
    from accounts.models import User

    for through in (
        User.groups.through,
        User.user_permissions.through,
        Group.permissions.through,
    ):
        m2m_changed.connect(
            permissions_changed, sender=through, dispatch_uid=f"perms-m2m-{through}"
        )
        post_save.connect(permissions_changed, sender=through, dispatch_uid=f"perms-save-{through}")
        post_delete.connect(
            permissions_changed, sender=through, dispatch_uid=f"perms-del-{through}"
        )
    for model in (Group, Permission):
        name = model._meta.label
        post_save.connect(permissions_changed, sender=model, dispatch_uid=f"perms-save-{name}")
        post_delete.connect(permissions_changed, sender=model, dispatch_uid=f"perms-del-{name}")
