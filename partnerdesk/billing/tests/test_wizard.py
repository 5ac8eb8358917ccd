"""Manage Subscriptions end to end with the test client: list -> Remove -> Continue -> summary -> Finish."""

import datetime as dt
import re
from decimal import Decimal

import pytest

from partnerdesk.billing import selectors
from partnerdesk.billing.models import PracticeDiscount, ServicePrice, SubscriptionItem
from partnerdesk.billing.tests.subscription_factories import (
    accountant_client,
    client_paying_company,
    make_practice,
    make_service,
)
from partnerdesk.identity.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue():
    return make_service("t-accounts", "30.00", name="Test Accounts", order=1), make_service(
        "t-payroll", "10.00", name="Test Payroll", order=2
    )


def _continue_url(body: str) -> str:
    match = re.search(r'<a class="button" href="([^"]+)">Continue</a>', body)
    assert match, body
    return match.group(1).replace("&amp;", "&")


def test_practice_wizard_list_remove_continue_summary_finish(client, catalogue):
    accounts, payroll = catalogue
    setup = make_practice(discount="20.00")
    acme = accountant_client(setup, "Acme Ltd", accounts, payroll)
    client.force_login(setup.admin)
    base = f"/partner/clients/{acme.pk}/subscriptions/"

    listing = client.get(base).content.decode()
    assert "Manage Subscriptions" in listing
    assert "Test Accounts" in listing
    assert "Test Payroll" in listing
    assert ">Remove</button>" in listing

    picked = client.get(base, {"service": payroll.pk, "step": "remove"}).content.decode()
    assert "To be removed" in picked
    continue_url = _continue_url(picked)
    assert continue_url.startswith(f"{base}summary/?service={payroll.pk}")

    summary = client.get(continue_url)
    assert summary.status_code == 200
    body = summary.content.decode()
    assert "Test Payroll removed" in body
    assert "Effect on the next invoice" in body
    assert "20% off RRP" in body
    assert ">Finish</button>" in body
    assert "confirm_no_service" not in body  # not the last service

    done = client.post(f"{base}summary/", {"service": [payroll.pk]})
    assert done.status_code == 302
    assert done["Location"] == base
    assert [i.service.code for i in selectors.active_services(company=acme.company)] == ["t-accounts"]
    after = client.get(base).content.decode()
    assert "removed from Acme Ltd" in after
    assert "Test Payroll" not in after.split("Current services")[1].split("Add a service")[0]
    assert "billed up to and including" in body  # in force since long ago

    # Back after Finish, and Finish again: back to the list, told it is gone, nothing changed.
    again = client.post(f"{base}summary/", {"service": [payroll.pk]}, follow=True)
    assert again.redirect_chain == [(base, 302)]
    assert "Test Payroll: not part of Acme Ltd&#x27;s services (already removed?)." in again.content.decode()
    assert SubscriptionItem.objects.filter(company=acme.company, service=payroll).count() == 1


def test_removing_a_service_added_today_says_it_is_not_billed(client, catalogue):
    accounts, payroll = catalogue
    setup = make_practice(discount="20.00")
    acme = accountant_client(setup, "Acme Ltd", accounts)
    SubscriptionItem.objects.create(company=acme.company, service=payroll, starts_on=selectors.today())
    client.force_login(setup.admin)
    body = client.get(f"/partner/clients/{acme.pk}/subscriptions/summary/", {"service": payroll.pk}).content.decode()
    assert "It started today, so it is not billed at all." in body
    assert "billed up to and including" not in body


def test_removing_the_last_service_shows_and_needs_the_confirmation(client, catalogue):
    accounts, _ = catalogue
    setup = make_practice()
    acme = accountant_client(setup, "Acme Ltd", accounts)
    client.force_login(setup.admin)
    base = f"/partner/clients/{acme.pk}/subscriptions/"
    body = client.get(f"{base}summary/", {"service": accounts.pk}).content.decode()
    assert 'name="confirm_no_service"' in body
    refused = client.post(f"{base}summary/", {"service": [accounts.pk]})
    assert refused.status_code == 400
    assert "last service" in refused.content.decode()
    assert SubscriptionItem.objects.get(company=acme.company).ends_on is None
    done = client.post(f"{base}summary/", {"service": [accounts.pk], "confirm_no_service": "1"})
    assert done.status_code == 302
    assert not selectors.active_services(company=acme.company).exists()


def test_add_a_service_from_the_wizard(client, catalogue):
    accounts, payroll = catalogue
    setup = make_practice(discount="20.00")
    acme = accountant_client(setup, "Acme Ltd", accounts)
    client.force_login(setup.admin)
    url = f"/partner/clients/{acme.pk}/subscriptions/add/"
    # Add -> check (the price the practice pays, from when) -> Add: nothing is added before the check.
    check = client.post(url, {"service": payroll.pk})
    assert check.status_code == 200
    text = " ".join(re.sub(r"<[^>]+>", " ", check.content.decode()).split())
    assert "Monthly price (ex VAT) £8.00 a month for your practice (20% off the RRP of £10.00) Billed" in text
    assert "Billed to your practice" in text
    assert ">Add Test Payroll</button>" in check.content.decode()
    assert [i.service.code for i in selectors.active_services(company=acme.company)] == ["t-accounts"]
    response = client.post(url, {"service": payroll.pk, "confirm": "yes"})
    assert response.status_code == 302
    assert {i.service.code for i in selectors.active_services(company=acme.company)} == {"t-accounts", "t-payroll"}


def test_add_check_announces_a_price_change_within_the_coming_month(client, catalogue):
    accounts, payroll = catalogue
    soon, later = selectors.today() + dt.timedelta(days=15), selectors.today() + dt.timedelta(days=40)
    ServicePrice.objects.create(service=payroll, monthly_rrp=Decimal("12.50"), effective_from=soon)
    ServicePrice.objects.create(service=payroll, monthly_rrp=Decimal("15.00"), effective_from=later)  # too far
    company, owner = client_paying_company("Self Pay Ltd", accounts)
    client.force_login(owner)
    check = client.post(f"/companies/{company.customer_number}/subscriptions/add/", {"service": payroll.pk})
    text = " ".join(re.sub(r"<[^>]+>", " ", check.content.decode()).split())
    assert f"Monthly price (ex VAT) £10.00 a month, £12.50 from {soon:%-d %B %Y} (full RRP) Billed" in text
    # The practice's price follows the dated price and the dated discount (20%, then 25% a week later).
    setup = make_practice(discount="20.00")
    acme = accountant_client(setup, "Acme Ltd", accounts)
    PracticeDiscount.objects.create(practice=setup.practice, rate=Decimal("25"), effective_from=soon + dt.timedelta(7))
    client.force_login(setup.admin)
    check = client.post(f"/partner/clients/{acme.pk}/subscriptions/add/", {"service": payroll.pk})
    text = " ".join(re.sub(r"<[^>]+>", " ", check.content.decode()).split())
    assert (
        f"£8.00 a month for your practice (20% off the RRP of £10.00), £10.00 from {soon:%-d %B %Y} (20% off £12.50),"
        f" £9.38 from {soon + dt.timedelta(7):%-d %B %Y} (25% off £12.50) Billed"
    ) in text


def test_owner_wizard_for_a_client_paying_company(client, catalogue):
    accounts, payroll = catalogue
    company, owner = client_paying_company("Self Pay Ltd", accounts, payroll)
    client.force_login(owner)
    base = f"/companies/{company.customer_number}/subscriptions/"
    assert "Manage Subscriptions" in client.get(f"/companies/{company.customer_number}/").content.decode()
    picked = client.get(base, {"service": accounts.pk, "step": "remove"}).content.decode()
    body = client.get(_continue_url(picked)).content.decode()
    assert "at the full price" in body
    assert client.post(f"{base}summary/", {"service": [accounts.pk]}).status_code == 302
    assert [i.service.code for i in selectors.active_services(company=company)] == ["t-payroll"]


def test_owner_of_an_accountant_paying_company_sees_the_services_but_cannot_change_them(client, catalogue):
    accounts, payroll = catalogue
    setup = make_practice()
    owner = UserFactory.create()
    acme = accountant_client(setup, "Acme Ltd", accounts, payroll, owner=owner)
    client.force_login(owner)
    base = f"/companies/{acme.company.customer_number}/subscriptions/"
    body = client.get(base).content.decode()
    assert "Your accountant pays" in body
    assert ">Remove</button>" not in body
    refused = client.post(f"{base}summary/", {"service": [payroll.pk]})
    assert refused.status_code == 400
    assert SubscriptionItem.objects.filter(company=acme.company, ends_on__isnull=True).count() == 2
    # The practice's price and discount (20% here) are the practice's business, on every page of the wizard.
    summary = client.get(f"{base}summary/", {"service": [payroll.pk]})
    assert summary.status_code == 302
    assert summary.url == base
    add_check = client.post(f"{base}add/", {"service": make_service("t-extra", "25.00").pk})
    assert add_check.status_code == 400
    for page in (body, refused.content.decode(), add_check.content.decode()):
        assert "Your accountant pays" in page
        for secret in ("discount", "20%", "for your practice", "less before VAT"):
            assert secret not in page


def test_practice_cannot_change_a_client_paying_client_in_the_wizard(client, catalogue):
    from partnerdesk.practice.models import Client

    accounts, payroll = catalogue
    setup = make_practice()
    company, _ = client_paying_company("Invited Us Ltd", accounts, payroll)
    managed = Client.objects.create(
        practice=setup.practice, company=company, business_name="Invited Us Ltd", payer="client"
    )
    client.force_login(setup.admin)
    body = client.get(f"/partner/clients/{managed.pk}/subscriptions/").content.decode()
    assert "pays for their own subscription" in body
    assert (
        client.post(f"/partner/clients/{managed.pk}/subscriptions/summary/", {"service": [payroll.pk]}).status_code
        == 400
    )


def test_wizard_pages_are_404_across_practices_and_companies(client, catalogue):
    accounts, payroll = catalogue
    setup = make_practice()
    other = make_practice("Other LLP")
    acme = accountant_client(setup, "Acme Ltd", accounts, payroll)
    company, _ = client_paying_company("Self Pay Ltd", accounts)
    client.force_login(other.admin)
    assert client.get(f"/partner/clients/{acme.pk}/subscriptions/").status_code == 404
    assert (
        client.post(f"/partner/clients/{acme.pk}/subscriptions/summary/", {"service": [payroll.pk]}).status_code == 404
    )
    assert client.post(f"/partner/clients/{acme.pk}/subscriptions/add/", {"service": payroll.pk}).status_code == 404
    assert client.get(f"/companies/{company.customer_number}/subscriptions/").status_code == 404
    assert client.get(f"/companies/{acme.company.customer_number}/subscriptions/").status_code == 404
    assert SubscriptionItem.objects.filter(company=acme.company, ends_on__isnull=True).count() == 2


def test_owner_wizard_of_a_suspended_company_says_why_instead_of_no_such_company(client, catalogue):
    from django.utils import timezone

    accounts, payroll = catalogue
    company, owner = client_paying_company("Self Pay Ltd", accounts, payroll)
    company.suspended_at = timezone.now()
    company.save(update_fields=["suspended_at"])
    client.force_login(owner)
    base = f"/companies/{company.customer_number}/subscriptions/"
    page = client.get(base)
    assert page.status_code == 403
    assert "Access to this company is suspended" in page.content.decode()
    assert "Enter your Direct Debit details" in page.content.decode()
    assert client.post(f"{base}summary/", {"service": [accounts.pk]}).status_code == 403
    assert client.post(f"{base}add/", {"service": payroll.pk}).status_code == 403
    assert [i.service.code for i in selectors.active_services(company=company)] == ["t-accounts", "t-payroll"]
