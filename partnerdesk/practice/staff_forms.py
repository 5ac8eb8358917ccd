"""Forms for the staff and settings pages (parsing only: the rules live in staff_services)."""

from __future__ import annotations

from typing import Any

from django import forms

from partnerdesk.practice.models import PracticeMember


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email address", max_length=254)
    role = forms.ChoiceField(
        label="Role",
        choices=PracticeMember.Role.choices,
        initial=PracticeMember.Role.STAFF,
        help_text="Admins manage staff and settings and see every client.",
    )
    # No choice made for the admin: letting a new person see every client must be a decision, not a default.
    sees_all_clients = forms.TypedChoiceField(
        label="Can see",
        choices=[("0", "Only clients assigned to them"), ("1", "All clients")],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
        required=False,
        empty_value=None,
        help_text="For staff. Admins always see every client.",
    )

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if cleaned.get("role") == PracticeMember.Role.STAFF and cleaned.get("sees_all_clients") is None:
            self.add_error("sees_all_clients", "Choose which clients they can see.")
        return cleaned


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=PracticeMember.Role.choices)


class VisibilityForm(forms.Form):
    sees_all_clients = forms.TypedChoiceField(
        label="Can see",
        choices=[("1", "All clients"), ("0", "Assigned clients only")],
        coerce=lambda value: value == "1",
    )


class SettingsForm(forms.Form):
    name = forms.CharField(
        label="Practice name",
        max_length=200,
        help_text="Also the business name on your practice's own subscription and on its invoices from the next one "
        "(an invoice already issued keeps the name it was issued to).",
    )
    contact_email = forms.EmailField(
        label="Contact email", required=False, help_text="Where clients and Partnerdesk reach the practice."
    )
