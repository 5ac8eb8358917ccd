"""Forms for the client access lifecycle: Invite your client, Stop Managing This Client, activation."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError

from partnerdesk.identity.models import User
from partnerdesk.lib.text import refuse_hidden_characters
from partnerdesk.practice.lifecycle import StopMode


class InviteClientForm(forms.Form):
    """The Invite your client window: the email twice."""

    email = forms.EmailField(label="Client's email address", max_length=254)
    email_confirm = forms.EmailField(label="Confirm email address", max_length=254)

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        first, second = cleaned.get("email"), cleaned.get("email_confirm")
        if first and second and first.strip().lower() != second.strip().lower():
            self.add_error("email_confirm", "The two email addresses do not match.")
        return cleaned


class StopManagingForm(forms.Form):
    """Non-participating: Transfer or Delete (Delete also asks for the business name, typed)."""

    mode = forms.ChoiceField(
        label="What should happen to this client's data and subscription?",
        widget=forms.RadioSelect,
        choices=[
            (StopMode.TRANSFER, "Transfer this data and subscription to your client"),
            (StopMode.DELETE, "Delete this data and cancel the subscription"),
        ],
    )
    confirm_business_name = forms.CharField(
        label="To delete, type the business name",
        required=False,
        max_length=200,
        help_text="Deleting cannot be undone: the client's bookkeeping data is erased.",
    )

    def __init__(self, *args: Any, business_name: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.business_name = business_name

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if cleaned.get("mode") == StopMode.DELETE:
            typed = " ".join(cleaned.get("confirm_business_name", "").split()).casefold()
            if typed != " ".join(self.business_name.split()).casefold():
                self.add_error("confirm_business_name", f"Type {self.business_name} exactly to confirm.")
        return cleaned


class ActivateAccountForm(forms.Form):
    """No account yet for the invited address: the link proves the email, so only a name and a password."""

    full_name = forms.CharField(label="Full name", max_length=150, validators=[refuse_hidden_characters])
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 12 characters. A few unrelated words make a strong password. Not a common password, "
        "not like your name or email address, and not only numbers.",
    )
    password2 = forms.CharField(
        label="Password (again)", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "You must type the same password each time.")
        elif first:
            candidate = User(email=self.email, full_name=cleaned.get("full_name", ""))
            try:
                password_validation.validate_password(first, candidate)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned
