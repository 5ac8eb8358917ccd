"""Services, prices, subscriptions, licences (who pays), Direct Debit mandates and invoices.

Dates are half-open ranges: a row is in force on ``starts_on <= day < ends_on`` (``ends_on`` null =
open-ended). A service removed "on the 16th" has ``ends_on`` = the 16th and is billed up to the 15th.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from partnerdesk.identity.models import Company
from partnerdesk.practice.models import Practice


class Service(models.Model):
    """A product a company can subscribe to (Accounting Start, Payroll, Final Accounts, ...)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100, unique=True)
    product = models.CharField(
        max_length=40, blank=True, help_text="The product slug this service unlocks (OIDC claims, portal)."
    )
    sort_order = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True, help_text="Offered for new subscriptions.")

    class Meta:
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name


class ServicePrice(models.Model):
    """A service's monthly RRP ex VAT from a date on. History is kept; invoices use the price in force."""

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="prices")
    monthly_rrp = models.DecimalField(max_digits=10, decimal_places=2, help_text="Pounds per month, ex VAT.")
    effective_from = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["service", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["service", "effective_from"], name="service_price_one_per_day"),
            models.CheckConstraint(condition=Q(monthly_rrp__gte=0), name="service_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.service}: £{self.monthly_rrp:,.2f} from {self.effective_from.day} {self.effective_from:%B %Y}"


class PracticeDiscount(models.Model):
    """A practice's discount rate (percent off RRP on its discounted accountant-paying licences) from a date on.
    History is kept, as for prices: a change is a new row, and invoices use the rate in force on each day (a day
    before the practice's first row has no discount)."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="discounts")
    rate = models.DecimalField(max_digits=5, decimal_places=2, help_text="Percent off RRP.")
    effective_from = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["practice", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["practice", "effective_from"], name="practice_discount_one_per_day"),
            models.CheckConstraint(condition=Q(rate__gte=0, rate__lte=100), name="practice_discount_rate_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.practice}: {self.rate}% from {self.effective_from.day} {self.effective_from:%B %Y}"


class SubscriptionItem(models.Model):
    """One company's subscription to one service over ``[starts_on, ends_on)``."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="subscription_items")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="subscription_items")
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True, help_text="First day no longer subscribed (exclusive).")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "service"], condition=Q(ends_on__isnull=True), name="subscription_item_one_open"
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")), name="subscription_item_dates"
            ),
        ]
        indexes = [
            models.Index(fields=["starts_on", "ends_on"], name="subscription_item_dates_idx"),
            # A company's items of one service (the overlap triggers, the wizard): one index for both columns, so
            # a planner with stale statistics never intersects the company index with the low-cardinality
            # service index (quadratic on a bulk insert).
            models.Index(fields=["company", "service", "starts_on"], name="subscription_item_company_svc"),
        ]

    def __str__(self) -> str:
        return f"{self.company} / {self.service} [{self.starts_on}, {self.ends_on or '…'})"


class Licence(models.Model):
    """Who pays for a company's subscription over ``[starts_on, ends_on)``.

    Accountant-paying: billed to ``practice`` with its discount. Client-paying: billed to the company at
    full RRP. One-way: once a company has a client-paying licence it never gets an accountant-paying one,
    and a licence's payer and discount never change (database triggers, migration 0002); a check
    constraint forbids a discount on a client-paying licence. Gaps are allowed (a transferred client's
    30-day grace is billed to no one)."""

    class Payer(models.TextChoices):
        ACCOUNTANT = "accountant", "Accountant paying"
        CLIENT = "client", "Client paying"

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="licences")
    payer = models.CharField(max_length=10, choices=Payer.choices)
    practice = models.ForeignKey(Practice, null=True, blank=True, on_delete=models.PROTECT, related_name="licences")
    discounted = models.BooleanField(default=False, help_text="The practice's discount applies (accountant-paying).")
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True, help_text="First day no longer in force (exclusive).")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(payer__in=["accountant", "client"]), name="licence_payer_valid"),
            models.CheckConstraint(
                condition=(Q(payer="accountant") & Q(practice__isnull=False))
                | (Q(payer="client") & Q(practice__isnull=True)),
                name="licence_practice_iff_accountant",
            ),
            models.CheckConstraint(
                condition=~(Q(payer="client") & Q(discounted=True)), name="licence_no_discount_when_client_pays"
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")), name="licence_dates"
            ),
            models.UniqueConstraint(fields=["company"], condition=Q(ends_on__isnull=True), name="licence_one_open"),
        ]
        indexes = [
            models.Index(fields=["company", "starts_on"], name="licence_company_idx"),
            models.Index(fields=["practice", "starts_on"], name="licence_practice_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.company}: {self.payer} [{self.starts_on}, {self.ends_on or '…'})"


class DirectDebitMandate(models.Model):
    """A billing account's Direct Debit instruction. Bank details are Fernet-encrypted with
    FIELD_ENCRYPTION_KEY (newest key first, older keys still decrypt); only masks are kept in clear."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        CANCELLED = "cancelled", "Cancelled"

    company = models.ForeignKey(
        Company,
        on_delete=models.CASCADE,
        related_name="mandates",
        help_text="The billing account (a practice's own company for practices).",
    )
    reference = models.CharField(max_length=20, unique=True)
    account_holder = models.CharField(max_length=140)
    sort_code_encrypted = models.TextField()
    account_number_encrypted = models.TextField()
    sort_code_masked = models.CharField(max_length=8, help_text="e.g. **-**-56")
    account_number_masked = models.CharField(max_length=8, help_text="e.g. ******78")
    declaration_accepted_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["active", "cancelled"]), name="mandate_status_valid"),
            models.UniqueConstraint(fields=["company"], condition=Q(status="active"), name="mandate_one_active"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.status})"


class Invoice(models.Model):
    """One billing account's invoice for one calendar month, issued in arrears on the 1st of the next.

    An issued invoice is a record of what it said: who it was billed to (``billed_to_name``), like each line's
    client name and customer number, is written by the invoice run and never read again from the practice or
    company, so a later rename leaves it as issued."""

    class Kind(models.TextChoices):
        PRACTICE = "practice", "Practice"
        COMPANY = "company", "Company"

    number = models.CharField(max_length=20, unique=True)
    account = models.ForeignKey(
        Company,
        on_delete=models.PROTECT,
        related_name="invoices",
        help_text="Billed company (a practice's own company for practices).",
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    practice = models.ForeignKey(Practice, null=True, blank=True, on_delete=models.PROTECT, related_name="invoices")
    customer_number = models.CharField(max_length=8)
    billed_to_name = models.CharField(
        "billed to",
        max_length=200,
        help_text="Billed to, as issued: the practice's name (practice invoices) or the company's business name.",
    )
    period = models.DateField(help_text="First day of the invoiced month.")
    issued_at = models.DateTimeField(default=timezone.now)
    run = models.UUIDField(
        null=True,
        blank=True,
        editable=False,
        help_text="The invoice run that issued it (set by the run's INSERT; how the run finds its own invoices, "
        "whatever the clock says).",
    )
    subtotal = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    discount_total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    net_total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    vat_total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))

    class Meta:
        ordering = ["-period", "number"]
        constraints = [
            models.UniqueConstraint(fields=["account", "period"], name="invoice_one_per_account_period"),
            models.CheckConstraint(condition=Q(kind__in=["practice", "company"]), name="invoice_kind_valid"),
            models.CheckConstraint(
                condition=(Q(kind="practice") & Q(practice__isnull=False))
                | (Q(kind="company") & Q(practice__isnull=True)),
                name="invoice_practice_iff_kind",
            ),
        ]
        indexes = [models.Index(fields=["period"], name="invoice_period_idx")]

    def __str__(self) -> str:
        return f"{self.number} {self.period:%Y-%m}"


class InvoiceLine(models.Model):
    """One company's one service on an invoice, prorated by days active in the month. The client's business name
    and customer number are as on the day of issue (written by the invoice run, never read live)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    payer = models.CharField(max_length=10, choices=Licence.Payer.choices)
    business_name = models.CharField(max_length=200)
    customer_number = models.CharField(max_length=8)
    starts_on = models.DateField(help_text="First billed day in the period.")
    ends_on = models.DateField(help_text="First day after the billed days (exclusive).")
    days_active = models.PositiveSmallIntegerField()
    days_in_period = models.PositiveSmallIntegerField()
    monthly_rrp = models.DecimalField(max_digits=10, decimal_places=2)
    amount = models.DecimalField(max_digits=12, decimal_places=2, help_text="RRP x days active / days in month.")
    discount_rate = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0"))
    discount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    net = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["business_name", "company_id", "service_id", "starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(payer="client") | (Q(discount=0) & Q(discount_rate=0)),
                name="invoice_line_no_discount_when_client_pays",
            ),
            models.CheckConstraint(
                condition=Q(days_active__gte=1) & Q(days_active__lte=F("days_in_period")), name="invoice_line_days"
            ),
        ]
        indexes = [models.Index(fields=["invoice", "company"], name="invoice_line_company_idx")]

    def __str__(self) -> str:
        return f"{self.invoice_id}: {self.business_name} / {self.service_id}"

    @property
    def prorated(self) -> bool:
        return self.days_active < self.days_in_period
