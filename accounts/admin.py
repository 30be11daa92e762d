"""Django admin for accounts.

The role is the only source of privilege here too: the change form offers the role (set
through the same audited service as the role-management page, with the same guards) and,
to superusers only, superuser status (through ``user_set_superuser``). ``is_staff``,
``is_superuser``, groups and user permissions are never form fields, so a crafted POST
setting them is ignored; an administrator who is not a superuser cannot change a
superuser's account at all (including the password).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from accounts.models import RoleChange, User
from accounts.roles import Role, role_of
from accounts.services import (
    check_role_change,
    check_superuser_change,
    user_change_role,
    user_set_superuser,
)

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldsetSpec


class UserAdminForm(UserChangeForm):  # type: ignore[type-arg]
    """Roles are set here as on the role-management page: one role, audited, same guards."""

    role = forms.ChoiceField(choices=Role.choices)
    # The administrator using the form; set per request by UserAdmin.get_form.
    actor: ClassVar[User | None] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["role"].initial = role_of(self.instance)

    def clean(self) -> dict[str, Any] | None:
        super().clean()
        cleaned = self.cleaned_data
        role = cleaned.get("role")
        if self.actor is not None and self.instance.pk and role and "role" in self.changed_data:
            try:
                check_role_change(actor=self.actor, user=self.instance, role=role)
            except ValidationError as exc:
                self.add_error("role", exc)
        return cleaned


class SuperuserAdminForm(UserAdminForm):
    """What a superuser gets: the role, and superuser status (audited)."""

    superuser = forms.BooleanField(
        label="Superuser status",
        required=False,
        help_text="Every permission without being granted it. Administrators only; audited.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["superuser"].initial = self.instance.is_superuser

    def clean(self) -> dict[str, Any] | None:
        super().clean()
        cleaned = self.cleaned_data
        if self.actor is None or not self.instance.pk or "superuser" not in cleaned:
            return cleaned
        value = bool(cleaned["superuser"])
        if value or "superuser" in self.changed_data:
            try:
                check_superuser_change(
                    actor=self.actor,
                    user=self.instance,
                    value=value,
                    role=cleaned.get("role") or role_of(self.instance),
                )
            except ValidationError as exc:
                self.add_error("superuser", exc)
        return cleaned


@admin.register(User)
class UserAdmin(BaseUserAdmin[User]):
    form = UserAdminForm
    ordering = ["email"]
    list_display = ["email", "display_name", "is_active", "is_staff", "date_joined"]
    search_fields = ["email", "display_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("display_name", "first_name", "last_name")}),
        ("Role", {"fields": ("role", "is_active")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    superuser_fieldsets: ClassVar[_FieldsetSpec] = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("display_name", "first_name", "last_name")}),
        ("Role", {"fields": ("role", "superuser", "is_active")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def get_fieldsets(self, request: HttpRequest, obj: User | None = None) -> _FieldsetSpec:
        if obj is not None and request.user.is_superuser:
            return self.superuser_fieldsets
        return super().get_fieldsets(request, obj)

    def get_form(  # type: ignore[override]
        self, request: HttpRequest, obj: User | None = None, **kwargs: Any
    ) -> type[forms.ModelForm[User]]:
        if obj is not None:
            kwargs["form"] = SuperuserAdminForm if request.user.is_superuser else UserAdminForm
        form = super().get_form(request, obj, **kwargs)
        if issubclass(form, UserAdminForm) and isinstance(request.user, User):
            form.actor = request.user
        return form

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        # Changing a superuser's email or password would be a way to become one.
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change or not isinstance(request.user, User):
            return
        # The form has run the services' checks; the services check again.
        if "role" in form.changed_data:
            user_change_role(actor=request.user, user=obj, role=form.cleaned_data["role"])
        if "superuser" in form.changed_data:
            user_set_superuser(actor=request.user, user=obj, value=form.cleaned_data["superuser"])


# An audit row is shown whole and never edited.
_AUDIT_FIELDS = (
    "user",
    "old_role",
    "new_role",
    "old_superuser",
    "new_superuser",
    "changed_by",
    "changed_at",
)


@admin.register(RoleChange)
class RoleChangeAdmin(admin.ModelAdmin[RoleChange]):
    list_display = _AUDIT_FIELDS
    list_filter = ["new_role", "new_superuser"]
    search_fields = ["user__email", "changed_by__email"]
    readonly_fields = _AUDIT_FIELDS

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
