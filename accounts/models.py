from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models

from accounts.roles import Role, role_of, user_create


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        # Every new account starts as a learner; superusers are admins too.
        role = Role.ADMIN if user.is_superuser else Role.LEARNER
        return user_create(user=user, role=role, using=self._db)

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create(email, password, **extra)


class User(AbstractUser):
    """A person using Skillmap; identified by email address."""

    username = None  # type: ignore[assignment]
    email = models.EmailField("email address", unique=True)
    display_name = models.CharField(max_length=150, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    class Meta:
        permissions = [
            ("manage_roles", "Can change the roles of users"),
            ("view_learner_results", "Can read learners' results"),
        ]

    def __str__(self) -> str:
        return self.display_name or self.email

    @property
    def role(self) -> str:
        return role_of(self)


class RoleChange(models.Model):
    """Audit record: who changed whose role or superuser status, from what to what, and when.

    Superuser status changes only with the role (leaving the admin role drops it) or through
    ``user_set_superuser``; a row records both before and after.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_changes"
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    old_role = models.CharField(max_length=20)
    new_role = models.CharField(max_length=20)
    old_superuser = models.BooleanField(default=False)
    new_superuser = models.BooleanField(default=False)
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_at"]

    def __str__(self) -> str:
        text = f"{self.user}: {self.old_role} → {self.new_role}"
        if self.old_superuser != self.new_superuser:
            text += " (superuser granted)" if self.new_superuser else " (superuser removed)"
        return text


class TokenScope(models.TextChoices):
    """What a personal API token may do, on top of what its account may do.

    Ordered: each scope allows everything the ones before it allow (``SCOPE_ORDER``).
    """

    READ = "read", "Read only"
    LEARNER = "learner", "Learner: read, take quizzes and submit code"
    INSTRUCTOR = "instructor", "Instructor: everything the account may do"


SCOPE_ORDER = (TokenScope.READ, TokenScope.LEARNER, TokenScope.INSTRUCTOR)


class ApiToken(models.Model):
    """A personal API token. Only a digest of the secret is stored: the secret is shown
    once, when the token is created (``accounts.tokens.api_token_create``)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    scope = models.CharField(max_length=12, choices=TokenScope.choices)
    # The public part of the token (``skm_<prefix>_…``): finds the row, and lets people
    # tell their tokens apart in lists. Never enough to use the token.
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    def allows(self, scope: str) -> bool:
        """Whether this token's scope includes ``scope``."""
        return SCOPE_ORDER.index(TokenScope(self.scope)) >= SCOPE_ORDER.index(TokenScope(scope))
