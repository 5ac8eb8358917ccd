import datetime as dt
from decimal import Decimal

import pytest

from partnerdesk.ledger.models import Entry
from partnerdesk.ledger.tests.builders import signed_in, world
from partnerdesk.practice.models import Client
from partnerdesk.practice.tests.staff_factories import add_member

pytestmark = pytest.mark.django_db


def _url(number: str, suffix: str = "") -> str:
    return f"/companies/{number}/ledger/{suffix}"


def _entry(company, day: int, description: str, amount: str) -> Entry:
    return Entry.objects.create(
        company=company, date=dt.date(2025, 4, day), description=description, amount=Decimal(amount)
    )


def test_company_user_reads_entries_newest_first_with_totals():
    w = world()
    _entry(w.client.company, 1, "Invoice 1001", "1250.00")
    _entry(w.client.company, 3, "Office rent", "-800.00")
    body = signed_in(w.company_user).get(_url(w.number)).content.decode()
    assert body.index("Office rent") < body.index("Invoice 1001")
    assert '<dt>Income</dt><dd class="num">£1,250.00</dd>' in body
    assert '<dt>Expenses</dt><dd class="num">£800.00</dd>' in body  # a total of expenses, not a minus figure
    assert '<dt>Balance</dt><dd class="num">£450.00</dd>' in body
    assert '<td class="num">\u2212£800.00 <span class="visually-hidden">(expense)</span></td>' in body
    assert '<td class="num">£1,250.00 <span class="visually-hidden">(income)</span></td>' in body
    assert f'href="{_url(w.number)}">Bookkeeping</a>' not in body  # the page does not link to itself


def test_a_negative_balance_shows_the_minus_before_the_pound_sign():
    w = world()
    _entry(w.client.company, 1, "Office rent", "-1800.00")
    body = signed_in(w.company_user).get(_url(w.number)).content.decode()
    assert '<dt>Balance</dt><dd class="num">\u2212£1,800.00</dd>' in body


def test_company_user_adds_an_entry():
    w = world()
    http = signed_in(w.company_user)
    response = http.post(_url(w.number, "add/"), {"date": "2025-04-02", "description": "  Sale  ", "amount": "99.5"})
    assert response.status_code == 302
    assert response["Location"] == _url(w.number)
    entry = Entry.objects.get(company=w.client.company)
    assert (entry.date, entry.description, entry.amount, entry.created_by) == (
        dt.date(2025, 4, 2),
        "Sale",
        Decimal("99.50"),
        w.company_user,
    )
    assert "Entry added." in http.get(_url(w.number)).content.decode()


def test_practice_member_of_the_managing_practice_reads_and_adds():
    w = world()
    _entry(w.client.company, 1, "Opening balance", "10.00")
    http = signed_in(w.practice_admin)
    page = http.get(_url(w.number))
    assert page.status_code == 200
    assert "Opening balance" in page.content.decode()
    assert f'href="/partner/clients/{w.client.pk}/"' in page.content.decode()  # back to the client panel
    response = http.post(_url(w.number, "add/"), {"date": "02/04/2025", "description": "Fee", "amount": "-35"})
    assert response.status_code == 302
    assert Entry.objects.filter(company=w.client.company, description="Fee", amount=Decimal("-35.00")).exists()


@pytest.mark.parametrize("who", ["other_admin", "stranger"])
@pytest.mark.parametrize("suffix", ["", "add/", "import/"])
def test_another_practice_and_a_stranger_get_404(who, suffix):
    w = world()
    http = signed_in(getattr(w, who))
    assert http.get(_url(w.number, suffix)).status_code == 404
    assert (
        http.post(_url(w.number, suffix), {"date": "2025-04-02", "description": "X", "amount": "1"}).status_code == 404
    )
    assert not Entry.objects.exists()


def test_unknown_and_malformed_customer_numbers_are_404():
    w = world()
    http = signed_in(w.practice_admin)
    assert http.get(_url("00000000")).status_code == 404
    assert http.get(_url("12345")).status_code == 404
    assert http.get(_url("1234567%00")).status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in():
    w = world()
    from django.test import Client as HttpClient

    response = HttpClient().get(_url(w.number))
    assert response.status_code == 302
    assert "login" in response["Location"] or "signin" in response["Location"]


def test_disabled_client_blocks_the_companys_users_but_not_the_practice():
    w = world(access=Client.Access.DISABLED)
    page = signed_in(w.company_user).get(_url(w.number))
    assert page.status_code == 403  # the "access disabled" page, naming the practice, instead of "No such company"
    assert "has disabled your access to this company" in page.content.decode()
    assert "Hartley" in page.content.decode()
    response = signed_in(w.company_user).post(
        _url(w.number, "add/"), {"date": "2025-04-02", "description": "X", "amount": "1"}
    )
    assert response.status_code == 403
    assert not Entry.objects.exists()
    practice = signed_in(w.practice_admin)
    assert practice.get(_url(w.number)).status_code == 200
    assert (
        practice.post(_url(w.number, "add/"), {"date": "2025-04-02", "description": "X", "amount": "1"}).status_code
        == 302
    )
    assert Entry.objects.filter(company=w.client.company).count() == 1


def test_restricted_staff_see_only_assigned_clients_ledger():
    w = world()
    member = add_member(w.practice, "raj@hartley.test", sees_all_clients=False)
    http = signed_in(member.user)
    assert http.get(_url(w.number)).status_code == 404
    w.client.assignments.create(member=member)
    assert http.get(_url(w.number)).status_code == 200


def test_add_form_shows_errors_and_writes_nothing():
    w = world()
    response = signed_in(w.company_user).post(
        _url(w.number, "add/"), {"date": "31/02/2025", "description": "", "amount": "0"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Enter a valid date." in body
    assert "This field is required." in body
    assert "Amount is zero" in body
    assert not Entry.objects.exists()


def test_list_is_paginated():
    w = world()
    Entry.objects.bulk_create(
        Entry(
            company=w.client.company, date=dt.date(2025, 1, 1) + dt.timedelta(days=i), description=f"E{i:03d}", amount=1
        )
        for i in range(60)
    )
    http = signed_in(w.company_user)
    first = http.get(_url(w.number)).content.decode()
    assert "E059" in first
    assert "E009" not in first
    assert "Page 1 of 2" in first
    second = http.get(_url(w.number), {"page": 2}).content.decode()
    assert "E009" in second
    assert "E059" not in second
