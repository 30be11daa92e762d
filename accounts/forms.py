from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import TokenScope, User
from accounts.roles import Role


class ProfileForm(forms.ModelForm[User]):
    class Meta:
        model = User
        fields = ["display_name"]
        labels = {"display_name": "Display name"}
        help_texts = {"display_name": "Shown instead of your email address. May be empty."}


class RoleChangeForm(forms.Form):
    user = forms.IntegerField(widget=forms.HiddenInput)
    # Any string is accepted here so that the service, the single place that knows
    # the roles, gives the error for an unknown one (the page and the API alike).
    role = forms.CharField(max_length=20, widget=forms.Select(choices=Role.choices))


class DeleteAccountForm(forms.Form):
    confirmation = forms.CharField(
        label="Type your email address or your password to confirm",
        strip=False,  # passwords may begin or end with spaces
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_confirmation(self) -> str:
        typed: str = self.cleaned_data["confirmation"]
        if typed.strip().lower() == self.user.email.lower():
            return typed
        if self.user.has_usable_password() and self.user.check_password(typed):
            return typed
        raise forms.ValidationError(
            "That is neither your email address nor your password. Nothing was deleted."
        )


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="What uses the token, such as “CI pipeline” or “LMS sync”."
    )
    scope = forms.ChoiceField(choices=TokenScope.choices, initial=TokenScope.READ)
    expires_in_days = forms.TypedChoiceField(
        label="Expires in",
        coerce=int,
        choices=[(7, "7 days"), (30, "30 days"), (90, "90 days"), (365, "1 year")],
        initial=30,
    )
