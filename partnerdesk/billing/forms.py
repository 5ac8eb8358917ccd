from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django import forms

from partnerdesk.billing import services
from partnerdesk.billing.models import Licence, Service
from partnerdesk.lib.errors import DomainError


def _via(normalise: Callable[[str], str], value: str) -> str:
    """Run one of the service's normalisers, turning its domain error into the field's error."""
    try:
        return normalise(value)
    except DomainError as exc:
        raise forms.ValidationError(exc.message, code=exc.code) from None


class MandateForm(forms.Form):
    """Direct Debit: account holder, sort code (6 digits), account number (8 digits) and the declaration."""

    account_holder = forms.CharField(
        label="Account holder name",
        max_length=140,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    sort_code = forms.CharField(
        label="Sort code",
        max_length=8,
        required=False,
        help_text="6 digits, e.g. 12-34-56.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    account_number = forms.CharField(
        label="Account number",
        max_length=10,
        required=False,
        help_text="8 digits.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    declaration = forms.BooleanField(label=services.DECLARATION, required=False)

    def clean_account_holder(self) -> str:
        return _via(services.normalise_account_holder, self.cleaned_data.get("account_holder", ""))

    def clean_sort_code(self) -> str:
        return _via(services.normalise_sort_code, self.cleaned_data.get("sort_code", ""))

    def clean_account_number(self) -> str:
        return _via(services.normalise_account_number, self.cleaned_data.get("account_number", ""))

    def clean_declaration(self) -> bool:
        if not self.cleaned_data.get("declaration"):
            raise forms.ValidationError(
                "Confirm that you are the account holder and the only person required to authorise debits.",
                code="declaration_required",
            )
        return True


class AddServiceForm(forms.Form):
    service = forms.ModelChoiceField(queryset=Service.objects.none(), label="Service", empty_label="Choose a service")

    def __init__(
        self, *args: Any, exclude_ids: set[int] | None = None, current: Sequence[Service] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["service"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Service.objects.filter(is_active=True).exclude(pk__in=exclude_ids or set())
        # One plan per product: say which current service an option would replace.
        in_force: dict[str, list[str]] = {}
        for service in current:
            if service.product:
                in_force.setdefault(service.product, []).append(service.name)

        def label(service: Service) -> str:
            others = [name for name in in_force.get(service.product, []) if name != service.name]
            return f"{service.name} (replaces {', '.join(others)})" if service.product and others else service.name

        field.label_from_instance = label  # type: ignore[assignment,method-assign]


class ImportedSubscriptionsForm(forms.Form):
    """Imported tab -> Add subscriptions: services and who pays for the chosen clients."""

    services = forms.ModelMultipleChoiceField(
        queryset=Service.objects.filter(is_active=True),
        widget=forms.CheckboxSelectMultiple,
        label="Services",
        error_messages={"required": "Choose at least one service."},
    )
    payer = forms.ChoiceField(
        choices=[
            (Licence.Payer.ACCOUNTANT, "Accountant paying (your practice pays, with its discount)"),
            (Licence.Payer.CLIENT, "Client paying (the client pays full RRP; give each client access below)"),
        ],
        widget=forms.RadioSelect,
        label="Who pays",
        error_messages={"required": "Choose who pays."},
    )
