from __future__ import annotations

from django import forms

from partnerdesk.api.services import MAX_TOKEN_DAYS
from partnerdesk.identity.products import PORTALS, PRODUCTS
from partnerdesk.lib.text import refuse_hidden_characters


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="Token name", max_length=100, help_text="What the token is for, e.g. “Nightly export script”."
    )
    days = forms.IntegerField(
        label="Valid for (days)", min_value=1, max_value=MAX_TOKEN_DAYS, initial=90, help_text="Between 1 and 366 days."
    )


class SignupDetailsForm(forms.Form):
    """Extra fields on allauth's Create account form (email and password twice come from allauth)."""

    full_name = forms.CharField(
        label="Full name",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        validators=[refuse_hidden_characters],
    )

    def clean_full_name(self) -> str:
        name = " ".join(self.cleaned_data["full_name"].split())
        if not name:
            raise forms.ValidationError("Enter your full name.")
        return name

    def signup(self, request: object, user: object) -> None:
        """Required by allauth; the adapter's save_user has already stored the name."""


class PortalChoiceForm(forms.Form):
    """Step one of signing in: which portal, then which product."""

    portal = forms.ChoiceField(label="Portal", choices=[("", "Select a portal"), *PORTALS])
    product = forms.ChoiceField(
        label="Product", choices=[("", "Select a product"), *[(p.slug, p.name) for p in PRODUCTS]]
    )


class LinkSubscriptionForm(forms.Form):
    number = forms.CharField(
        label="Customer Number or Registration ID",
        max_length=20,
        help_text="Your Customer Number is on your invoice. Your Registration ID starts with MBR: "
        "enter it in full or just its last 6 digits.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )
    email = forms.EmailField(
        label="Email Address",
        help_text="The email address of the Subscription Owner (Administrator). If that is you, enter your own.",
    )

    def clean_number(self) -> str:
        from partnerdesk.identity.services import InvalidSubscriptionNumber, parse_subscription_number

        try:
            parse_subscription_number(self.cleaned_data["number"])
        except InvalidSubscriptionNumber as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from None
        return str(self.cleaned_data["number"])


class InviteAccountantForm(forms.Form):
    email = forms.EmailField(
        label="Your accountant's email address", help_text="The email address your practice uses for Partner Edition."
    )
