"""The removal summary's "effect on the next invoice" is what the invoice run would bill less: checked against the
run itself (the month run for two identical companies, one with the removal), with dated prices and discounts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from partnerdesk.billing.invoicing import invoice_run
from partnerdesk.billing.models import InvoiceLine, PracticeDiscount, SubscriptionItem
from partnerdesk.billing.selectors import removal_summary
from partnerdesk.billing.tests.invoice_factories import (
    accountant_pays,
    client_pays,
    make_company,
    make_practice,
    make_service,
    set_price,
    subscribe,
)
from partnerdesk.identity.models import Company

pytestmark = pytest.mark.django_db

D = Decimal
DEC = dt.date(2026, 12, 1)  # 31 days


def dec(day: int) -> dt.date:
    return dt.date(2026, 12, day)


def _net(company: Company) -> Decimal:
    return sum((line.net for line in InvoiceLine.objects.filter(company=company)), D("0.00"))


# (case, payer, discount changes [(from, rate)], removal day, estimate expected)
CASES = [
    # QA's case: Payroll £10.00 to the 15th, £12.50 from the 16th, 20% off, removed on the 1st: 3.87 + 5.16.
    ("price rises after the removal, removed on the 1st", "accountant", [], dec(1), D("9.03")),
    # Kept: 3.87 + 5.16 = 9.03; to the 9th: 2.90 - 0.58 = 2.32.
    ("price rises after a mid-month removal", "accountant", [], dec(10), D("6.71")),
    # Kept: 4.84 + 6.45 = 11.29; to the 19th: 10 x 15/31 = 4.84 and 12.50 x 4/31 = 1.61.
    ("client pays full RRP at both prices", "client", [], dec(20), D("4.84")),
    # 20% to the 19th, 25% from the 20th (the run splits there too): 12 days 4.84 - 1.21 = 3.63; 5 days
    # 2.02 - 0.51 = 1.51.
    ("discount changes mid-month", "accountant", [(dec(20), "25")], dec(25), D("2.12")),
    # A rate announced for next month changes nothing in December.
    ("discount change next month", "accountant", [(dt.date(2027, 1, 1), "50")], dec(10), D("6.71")),
]


@pytest.mark.parametrize(("case", "payer", "discounts", "removed_on", "expected"), CASES, ids=[c[0] for c in CASES])
def test_estimate_equals_what_the_invoice_run_bills_less(case, payer, discounts, removed_on, expected):
    payroll = make_service("est-payroll", "10.00")
    set_price(payroll, "12.50", dec(16))
    keep = make_service("est-accounts", "30.00")
    practice = make_practice(discount="20.00")
    for starts, rate in discounts:
        PracticeDiscount.objects.create(practice=practice, rate=D(rate), effective_from=starts)
    kept, removed = make_company("Kept Ltd"), make_company("Removed Ltd")
    for company in (kept, removed):
        subscribe(company, payroll)
        subscribe(company, keep)
        accountant_pays(company, practice) if payer == "accountant" else client_pays(company)

    summary = removal_summary(company=removed, services=[payroll], effective_on=removed_on)
    # What Remove -> Finish does on that day: the item ends then (billed up to the day before).
    SubscriptionItem.objects.filter(company=removed, service=payroll).update(ends_on=removed_on)
    invoice_run(period=DEC)

    assert summary.saving == _net(kept) - _net(removed)
    assert summary.saving == expected
    assert [(line.service.code, line.ends_on, line.monthly_rrp) for line in summary.lines] == [
        ("est-payroll", removed_on, D("12.50") if removed_on >= dec(16) else D("10.00"))
    ]


def test_estimate_counts_only_the_payers_invoice_when_the_client_takes_over_mid_month():
    """The practice stopped on the 14th; the client pays from the 15th: the summary (the client's) speaks of the
    client's own invoice."""
    payroll = make_service("est-payroll", "10.00")
    set_price(payroll, "12.50", dec(16))
    practice = make_practice(discount="20.00")
    kept, removed = make_company("Kept Ltd"), make_company("Removed Ltd")
    for company in (kept, removed):
        subscribe(company, payroll)
        accountant_pays(company, practice, ends_on=dec(15))
        client_pays(company, starts_on=dec(15))

    summary = removal_summary(company=removed, services=[payroll], effective_on=dec(20))
    SubscriptionItem.objects.filter(company=removed, service=payroll).update(ends_on=dec(20))
    invoice_run(period=DEC)

    client_net = {
        company: sum((line.net for line in InvoiceLine.objects.filter(company=company, payer="client")), D("0.00"))
        for company in (kept, removed)
    }
    assert summary.payer == "client"
    assert summary.saving == client_net[kept] - client_net[removed] == D("4.84")  # 12.50 x 12/31
