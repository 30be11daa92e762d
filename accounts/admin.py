from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.http import HttpRequest

from accounts.models import RoleChange, User
from accounts.roles import Role, role_of
from accounts.services import user_set_role


class UserAdminForm(UserChangeForm):  # type: ignore[type-arg]
    """Roles are set here as on the role-management page: one role, audited."""

    role = forms.ChoiceField(choices=Role.choices)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["role"].initial = role_of(self.instance)


@admin.register(User)
class UserAdmin(BaseUserAdmin[User]):
    form = UserAdminForm
    ordering = ["email"]
    list_display = ["email", "display_name", "is_active", "is_staff", "date_joined"]
    search_fields = ["email", "display_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("display_name", "first_name", "last_name")}),
        ("Role", {"fields": ("role", "is_active", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "role" in form.changed_data:
            user_set_role(user=obj, role=form.cleaned_data["role"], changed_by=request.user)  # type: ignore[arg-type]


@admin.register(RoleChange)
class RoleChangeAdmin(admin.ModelAdmin[RoleChange]):
    list_display = ["user", "old_role", "new_role", "changed_by", "changed_at"]
    list_filter = ["new_role"]
    search_fields = ["user__email", "changed_by__email"]
    readonly_fields = ["user", "old_role", "new_role", "changed_by", "changed_at"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
