"""A product's home, where a person lands after signing in to Business Cloud Accounting or Payroll."""

import re

import pytest
from django.test import Client as HttpClient

from partnerdesk.billing.tests.subscription_factories import make_owner_company, make_service, subscribe
from partnerdesk.identity.services import company_create
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.practice.models import Client, Practice

pytestmark = pytest.mark.django_db


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in body.split("</tr>")[:-1]]


def _signed_in(user) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


def test_accounting_lists_each_company_with_its_services_and_opens_its_books():
    owner = UserFactory.create(email="owner@acme.test")
    acme, _ = make_owner_company("Acme Ltd", owner=owner)
    subscribe(
        acme,
        make_service("t-plus", name="Test Plus", product="accounting"),
        make_service("t-pay", name="Test Pay", product="payroll"),
    )
    shut, _ = make_owner_company("Shut Ltd", owner=owner)
    subscribe(shut, make_service("t-plus", name="Test Plus", product="accounting"))
    practice = Practice.objects.create(company=company_create(business_name="Ledger LLP"), name="Ledger LLP")
    Client.objects.create(practice=practice, company=shut, business_name="Shut Ltd", access="disabled")

    page = _signed_in(owner).get("/products/accounting/").content.decode()

    assert _rows(page) == [
        f"Acme Ltd {acme.customer_number} Test Pay, Test Plus Subscription Owner Bookkeeping",
        f"Shut Ltd Access disabled by your accountant {shut.customer_number} Test Plus Subscription Owner",
    ]
    assert f'href="/companies/{acme.customer_number}/"' in page
    assert f'href="/companies/{acme.customer_number}/ledger/"' in page
    assert f'href="/companies/{shut.customer_number}/ledger/"' not in page  # disabled: no way into the books
    assert 'href="/account/link/"' in page  # another subscription can be linked from here too


def test_payroll_lists_the_companies_with_payroll_and_names_the_others():
    owner = UserFactory.create()
    acme, _ = make_owner_company("Acme Ltd", owner=owner)
    subscribe(acme, make_service("t-pay", name="Test Pay", product="payroll"))
    books, _ = make_owner_company("Books Only Ltd", owner=owner)
    subscribe(books, make_service("t-books", name="Test Books", product="accounting"))
    page = _signed_in(owner).get("/products/payroll/").content.decode()
    assert _rows(page) == [f"Acme Ltd {acme.customer_number} Test Pay Subscription Owner"]
    assert "/ledger/" not in page
    assert "Also linked to your account, without Payroll:" in page
    assert f'<a href="/companies/{books.customer_number}/">Books Only Ltd</a>' in page


def test_no_company_with_the_product_says_so():
    owner = UserFactory.create()
    acme, _ = make_owner_company("Acme Ltd", owner=owner)
    page = _signed_in(owner).get("/products/payroll/").content.decode()
    assert f'<a href="/companies/{acme.customer_number}/">Acme Ltd</a> does not have Payroll.' in page
    assert "<tbody>" not in page


def test_no_company_yet_offers_to_link_one():
    page = _signed_in(UserFactory.create()).get("/products/accounting/").content.decode()
    assert "not linked to a subscription yet" in page
    assert 'href="/account/link/"' in page


def test_a_practice_member_sees_the_clients_they_may_open_with_that_product():
    """An accountant choosing Business Cloud Accounting works on the clients' books, not on their own firm's."""
    from partnerdesk.billing.tests.subscription_factories import accountant_client, make_practice
    from partnerdesk.practice.models import ClientAssignment, PracticeMember

    books = make_service("t-books", name="Test Books", product="accounting")
    pay = make_service("t-pay", name="Test Pay", product="payroll")
    setup = make_practice("Hartley LLP")
    bakery = accountant_client(setup, "Bakery Ltd", books)
    accountant_client(setup, "Payroll Only Ltd", pay)
    accountant_client(setup, "Waiting Ltd", books, tab="pending")
    accountant_client(make_practice("Rival LLP"), "Rival Client Ltd", books)

    page = _signed_in(setup.admin).get("/products/accounting/").content.decode()
    assert "Your clients with Business Cloud Accounting" in page
    assert _rows(page) == [f"Bakery Ltd {bakery.company.customer_number} Test Books Bookkeeping"]
    assert f'href="/companies/{bakery.company.customer_number}/ledger/"' in page
    assert "Hartley LLP does not have" not in page  # the firm's own company is not offered as a business
    assert _signed_in(setup.admin).get(f"/companies/{bakery.company.customer_number}/ledger/").status_code == 200

    staff = UserFactory.create(email="raj@hartley.test")
    member = PracticeMember.objects.create(practice=setup.practice, user=staff, role="staff", sees_all_clients=False)
    empty = _signed_in(staff).get("/products/accounting/").content.decode()
    assert "None of the clients you can see in Partner Edition has Business Cloud Accounting" in empty
    ClientAssignment.objects.create(client=bakery, member=member)
    assert "Bakery Ltd" in _signed_in(staff).get("/products/accounting/").content.decode()
    payroll = _signed_in(setup.admin).get("/products/payroll/").content.decode()
    assert "Payroll Only Ltd" in payroll
    assert "Bakery Ltd" not in payroll


def test_a_practice_member_with_many_clients_sees_the_first_page_and_the_count(django_assert_max_num_queries):
    from partnerdesk.billing.tests.subscription_factories import accountant_client, make_practice
    from partnerdesk.practice.selectors import PRODUCT_HOME_CLIENTS

    books = make_service("t-books", name="Test Books", product="accounting")
    setup = make_practice("Hartley LLP")
    for n in range(PRODUCT_HOME_CLIENTS + 3):
        accountant_client(setup, f"Client {n:03d} Ltd", books)
    http = _signed_in(setup.admin)
    http.get("/products/accounting/")
    # 15: the requests an admin decides look the person's admin practices up first (one small query), so the request
    # lookup never scans every request for someone who is no practice's admin.
    with django_assert_max_num_queries(15):
        page = http.get("/products/accounting/").content.decode()
    assert f"Showing {PRODUCT_HOME_CLIENTS} of {PRODUCT_HOME_CLIENTS + 3}." in page
    assert "Client 000 Ltd" in page
    assert f"Client {PRODUCT_HOME_CLIENTS + 2:03d} Ltd" not in page
