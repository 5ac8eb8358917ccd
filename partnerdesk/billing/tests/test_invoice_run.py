"""The invoice run: proration, who pays, discounts, price changes, VAT and totals, idempotence, query count."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from partnerdesk.audit.models import Action, Event
from partnerdesk.billing.invoicing import invoice_run, invoice_run_due
from partnerdesk.billing.models import Invoice, InvoiceLine, PracticeDiscount
from partnerdesk.billing.services import practice_discount_set
from partnerdesk.billing.tests.invoice_factories import (
    accountant_pays,
    client_pays,
    make_company,
    make_practice,
    make_service,
    set_price,
    subscribe,
)

pytestmark = pytest.mark.django_db

NOV = dt.date(2026, 11, 1)  # 30 days
FEB_LEAP = dt.date(2028, 2, 1)  # 29 days
D = Decimal


def nov(day: int) -> dt.date:
    return dt.date(2026, 11, day)


def lines_of(company) -> list[tuple[str, dt.date, dt.date, int, int, Decimal, Decimal, Decimal, Decimal]]:
    """(invoice kind, starts_on, ends_on, days, days in month, amount, rate, discount, net) per line, by start."""
    return [
        (
            line.invoice.kind,
            line.starts_on,
            line.ends_on,
            line.days_active,
            line.days_in_period,
            line.amount,
            line.discount_rate,
            line.discount,
            line.net,
        )
        for line in InvoiceLine.objects.filter(company=company).select_related("invoice").order_by("starts_on")
    ]


def pence(value: Decimal) -> Decimal:
    return value.quantize(D("0.01"), rounding=ROUND_HALF_UP)


# (case, subscription [start, end), accountant licence [start, end), client licence start or None, period,
#  expected lines: (kind, start, end, days, days in month, amount, rate, discount, net))
PRORATION = [
    (
        "whole month",
        (dt.date(2026, 1, 1), None),
        (dt.date(2026, 1, 1), None),
        None,
        NOV,
        [("practice", nov(1), dt.date(2026, 12, 1), 30, 30, D("30.00"), D("20.00"), D("6.00"), D("24.00"))],
    ),
    (
        "service added on the 16th",
        (nov(16), None),
        (dt.date(2026, 1, 1), None),
        None,
        NOV,
        [("practice", nov(16), dt.date(2026, 12, 1), 15, 30, D("15.00"), D("20.00"), D("3.00"), D("12.00"))],
    ),
    ("service removed on the 1st", (dt.date(2026, 1, 1), nov(1)), (dt.date(2026, 1, 1), None), None, NOV, []),
    (
        "service removed on the last day",
        (dt.date(2026, 1, 1), nov(30)),
        (dt.date(2026, 1, 1), None),
        None,
        NOV,
        [("practice", nov(1), nov(30), 29, 30, D("29.00"), D("20.00"), D("5.80"), D("23.20"))],
    ),
    (
        "leap February, added on the 10th",
        (dt.date(2028, 2, 10), None),
        (dt.date(2026, 1, 1), None),
        None,
        FEB_LEAP,
        # 30 x 20 / 29 = 20.6896… -> 20.69; 20% of 20.69 = 4.138 -> 4.14
        [
            (
                "practice",
                dt.date(2028, 2, 10),
                dt.date(2028, 3, 1),
                20,
                29,
                D("20.69"),
                D("20.00"),
                D("4.14"),
                D("16.55"),
            )
        ],
    ),
    (
        "leap February, whole month",
        (dt.date(2026, 1, 1), None),
        (dt.date(2026, 1, 1), None),
        None,
        FEB_LEAP,
        [("practice", FEB_LEAP, dt.date(2028, 3, 1), 29, 29, D("30.00"), D("20.00"), D("6.00"), D("24.00"))],
    ),
    (
        "client stopped on the 14th, then billed to the client at full RRP",
        (dt.date(2026, 1, 1), None),
        (dt.date(2026, 1, 1), nov(15)),
        nov(15),
        NOV,
        [
            ("practice", nov(1), nov(15), 14, 30, D("14.00"), D("20.00"), D("2.80"), D("11.20")),
            ("company", nov(15), dt.date(2026, 12, 1), 16, 30, D("16.00"), D("0.00"), D("0.00"), D("16.00")),
        ],
    ),
    (
        "transferred: nothing billed in the 30-day grace gap",
        (dt.date(2026, 1, 1), None),
        (dt.date(2026, 1, 1), nov(5)),
        nov(20),
        NOV,
        [
            ("practice", nov(1), nov(5), 4, 30, D("4.00"), D("20.00"), D("0.80"), D("3.20")),
            ("company", nov(20), dt.date(2026, 12, 1), 11, 30, D("11.00"), D("0.00"), D("0.00"), D("11.00")),
        ],
    ),
    (
        "transferred: grace covers the rest of the month",
        (dt.date(2026, 1, 1), None),
        (dt.date(2026, 1, 1), nov(10)),
        dt.date(2026, 12, 10),
        NOV,
        [("practice", nov(1), nov(10), 9, 30, D("9.00"), D("20.00"), D("1.80"), D("7.20"))],
    ),
    (
        "licence started after the service: billed from the licence",
        (dt.date(2026, 1, 1), None),
        (nov(8), None),
        None,
        NOV,
        [("practice", nov(8), dt.date(2026, 12, 1), 23, 30, D("23.00"), D("20.00"), D("4.60"), D("18.40"))],
    ),
]


@pytest.mark.parametrize(
    ("subscription", "accountant", "client_from", "period", "expected"),
    [case[1:] for case in PRORATION],
    ids=[case[0] for case in PRORATION],
)
def test_proration(subscription, accountant, client_from, period, expected):
    service = make_service(rrp="30.00")
    practice = make_practice(discount="20.00")
    company = make_company()
    subscribe(company, service, *subscription)
    accountant_pays(company, practice, *accountant)
    if client_from is not None:
        client_pays(company, client_from)

    result = invoice_run(period=period)

    assert lines_of(company) == expected
    assert result.lines_created == len(expected)
    assert result.invoices_created == len({kind for kind, *_ in expected})
    assert Invoice.objects.filter(period=period).count() == result.invoices_created


def test_no_licence_no_line_and_an_account_without_lines_gets_no_invoice():
    service = make_service()
    company = make_company()
    subscribe(company, service)  # subscribed, but nobody pays (no licence at all)
    result = invoice_run(period=NOV)
    assert (result.invoices_created, result.lines_created) == (0, 0)
    assert not Invoice.objects.exists()


def test_practice_invoice_goes_to_the_practice_company_and_client_invoice_to_the_company():
    service = make_service()
    practice = make_practice()
    managed, own = make_company("Managed Ltd"), make_company("Own Ltd")
    subscribe(managed, service)
    subscribe(own, service)
    accountant_pays(managed, practice)
    client_pays(own)

    invoice_run(period=NOV)

    practice_invoice = Invoice.objects.get(account=practice.company)
    assert (practice_invoice.kind, practice_invoice.practice_id) == ("practice", practice.pk)
    assert practice_invoice.customer_number == practice.company.customer_number
    assert practice_invoice.number == f"INV-202611-{practice.company.customer_number}"
    own_invoice = Invoice.objects.get(account=own)
    assert (own_invoice.kind, own_invoice.practice_id, own_invoice.customer_number) == (
        "company",
        None,
        own.customer_number,
    )
    line = practice_invoice.lines.get()
    assert (line.company_id, line.business_name, line.customer_number) == (
        managed.pk,
        "Managed Ltd",
        managed.customer_number,
    )


def test_discount_never_on_client_paying_lines():
    service = make_service(rrp="42.00")
    practice = make_practice(discount="35.00")
    companies = [make_company(f"Client {i}") for i in range(3)]
    for company in companies:
        subscribe(company, service)
    accountant_pays(companies[0], practice, ends_on=nov(11))
    client_pays(companies[0], starts_on=nov(11))
    client_pays(companies[1])
    accountant_pays(companies[2], practice)

    invoice_run(period=NOV)

    client_lines = InvoiceLine.objects.filter(payer="client")
    assert client_lines.count() == 2
    assert all(line.discount == 0 and line.discount_rate == 0 and line.net == line.amount for line in client_lines)
    assert all(line.invoice.kind == "company" for line in client_lines)
    accountant_lines = InvoiceLine.objects.filter(payer="accountant")
    assert {line.discount_rate for line in accountant_lines} == {D("35.00")}
    assert all(line.discount > 0 for line in accountant_lines)


def test_accountant_paying_licence_without_discount_is_billed_at_full_rrp():
    service = make_service()
    practice = make_practice(discount="20.00")
    company = make_company()
    subscribe(company, service)
    accountant_pays(company, practice, discounted=False)
    invoice_run(period=NOV)
    line = InvoiceLine.objects.get()
    assert (line.amount, line.discount_rate, line.discount, line.net) == (D("30.00"), 0, 0, D("30.00"))


def test_price_change_mid_month_splits_the_line():
    service = make_service(rrp="30.00")
    set_price(service, "36.00", nov(11))
    practice = make_practice(discount="10.00")
    company = make_company()
    subscribe(company, service)
    accountant_pays(company, practice)

    invoice_run(period=NOV)

    assert lines_of(company) == [
        ("practice", nov(1), nov(11), 10, 30, D("10.00"), D("10.00"), D("1.00"), D("9.00")),
        ("practice", nov(11), dt.date(2026, 12, 1), 20, 30, D("24.00"), D("10.00"), D("2.40"), D("21.60")),
    ]
    assert [line.monthly_rrp for line in InvoiceLine.objects.order_by("starts_on")] == [D("30.00"), D("36.00")]


def test_price_in_force_is_the_latest_before_the_month_and_future_prices_are_ignored():
    service = make_service(rrp="10.00", effective_from=dt.date(2020, 1, 1))
    set_price(service, "12.00", dt.date(2026, 6, 1))
    set_price(service, "99.00", dt.date(2027, 1, 1))
    company = make_company()
    subscribe(company, service)
    client_pays(company)
    invoice_run(period=NOV)
    line = InvoiceLine.objects.get()
    assert (line.monthly_rrp, line.amount) == (D("12.00"), D("12.00"))


def _on(monkeypatch, day: dt.date) -> None:
    """Today, for the back office's discount change (its default date and its earliest allowed date)."""
    monkeypatch.setattr("partnerdesk.billing.services.today", lambda: day)


def test_discount_change_mid_month_splits_the_line_at_the_change(monkeypatch):
    service = make_service(rrp="30.00")
    practice = make_practice(discount="20.00")
    company = make_company()
    subscribe(company, service)
    accountant_pays(company, practice)
    _on(monkeypatch, nov(16))
    practice_discount_set(practice=practice, rate=D("25"), actor=None)  # from today, the 16th

    invoice_run(period=NOV)

    assert lines_of(company) == [
        ("practice", nov(1), nov(16), 15, 30, D("15.00"), D("20.00"), D("3.00"), D("12.00")),
        ("practice", nov(16), dt.date(2026, 12, 1), 15, 30, D("15.00"), D("25.00"), D("3.75"), D("11.25")),
    ]
    # The lines split at a price change too: one line per (rate, price) range.
    invoice_run(period=dt.date(2026, 12, 1))
    assert lines_of(company)[-1][5:] == (D("30.00"), D("25.00"), D("7.50"), D("22.50"))


def test_discount_change_today_does_not_reprice_an_earlier_month_not_yet_invoiced(monkeypatch):
    """QA's case: October is run on 1 December, after the rate went from 20% to 25% that morning."""
    service = make_service(rrp="30.00")
    practice = make_practice(discount="20.00")
    company = make_company()
    subscribe(company, service)
    accountant_pays(company, practice)
    _on(monkeypatch, dt.date(2026, 12, 1))
    practice_discount_set(practice=practice, rate=D("25"), actor=None)

    invoice_run(period=dt.date(2026, 10, 1))

    assert [line[6:] for line in lines_of(company)] == [(D("20.00"), D("6.00"), D("24.00"))]


def test_discount_change_dated_in_the_future_does_not_touch_the_current_month(monkeypatch):
    service = make_service(rrp="30.00")
    practice = make_practice(discount="20.00")
    company = make_company()
    subscribe(company, service)
    accountant_pays(company, practice)
    _on(monkeypatch, nov(10))
    practice_discount_set(practice=practice, rate=D("50"), effective_from=dt.date(2026, 12, 1), actor=None)

    invoice_run(period=NOV)

    assert lines_of(company) == [
        ("practice", nov(1), dt.date(2026, 12, 1), 30, 30, D("30.00"), D("20.00"), D("6.00"), D("24.00"))
    ]


def test_a_practice_with_no_rate_before_its_first_one_gets_no_discount_those_days():
    """Every day of a licence is billed once: before the practice's first rate there is no discount."""
    service = make_service(rrp="30.00")
    practice = make_practice(discount="0")
    PracticeDiscount.objects.create(practice=practice, rate=D("10"), effective_from=nov(21))
    company = make_company()
    subscribe(company, service)
    accountant_pays(company, practice)

    invoice_run(period=NOV)

    assert lines_of(company) == [
        ("practice", nov(1), nov(21), 20, 30, D("20.00"), D("0"), D("0"), D("20.00")),
        ("practice", nov(21), dt.date(2026, 12, 1), 10, 30, D("10.00"), D("10.00"), D("1.00"), D("9.00")),
    ]


def test_discount_change_with_a_licence_ending_mid_range_and_a_client_paying_company(monkeypatch):
    """The rate's ranges are cut to the licence; a client-paying licence never joins the practice's rates."""
    service = make_service(rrp="30.00")
    practice = make_practice(discount="20.00")
    PracticeDiscount.objects.create(practice=practice, rate=D("30"), effective_from=nov(11))
    PracticeDiscount.objects.create(practice=practice, rate=D("40"), effective_from=nov(21))
    company = make_company()
    subscribe(company, service)
    accountant_pays(company, practice, ends_on=nov(16))
    client_pays(company, starts_on=nov(16))

    invoice_run(period=NOV)

    assert lines_of(company) == [
        ("practice", nov(1), nov(11), 10, 30, D("10.00"), D("20.00"), D("2.00"), D("8.00")),
        ("practice", nov(11), nov(16), 5, 30, D("5.00"), D("30.00"), D("1.50"), D("3.50")),
        ("company", nov(16), dt.date(2026, 12, 1), 15, 30, D("15.00"), D("0"), D("0"), D("15.00")),
    ]


def test_rerun_after_a_discount_change_changes_nothing(monkeypatch):
    service = make_service(rrp="30.00")
    practice = make_practice(discount="20.00")
    company = make_company()
    subscribe(company, service)
    accountant_pays(company, practice)
    _on(monkeypatch, nov(16))
    practice_discount_set(practice=practice, rate=D("25"), actor=None)
    invoice_run(period=NOV)
    before = _snapshot()
    _on(monkeypatch, nov(20))
    practice_discount_set(practice=practice, rate=D("5"), actor=None)

    second = invoice_run(period=NOV)

    assert (second.invoices_created, second.lines_created) == (0, 0)
    assert _snapshot() == before


def test_service_resubscribed_in_the_month_gives_two_lines():
    service = make_service()
    company = make_company()
    subscribe(company, service, dt.date(2026, 1, 1), nov(5))
    subscribe(company, service, nov(20))
    client_pays(company)
    invoice_run(period=NOV)
    assert [(line[1], line[3]) for line in lines_of(company)] == [(nov(1), 4), (nov(20), 11)]


def test_vat_and_totals_are_pence_exact():
    """Awkward prices and days; every figure checked against Decimal arithmetic with ROUND_HALF_UP."""
    prices = {"inv-a": "14.99", "inv-b": "10.01", "inv-c": "42.00", "inv-d": "0.07"}
    services = {code: make_service(code, rrp) for code, rrp in prices.items()}
    practice = make_practice(discount="12.50")
    starts = [nov(1), nov(2), nov(16), nov(29), nov(30)]
    for i, start in enumerate(starts):
        company = make_company(f"Client {i}")
        accountant_pays(company, practice)
        for service in services.values():
            subscribe(company, service, start)

    result = invoice_run(period=NOV)

    invoice = Invoice.objects.get()
    expected_lines = []
    for line in invoice.lines.all():
        days = (dt.date(2026, 12, 1) - line.starts_on).days
        amount = pence(D(prices[line.service.code]) * days / 30)
        discount = pence(amount * D("12.50") / 100)
        expected_lines.append((amount, discount))
        assert (line.days_active, line.amount, line.discount, line.net) == (days, amount, discount, amount - discount)
    assert len(expected_lines) == 20
    subtotal = sum(a for a, _ in expected_lines)
    discount_total = sum(d for _, d in expected_lines)
    net = subtotal - discount_total
    vat = pence(net * D("0.20"))
    assert (invoice.subtotal, invoice.discount_total, invoice.net_total, invoice.vat_total, invoice.total) == (
        subtotal,
        discount_total,
        net,
        vat,
        net + vat,
    )
    assert (result.net_total, result.vat_total, result.total) == (net, vat, net + vat)


def test_half_pennies_round_up():
    # 10.01 x 15 / 30 = 5.005 -> 5.01 (half up); 5.01 x 12.5% = 0.62625 -> 0.63
    service = make_service(rrp="10.01")
    practice = make_practice(discount="12.50")
    company = make_company()
    subscribe(company, service, nov(16))
    accountant_pays(company, practice)
    invoice_run(period=NOV)
    line = InvoiceLine.objects.get()
    assert (line.amount, line.discount, line.net) == (D("5.01"), D("0.63"), D("4.38"))
    invoice = line.invoice
    assert (invoice.vat_total, invoice.total) == (D("0.88"), D("5.26"))  # 4.38 x 20% = 0.876 -> 0.88


def _snapshot():
    invoices = list(Invoice.objects.order_by("pk").values())
    lines = list(InvoiceLine.objects.order_by("pk").values())
    return invoices, lines


def test_rerun_changes_nothing():
    service = make_service()
    practice = make_practice()
    for i in range(3):
        company = make_company(f"Client {i}")
        subscribe(company, service, nov(1 + i))
        accountant_pays(company, practice) if i else client_pays(company)

    first = invoice_run(period=NOV)
    before = _snapshot()
    second = invoice_run(period=NOV)

    assert _snapshot() == before
    assert (first.invoices_created, first.lines_created, first.invoices_existing) == (2, 3, 0)
    assert (second.invoices_created, second.lines_created, second.invoices_existing) == (0, 0, 2)
    events = Event.objects.filter(action=Action.INVOICE_RUN).order_by("id")
    assert [e.data["invoices_created"] for e in events] == [2, 0]
    assert events[0].data["period"] == "2026-11-01"


def test_rerun_issues_only_accounts_not_yet_invoiced():
    service = make_service()
    first_company = make_company("First Ltd")
    subscribe(first_company, service)
    client_pays(first_company)
    invoice_run(period=NOV)
    before = list(Invoice.objects.values())

    late = make_company("Late Ltd")  # its subscription was backdated after the run
    subscribe(late, service)
    client_pays(late)
    result = invoice_run(period=NOV)

    assert (result.invoices_created, result.invoices_existing) == (1, 1)
    assert list(Invoice.objects.filter(pk__in=[i["id"] for i in before]).values()) == before
    assert Invoice.objects.get(account=late).lines.count() == 1


def test_period_must_be_a_first_of_month():
    with pytest.raises(ValueError, match="first day"):
        invoice_run(period=nov(2))


def _population(n: int) -> None:
    services = [make_service("inv-a", "14.00"), make_service("inv-b", "30.00")]
    practice = make_practice()
    for i in range(n):
        company = make_company(f"Client {i}")
        for service in services:
            subscribe(company, service, nov(1 + i % 28))
        if i % 3:
            accountant_pays(company, practice)
        else:
            client_pays(company)


@pytest.mark.parametrize("companies", [5, 50])
def test_query_count_does_not_grow_with_companies(companies, django_assert_max_num_queries):
    _population(companies)
    # 13 on PostgreSQL: the run's statements, its audit event, savepoints, and the notices' 2 reads and 3 bulk inserts
    with django_assert_max_num_queries(16):
        result = invoice_run(period=NOV)
    assert result.lines_created == 2 * companies


def test_query_count_is_the_same_for_5_and_50_companies():
    counts = []
    for n, period in [(5, NOV), (50, dt.date(2026, 12, 1))]:
        Invoice.objects.all().delete()
        _population(n)
        with CaptureQueriesContext(connection) as ctx:
            invoice_run(period=period)
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_periodic_job_runs_on_the_first_and_catches_up_a_missed_month_only():
    service = make_service()
    company = make_company()
    subscribe(company, service)
    client_pays(company)

    caught_up = invoice_run_due(today=dt.date(2026, 12, 3))  # missed the 1st: catch up
    assert caught_up is not None
    assert (caught_up.period, caught_up.invoices_created) == (NOV, 1)
    assert invoice_run_due(today=dt.date(2026, 12, 4)) is None  # already run for November
    first = invoice_run_due(today=dt.date(2027, 1, 1))  # the 1st always runs (idempotent)
    again = invoice_run_due(today=dt.date(2027, 1, 1))
    assert first is not None
    assert again is not None
    assert (first.period, first.invoices_created, again.invoices_created) == (dt.date(2026, 12, 1), 1, 0)
    assert Invoice.objects.count() == 2


def test_a_rerun_at_the_same_instant_changes_nothing(monkeypatch):
    """A frozen or coarse clock gives both runs the same ``now``: the second must still find no invoice of its own
    (the run's id, not its timestamp, says which invoices it created) and add no line to the first run's."""
    service = make_service()
    practice = make_practice()
    for i in range(3):
        company = make_company(f"Client {i}")
        subscribe(company, service, nov(1 + i))
        accountant_pays(company, practice) if i else client_pays(company)
    frozen = dt.datetime(2026, 12, 1, 0, 5, tzinfo=dt.UTC)
    monkeypatch.setattr("partnerdesk.billing.invoicing.timezone.now", lambda: frozen)

    first = invoice_run(period=NOV)
    before = _snapshot()
    second = invoice_run(period=NOV)

    assert _snapshot() == before
    assert (first.invoices_created, first.lines_created) == (2, 3)
    assert (second.invoices_created, second.lines_created, second.invoices_existing) == (0, 0, 2)
    assert second.total == D("0.00")
    assert InvoiceLine.objects.count() == 3
    runs = set(Invoice.objects.values_list("run", flat=True))
    assert len(runs) == 1
    assert None not in runs
