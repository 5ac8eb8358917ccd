from __future__ import annotations

from django import forms

from partnerdesk.api.services import MAX_TOKEN_DAYS


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="Token name", max_length=100, help_text="What the token is for, e.g. “Nightly export script”."
    )
    days = forms.IntegerField(
        label="Valid for (days)", min_value=1, max_value=MAX_TOKEN_DAYS, initial=90, help_text="Between 1 and 366 days."
    )
