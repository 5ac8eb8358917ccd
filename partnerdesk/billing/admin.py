"""Back office for billing: the service catalogue and its prices (a price change is a new row from a date;
rows already written are never edited, so invoices keep the price they used), subscriptions, licences and
mandates (read-only: bank details are never shown, only their masks)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.forms import BaseInlineFormSet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from partnerdesk.billing import services
from partnerdesk.billing.models import (
    DirectDebitMandate,
    Invoice,
    InvoiceLine,
    Licence,
    Service,
    ServicePrice,
    SubscriptionItem,
)
from partnerdesk.billing.selectors import today
from partnerdesk.identity.models import User
from partnerdesk.ledger.templatetags.money import pounds
from partnerdesk.lib.admin import ReadOnlyAdminMixin
from partnerdesk.lib.errors import DomainError


class ServicePriceFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        first_open_day = today().replace(day=1)
        for form in self.forms:
            if form.instance.pk is not None or not form.has_changed() or not getattr(form, "cleaned_data", None):
                continue
            effective_from = form.cleaned_data.get("effective_from")
            if effective_from is not None and effective_from < first_open_day:
                form.add_error(
                    "effective_from",
                    f"A price can start on {first_open_day:%-d %B %Y} at the earliest: earlier months are invoiced.",
                )


class ServicePriceForm(forms.ModelForm[ServicePrice]):
    def clean_monthly_rrp(self) -> Decimal | None:
        """A field error in the service's words, not the database constraint's name."""
        rrp: Decimal | None = self.cleaned_data.get("monthly_rrp")
        if rrp is not None and rrp < 0:
            raise forms.ValidationError("Enter a monthly price of £0.00 or more.", code="price_invalid")
        return rrp


class ServicePriceInline(admin.TabularInline[ServicePrice, Service]):
    """A new price from a date on. The prices already written are shown above (Prices), never as editable rows."""

    model = ServicePrice
    form = ServicePriceForm
    formset = ServicePriceFormSet
    extra = 1
    fields = ["effective_from", "monthly_rrp"]
    can_delete = False
    verbose_name = "new price"
    verbose_name_plural = "New price"

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).none()  # only new rows here: history is the Prices table

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # existing rows are read-only; new rows are still added (has_add_permission)


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin[Service]):
    list_display = ["name", "code", "product", "sort_order", "is_active"]
    list_filter = ["is_active", "product"]
    search_fields = ["name", "code"]
    readonly_fields = ["price_history"]
    inlines = [ServicePriceInline]

    @admin.display(description="Prices")
    def price_history(self, obj: Service) -> str:
        """Every price from its date, newest first, as people write them (£14.00, 1 January 2026)."""
        rows = list(obj.prices.order_by("-effective_from")) if obj.pk else []
        if not rows:
            return "None yet"
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    f"{row.effective_from.day} {row.effective_from:%B %Y}",
                    pounds(row.monthly_rrp),
                    f"{timezone.localtime(row.created_at).day} {timezone.localtime(row.created_at):%B %Y}",
                )
                for row in rows
            ),
        )
        return format_html(
            '<table><thead><tr><th scope="col">From</th><th scope="col">Monthly RRP</th>'
            '<th scope="col">Added</th></tr></thead><tbody>{}</tbody></table>',
            body,
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # services are referenced by subscriptions and invoices: make them inactive instead

    def save_formset(self, request: HttpRequest, form: Any, formset: BaseInlineFormSet, change: bool) -> None:
        if formset.model is not ServicePrice:
            super().save_formset(request, form, formset, change)
            return
        assert isinstance(request.user, User)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.forms:
            if not inline_form.has_changed() or inline_form.instance.pk is not None:
                continue  # existing prices are never edited
            data = inline_form.cleaned_data
            if not data or data.get("DELETE"):
                continue
            try:
                price = services.service_price_set(
                    service=form.instance,
                    monthly_rrp=data["monthly_rrp"],
                    effective_from=data["effective_from"],
                    actor=request.user,
                    request=request,
                )
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                formset.new_objects.append(price)


@admin.register(SubscriptionItem)
class SubscriptionItemAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[SubscriptionItem]):
    list_display = ["company", "service", "starts_on", "ends_on"]
    list_filter = ["service"]
    search_fields = ["company__business_name", "company__customer_number"]
    raw_id_fields = ["company", "created_by", "ended_by"]


@admin.register(Licence)
class LicenceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Licence]):
    list_display = ["company", "payer", "practice", "discounted", "starts_on", "ends_on"]
    list_select_related = ["company", "practice"]  # the practice is nullable: Django would not join it by itself
    list_filter = ["payer", "discounted"]
    search_fields = ["company__business_name", "company__customer_number", "practice__name"]


@admin.register(DirectDebitMandate)
class DirectDebitMandateAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[DirectDebitMandate]):
    list_display = ["reference", "company", "account_holder", "sort_code_masked", "account_number_masked", "status"]
    list_filter = ["status"]
    search_fields = ["reference", "company__business_name", "company__customer_number"]
    MANDATE_FIELDS = (
        "reference",
        "company",
        "account_holder",
        "sort_code_masked",
        "account_number_masked",
        "status",
        "declaration_accepted_at",
        "created_by",
        "created_at",
        "cancelled_at",
    )
    fields = MANDATE_FIELDS
    readonly_fields = MANDATE_FIELDS


class InvoiceLineInline(ReadOnlyAdminMixin, admin.TabularInline[InvoiceLine, Invoice]):
    """An issued invoice's lines, as written by the invoice run (never edited)."""

    model = InvoiceLine
    extra = 0
    can_delete = False
    LINE_FIELDS = (
        "business_name",
        "customer_number",
        "service",
        "payer",
        "starts_on",
        "ends_on",
        "days",
        "rrp",
        "amount_shown",
        "discount_shown",
        "net_shown",
    )
    fields = LINE_FIELDS
    readonly_fields = LINE_FIELDS

    @admin.display(description="Days")
    def days(self, obj: InvoiceLine) -> str:
        return f"{obj.days_active} of {obj.days_in_period}"

    @admin.display(description="Monthly RRP")
    def rrp(self, obj: InvoiceLine) -> str:
        return pounds(obj.monthly_rrp)

    @admin.display(description="Amount")
    def amount_shown(self, obj: InvoiceLine) -> str:
        return pounds(obj.amount)

    @admin.display(description="Discount")
    def discount_shown(self, obj: InvoiceLine) -> str:
        return f"{pounds(obj.discount)} ({obj.discount_rate}%)" if obj.discount else pounds(obj.discount)

    @admin.display(description="Net")
    def net_shown(self, obj: InvoiceLine) -> str:
        return pounds(obj.net)

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("service")


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Invoice]):
    """Issued invoices, read-only: the invoice run writes them and nobody edits one afterwards."""

    list_display = [
        "number",
        "month",
        "billed_to_name",
        "customer_number",
        "kind",
        "net",
        "vat",
        "total_shown",
        "issued_at",
    ]
    list_filter = ["kind", "period"]
    search_fields = ["number", "customer_number", "billed_to_name", "account__business_name", "practice__name"]
    # "Billed to" is the name as issued; account and practice link to the records as they are today.
    INVOICE_FIELDS = (
        "number",
        "kind",
        "billed_to_name",
        "account",
        "practice",
        "customer_number",
        "month",
        "issued_at",
        "subtotal_shown",
        "discount_total_shown",
        "net",
        "vat",
        "total_shown",
    )
    fields = INVOICE_FIELDS
    readonly_fields = INVOICE_FIELDS
    inlines = [InvoiceLineInline]

    @admin.display(description="Month", ordering="period")
    def month(self, obj: Invoice) -> str:
        return f"{obj.period:%B %Y}"

    @admin.display(description="Subtotal")
    def subtotal_shown(self, obj: Invoice) -> str:
        return pounds(obj.subtotal)

    @admin.display(description="Discount")
    def discount_total_shown(self, obj: Invoice) -> str:
        return pounds(obj.discount_total)

    @admin.display(description="Net", ordering="net_total")
    def net(self, obj: Invoice) -> str:
        return pounds(obj.net_total)

    @admin.display(description="VAT", ordering="vat_total")
    def vat(self, obj: Invoice) -> str:
        return pounds(obj.vat_total)

    @admin.display(description="Total", ordering="total")
    def total_shown(self, obj: Invoice) -> str:
        return pounds(obj.total)
