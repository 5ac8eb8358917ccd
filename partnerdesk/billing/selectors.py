"""Reads for billing: the catalogue and prices in force, subscriptions in force, who pays, and the summary
of a removal (what changes, from when, the effect on the next invoice).

Ranges are half-open: a row is in force on ``day`` when ``starts_on <= day < ends_on`` (``ends_on`` null =
open-ended). Money is pence-exact, ROUND_HALF_UP at line level (as on the invoice lines).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import DecimalField, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from partnerdesk.billing.licences import licence_current
from partnerdesk.billing.models import (
    DirectDebitMandate,
    Licence,
    PracticeDiscount,
    Service,
    ServicePrice,
    SubscriptionItem,
)
from partnerdesk.identity.models import Company
from partnerdesk.practice.models import Practice

PENNY = Decimal("0.01")


def today() -> dt.date:
    """Today in Europe/London (billing periods are London calendar months)."""
    return timezone.localdate()


def in_force_q(on: dt.date, prefix: str = "") -> Q:
    """Rows in force on ``on`` (half-open ``[starts_on, ends_on)``)."""
    return Q(**{f"{prefix}starts_on__lte": on}) & (
        Q(**{f"{prefix}ends_on__isnull": True}) | Q(**{f"{prefix}ends_on__gt": on})
    )


def price_in_force(*, service: Service, on: dt.date) -> Decimal | None:
    """The service's monthly RRP ex VAT on a day (the newest price row effective on or before it)."""
    return (
        ServicePrice.objects.filter(service=service, effective_from__lte=on)
        .order_by("-effective_from")
        .values_list("monthly_rrp", flat=True)
        .first()
    )


def discount_rate_in_force(*, practice: Practice | int, on: dt.date) -> Decimal:
    """The practice's discount rate (percent off RRP) on a day: the newest row effective on or before it; none
    before the practice's first row."""
    practice_id = practice if isinstance(practice, int) else practice.pk
    rate = (
        PracticeDiscount.objects.filter(practice_id=practice_id, effective_from__lte=on)
        .order_by("-effective_from")
        .values_list("rate", flat=True)
        .first()
    )
    return rate if rate is not None else Decimal("0.00")


def discount_rate_subquery(*, on: dt.date, practice_field: str = "pk") -> Subquery:
    """``discount_rate_in_force`` as a subquery for many practices at once (``practice_field``: the outer query's
    practice id). NULL before the practice's first row, which callers read as no discount (0.00)."""
    return Subquery(
        PracticeDiscount.objects.filter(practice_id=OuterRef(practice_field), effective_from__lte=on)
        .order_by("-effective_from")
        .values("rate")[:1]
    )


def discounts_scheduled(*, practice: Practice, after: dt.date) -> list[PracticeDiscount]:
    """The practice's discount changes dated after ``after`` (announced, not yet in force), soonest first."""
    return list(PracticeDiscount.objects.filter(practice=practice, effective_from__gt=after).order_by("effective_from"))


def _price_subquery(on: dt.date) -> Subquery:
    return Subquery(
        ServicePrice.objects.filter(service=OuterRef("pk"), effective_from__lte=on)
        .order_by("-effective_from")
        .values("monthly_rrp")[:1],
        output_field=DecimalField(max_digits=10, decimal_places=2),
    )


def catalogue(*, on: dt.date | None = None) -> QuerySet[Service]:
    """Services offered for new subscriptions, each annotated with ``monthly_rrp`` in force (one query)."""
    return (
        Service.objects.filter(is_active=True)
        .annotate(monthly_rrp=_price_subquery(on or today()))
        .order_by("sort_order", "name")
    )


def services_by_ids(*, ids: Iterable[int]) -> list[Service]:
    return list(Service.objects.filter(pk__in=set(ids)).order_by("sort_order", "name"))


def services_by_codes(*, codes: Iterable[str]) -> list[Service]:
    return list(Service.objects.filter(code__in=set(codes)).order_by("sort_order", "name"))


def active_services(*, company: Company, on: dt.date | None = None) -> QuerySet[SubscriptionItem]:
    """The company's subscription items in force on a day (today by default), service joined."""
    return (
        SubscriptionItem.objects.filter(in_force_q(on or today()), company=company)
        .select_related("service")
        .order_by("service__sort_order", "service__name")
    )


def alternatives_in_force(*, company: Company, service: Service, on: dt.date | None = None) -> list[SubscriptionItem]:
    """The company's items of the same product as ``service`` (another plan: Accounting Standard for Accounting
    Plus), in force on ``on`` or later: adding ``service`` replaces them (one plan per product)."""
    if not service.product:
        return []
    day = on or today()
    return list(
        SubscriptionItem.objects.filter(company=company, service__product=service.product)
        .exclude(service=service)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gt=day))
        .exclude(ends_on=F("starts_on"))
        .select_related("service")
        .order_by("service__sort_order")
    )


def current_and_scheduled(*, company: Company, on: dt.date | None = None) -> QuerySet[SubscriptionItem]:
    """Items in force today or starting later (the wizard's list: an ending one shows its end date)."""
    day = on or today()
    return (
        SubscriptionItem.objects.filter(company=company)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gt=day))
        .exclude(ends_on=F("starts_on"))  # cancelled before it started
        .select_related("service")
        .order_by("service__sort_order", "service__name")
    )


def service_codes_by_company(*, company_ids: Iterable[int], on: dt.date | None = None) -> dict[int, list[str]]:
    """Codes of the services in force for many companies in one query (OIDC claims, portal)."""
    ids = list(set(company_ids))
    result: dict[int, list[str]] = {pk: [] for pk in ids}
    if not ids:
        return result
    rows = (
        SubscriptionItem.objects.filter(in_force_q(on or today()), company_id__in=ids)
        .order_by("service__sort_order", "service__code")
        .values_list("company_id", "service__code")
    )
    for company_id, code in rows:
        result[company_id].append(code)
    return result


def has_service_q(*, code: str, on: dt.date | None = None, company_field: str = "company_id") -> Q:
    """A filter for rows (clients, memberships) whose company has ``code`` in force: an EXISTS, not a join."""
    from django.db.models import Exists

    items = SubscriptionItem.objects.filter(
        in_force_q(on or today()), company_id=OuterRef(company_field), service__code=code
    )
    return Q(Exists(items))


def has_product_q(*, product: str, on: dt.date | None = None, company_field: str = "company_id") -> Q:
    """A filter for rows whose company has a service of ``product`` in force (any plan of it): an EXISTS."""
    from django.db.models import Exists

    items = SubscriptionItem.objects.filter(
        in_force_q(on or today()), company_id=OuterRef(company_field), service__product=product
    )
    return Q(Exists(items))


# --- who pays -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Payer:
    """Who pays for a company's subscription now: ``accountant`` (a practice, maybe discounted: the rate in force
    today) or ``client``."""

    payer: str
    practice_id: int | None = None
    discount_rate: Decimal = Decimal("0")
    licence: Licence | None = None


def payer_for(*, company: Company) -> Payer:
    """The open licence decides. Without one (a company that never had a licence row), the live client
    relationship's payer decides, and a company nobody manages pays for itself."""
    licence = licence_current(company=company)
    if licence is not None:
        if licence.payer == Licence.Payer.ACCOUNTANT and licence.practice is not None:
            rate = discount_rate_in_force(practice=licence.practice, on=today()) if licence.discounted else Decimal("0")
            return Payer(Licence.Payer.ACCOUNTANT, licence.practice_id, rate, licence)
        return Payer(Licence.Payer.CLIENT, None, Decimal("0"), licence)
    from partnerdesk.practice.models import Client

    client = (
        Client.objects.filter(company=company, tab=Client.Tab.ACTIVE)
        .select_related("practice")
        .order_by("created_at")
        .first()
    )
    if client is not None and client.payer == Client.Payer.ACCOUNTANT:
        return Payer(Licence.Payer.ACCOUNTANT, client.practice_id, Decimal("0"))
    return Payer(Licence.Payer.CLIENT)


@dataclass(frozen=True)
class PricePoint:
    """A service's price for one payer from a day on: the RRP, the discount rate and the price the payer pays."""

    on: dt.date
    monthly_rrp: Decimal
    discount_rate: Decimal
    monthly_price: Decimal


PRICE_NOTICE_DAYS = 31  # the Add check page announces price or discount changes this far ahead


def price_schedule(
    *, service: Service, payer: Payer, start: dt.date, days: int = PRICE_NOTICE_DAYS
) -> list[PricePoint]:
    """The payer's price on ``start``, then at each dated change (a new price, or a new rate of a discounted
    practice) up to ``days`` later: what the invoice run will use on those days."""
    end = start + dt.timedelta(days=days)
    practice_id = payer.practice_id if payer.licence is not None and payer.licence.discounted else None
    days_of_change = set(
        ServicePrice.objects.filter(service=service, effective_from__gt=start, effective_from__lte=end).values_list(
            "effective_from", flat=True
        )
    )
    if practice_id is not None:
        days_of_change |= set(
            PracticeDiscount.objects.filter(
                practice_id=practice_id, effective_from__gt=start, effective_from__lte=end
            ).values_list("effective_from", flat=True)
        )
    points: list[PricePoint] = []
    for day in [start, *sorted(days_of_change)]:
        rrp = price_in_force(service=service, on=day) or Decimal("0")
        rate = discount_rate_in_force(practice=practice_id, on=day) if practice_id is not None else Decimal("0")
        price = (rrp * (100 - rate) / 100).quantize(PENNY, rounding=ROUND_HALF_UP)
        if points and (points[-1].monthly_rrp, points[-1].discount_rate) == (rrp, rate):
            continue
        points.append(PricePoint(day, rrp, rate, price))
    return points


# --- money --------------------------------------------------------------------------------------------


def month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    """``[first day of the month, first day of the next month)``."""
    first = day.replace(day=1)
    days = calendar.monthrange(day.year, day.month)[1]
    return first, first + dt.timedelta(days=days)


def line_net(*, monthly_rrp: Decimal, days: int, days_in_period: int, discount_rate: Decimal) -> Decimal:
    """One invoice line's net: RRP prorated by days (rounded to the penny), less the discount (rounded)."""
    if days <= 0:
        return Decimal("0.00")
    amount = (monthly_rrp * days / days_in_period).quantize(PENNY, rounding=ROUND_HALF_UP)
    discount = (amount * discount_rate / 100).quantize(PENNY, rounding=ROUND_HALF_UP)
    return amount - discount


@dataclass(frozen=True)
class RemovalLine:
    service: Service
    starts_on: dt.date
    ends_on: dt.date  # first day without the service
    monthly_rrp: Decimal
    saving: Decimal  # on the invoice for the month of ``ends_on``, net of any discount, ex VAT


@dataclass(frozen=True)
class RemovalSummary:
    company: Company
    effective_on: dt.date
    payer: str
    discount_rate: Decimal
    invoice_period: dt.date  # first day of the month whose invoice changes
    invoice_date: dt.date  # when that invoice is issued (1st of the next month)
    lines: list[RemovalLine] = field(default_factory=list)
    remaining: list[Service] = field(default_factory=list)
    not_subscribed: list[Service] = field(default_factory=list)

    @property
    def saving(self) -> Decimal:
        return sum((line.saving for line in self.lines), Decimal("0.00"))

    @property
    def saving_with_vat(self) -> Decimal:
        return (self.saving * Decimal("1.2")).quantize(PENNY, rounding=ROUND_HALF_UP)

    @property
    def removes_last_service(self) -> bool:
        return bool(self.lines) and not self.remaining

    @property
    def last_billed_day(self) -> dt.date:
        return self.effective_on - dt.timedelta(days=1)

    @property
    def ever_billed(self) -> bool:
        """Whether any removed service was in force before the change (one added today never was)."""
        return any(line.starts_on < self.effective_on for line in self.lines)


@dataclass(frozen=True)
class _Range:
    """A value in force over ``[starts_on, ends_on)``; None = open on that side."""

    starts_on: dt.date | None
    ends_on: dt.date | None
    value: Decimal


def _dated_ranges(rows: Iterable[tuple[dt.date, Decimal]], *, before_first: Decimal | None) -> list[_Range]:
    """Rows ``(effective_from, value)`` as ranges, each until the next row; ``before_first`` (if given) is in force
    before the first row (a practice's discount: none before its first rate)."""
    ordered = sorted(rows)
    ranges = [
        _Range(start, ordered[i + 1][0] if i + 1 < len(ordered) else None, value)
        for i, (start, value) in enumerate(ordered)
    ]
    if before_first is not None:
        ranges.insert(0, _Range(None, ordered[0][0] if ordered else None, before_first))
    return ranges


@dataclass(frozen=True)
class _Billed:
    """A licence billed to the summary's account in the month, with its discount rate's ranges."""

    starts_on: dt.date
    ends_on: dt.date | None
    rates: list[_Range]


def _billed_licences(*, company: Company, payer: Payer, period: dt.date, next_period: dt.date) -> list[_Billed]:
    """The company's licences in the month that bill the same account as the payer today (the invoice the
    summary speaks of), each with the discount rate's ranges the invoice run applies (dated, like prices). A
    company with no licence at all (never set up) is taken as billed to the payer all month."""
    no_discount = [_Range(None, None, Decimal("0"))]
    licences = [
        lic
        for lic in Licence.objects.filter(company=company, starts_on__lt=next_period)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gt=period))
        .exclude(ends_on=F("starts_on"))
        .order_by("starts_on")
        if lic.payer == payer.payer and lic.practice_id == payer.practice_id
    ]
    if not licences and not Licence.objects.filter(company=company).exists():
        return [_Billed(period, None, [_Range(None, None, payer.discount_rate)])]
    practice_ids = {lic.practice_id for lic in licences if lic.discounted}
    rows: dict[int, list[tuple[dt.date, Decimal]]] = {pk: [] for pk in practice_ids if pk is not None}
    for practice_id, effective_from, rate in PracticeDiscount.objects.filter(
        practice_id__in=rows, effective_from__lt=next_period
    ).values_list("practice_id", "effective_from", "rate"):
        rows[practice_id].append((effective_from, rate))
    return [
        _Billed(
            lic.starts_on,
            lic.ends_on,
            _dated_ranges(rows[lic.practice_id], before_first=Decimal("0"))
            if lic.discounted and lic.practice_id is not None
            else no_discount,
        )
        for lic in licences
    ]


def _month_net(
    *,
    starts_on: dt.date,
    ends_on: dt.date,
    period: dt.date,
    next_period: dt.date,
    licences: list[_Billed],
    prices: list[_Range],
) -> Decimal:
    """What the invoice run bills for ``[starts_on, ends_on)`` of one service in the month: a line per range with
    one licence, one discount rate and one price (the run's ranges), each rounded on its own as on the invoice."""
    days_in_period = (next_period - period).days
    total = Decimal("0.00")
    for licence in licences:
        for rate in licence.rates:
            for price in prices:
                bounds_from = [starts_on, period, licence.starts_on, rate.starts_on, price.starts_on]
                bounds_to = [ends_on, next_period, licence.ends_on, rate.ends_on, price.ends_on]
                first = max(day for day in bounds_from if day is not None)
                end = min(day for day in bounds_to if day is not None)
                if first < end:
                    total += line_net(
                        monthly_rrp=price.value,
                        days=(end - first).days,
                        days_in_period=days_in_period,
                        discount_rate=rate.value,
                    )
    return total


def removal_summary(*, company: Company, services: Iterable[Service], effective_on: dt.date) -> RemovalSummary:
    """What removing ``services`` from ``effective_on`` changes: the services that end (billed up to the day
    before), those that remain, and how much less the invoice for that month is. The saving is what the invoice
    run would bill with the service minus without it, over the same ranges the run uses: the dated prices and the
    practice's dated discount (a discounted accountant-paying licence; full RRP when the client pays), each range
    rounded as a line is. ``monthly_rrp`` shown is the price on ``effective_on``."""
    chosen = {s.pk: s for s in services}
    payer = payer_for(company=company)
    period, next_period = month_bounds(effective_on)
    items = list(
        SubscriptionItem.objects.filter(company=company)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gt=effective_on))
        .exclude(ends_on=F("starts_on"))
        .select_related("service")
        .order_by("service__sort_order", "service__name")
    )
    licences = _billed_licences(company=company, payer=payer, period=period, next_period=next_period)
    price_rows: dict[int, list[tuple[dt.date, Decimal]]] = {pk: [] for pk in chosen}
    for service_id, effective_from, rrp in ServicePrice.objects.filter(
        service_id__in=chosen, effective_from__lt=next_period
    ).values_list("service_id", "effective_from", "monthly_rrp"):
        price_rows[service_id].append((effective_from, rrp))
    lines: list[RemovalLine] = []
    remaining: list[Service] = []
    found: set[int] = set()
    for item in items:
        if item.service_id not in chosen:
            if item.ends_on is None:
                remaining.append(item.service)
            continue
        found.add(item.service_id)
        prices = _dated_ranges(price_rows[item.service_id], before_first=None)
        kept_until = min(item.ends_on or next_period, next_period)
        new_end = max(min(effective_on, kept_until), item.starts_on)
        before, after = (
            _month_net(
                starts_on=item.starts_on,
                ends_on=end,
                period=period,
                next_period=next_period,
                licences=licences,
                prices=prices,
            )
            for end in (kept_until, new_end)
        )
        rrp = price_in_force(service=item.service, on=effective_on) or Decimal("0")
        lines.append(
            RemovalLine(
                service=item.service, starts_on=item.starts_on, ends_on=new_end, monthly_rrp=rrp, saving=before - after
            )
        )
    return RemovalSummary(
        company=company,
        effective_on=effective_on,
        payer=payer.payer,
        discount_rate=payer.discount_rate,
        invoice_period=period,
        invoice_date=next_period,
        lines=lines,
        remaining=remaining,
        not_subscribed=[s for pk, s in chosen.items() if pk not in found],
    )


# --- Direct Debit -------------------------------------------------------------------------------------


def mandate_active(*, company: Company) -> DirectDebitMandate | None:
    return DirectDebitMandate.objects.filter(company=company, status=DirectDebitMandate.Status.ACTIVE).first()


def services_prefetch(*, lookup: str = "company__subscription_items", on: dt.date | None = None) -> Prefetch:
    """Prefetch the services in force onto each company as ``services_in_force`` (items, service joined):
    one query for a whole page of rows."""
    return Prefetch(
        lookup,
        queryset=SubscriptionItem.objects.filter(in_force_q(on or today()))
        .select_related("service")
        .order_by("service__sort_order", "service__name"),
        to_attr="services_in_force",
    )


def service_choices() -> list[tuple[str, str]]:
    """(code, name) of every service, for filters."""
    return list(Service.objects.order_by("sort_order", "name").values_list("code", "name"))
