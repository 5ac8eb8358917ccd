import datetime as dt
from decimal import Decimal

import pytest

from partnerdesk.identity.services import company_create
from partnerdesk.ledger.models import Entry
from partnerdesk.ledger.selectors import entries_for_company, ledger_count, ledger_totals

pytestmark = pytest.mark.django_db


def test_entries_newest_first_then_latest_written_and_scoped_to_the_company():
    mine, theirs = company_create(business_name="Mine Ltd"), company_create(business_name="Theirs Ltd")
    a = Entry.objects.create(company=mine, date=dt.date(2025, 4, 1), description="a", amount=1)
    b = Entry.objects.create(company=mine, date=dt.date(2025, 4, 2), description="b", amount=1)
    c = Entry.objects.create(company=mine, date=dt.date(2025, 4, 1), description="c", amount=-1)
    Entry.objects.create(company=theirs, date=dt.date(2025, 4, 3), description="x", amount=1)
    assert list(entries_for_company(company=mine)) == [b, c, a]
    assert ledger_count(company=mine) == 3
    assert ledger_totals(company=mine) == {
        "income": Decimal("2.00"),
        "expenses": Decimal("-1.00"),
        "balance": Decimal("1.00"),
    }


def test_totals_of_an_empty_ledger_are_zero():
    company = company_create(business_name="Empty Ltd")
    assert ledger_count(company=company) == 0
    assert ledger_totals(company=company) == {"income": 0, "expenses": 0, "balance": 0}
