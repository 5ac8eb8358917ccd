from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.validators import MaxLengthValidator

from partnerdesk.lib.text import refuse_hidden_characters
from partnerdesk.practice.models import Client

UK_VAT = re.compile(r"^(GB)?([0-9]{9}|[0-9]{12}|GD[0-4][0-9]{2}|HA[5-9][0-9]{2})$")
UK_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$")
COMPANY_NUMBER = re.compile(r"^([0-9]{8}|[A-Z]{2}[0-9]{6})$")


POSTCODE_INVALID = "Enter a UK postcode, e.g. SW1A 1AA."
VAT_INVALID = "Enter a UK VAT number: GB followed by 9 or 12 digits (e.g. GB123456789)."
COMPANY_NUMBER_INVALID = "Enter the 8-character company number (e.g. 01234567 or SC123456)."
# What a too-long value is told where the length has a meaning of its own; other fields name themselves.
TOO_LONG = {"postcode": POSTCODE_INVALID, "vat_number": VAT_INVALID, "company_number": COMPANY_NUMBER_INVALID}


class ClientDetailsForm(forms.ModelForm[Client]):
    """A client's business details: business name required, the rest optional but well-formed."""

    class Meta:
        model = Client
        fields = Client.DETAIL_FIELDS
        labels = {"vat_number": "VAT number", "company_number": "Company number", "contact_name": "Contact name"}
        help_texts = {
            "email": "Only enter an email address for a participating client if you want them to have access to "
            "their subscription.",
            "vat_number": "UK format, e.g. GB123456789.",
            "company_number": "8 characters, e.g. 01234567 or SC123456.",
        }
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():  # the UI, the API and each imported row go through these fields
            field.validators.append(refuse_hidden_characters)
            # Too long is said in the field's own words (Django's "Ensure this value has at most 10 characters"
            # names no field; a too-long postcode is simply not a UK postcode).
            field.error_messages["max_length"] = TOO_LONG.get(
                name, f"{field.label} can be at most %(limit_value)d characters (it has %(show_value)d)."
            )
            if name in TOO_LONG:  # their patterns bound the length once spaces are taken out ("GB 123 456 789 012")
                field.validators = [v for v in field.validators if not isinstance(v, MaxLengthValidator)]
                field.widget.attrs.pop("maxlength", None)
        if self.instance.pk and self.instance.company_id and self.instance.company.owner_id is None:
            # Non-participating: the seed's hint is about clients with a login; this one has none yet.
            self.fields["email"].help_text = (
                "Optional. To let the client sign in, use Manage → Give client access: it sends the activation "
                "email to the address you enter there."
            )
        if self.instance.pk and self.instance.access == Client.Access.INVITED:
            # Where the activation link went (services.ClientEmailLocked refuses a change).
            email = self.fields["email"]
            email.widget.attrs["readonly"] = True
            email.help_text = (
                "The invitation went to this address. To use another, cancel the invitation, then Give client "
                "access again."
            )

    def clean_business_name(self) -> str:
        name = " ".join(self.cleaned_data["business_name"].split())
        if not name:
            raise forms.ValidationError("Enter the business name.")
        return name

    def clean_vat_number(self) -> str:
        value = re.sub(r"\s", "", self.cleaned_data.get("vat_number", "")).upper()
        if value and not UK_VAT.match(value):
            raise forms.ValidationError(VAT_INVALID)
        return value

    def clean_company_number(self) -> str:
        value = re.sub(r"\s", "", self.cleaned_data.get("company_number", "")).upper()
        if value and not COMPANY_NUMBER.match(value):
            raise forms.ValidationError(COMPANY_NUMBER_INVALID)
        return value

    def clean_postcode(self) -> str:
        value = " ".join(self.cleaned_data.get("postcode", "").upper().split())
        if value and not UK_POSTCODE.match(value):
            raise forms.ValidationError(POSTCODE_INVALID)
        if value and " " not in value:
            value = f"{value[:-3]} {value[-3:]}"
        return value

    def clean_email(self) -> str:
        return self.cleaned_data.get("email", "").strip().lower()


def detail_label(field: str) -> str:
    """A detail field as the Details form names it ("vat_number" -> "VAT number")."""
    form_field = ClientDetailsForm.base_fields.get(field)
    return str(form_field.label) if form_field is not None and form_field.label else field
