import pytest

from partnerdesk.billing import services
from partnerdesk.billing.tests.subscription_factories import accountant_client, make_practice, make_service
from partnerdesk.identity.selectors import companies_claim
from partnerdesk.identity.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_claims_list_services_in_force_and_drop_a_removed_one():
    accounts, payroll = make_service("t-accounts", order=1), make_service("t-payroll", order=2)
    setup = make_practice()
    owner = UserFactory.create()
    acme = accountant_client(setup, "Acme Ltd", accounts, payroll, owner=owner)
    assert companies_claim(user=owner)[0]["services"] == ["t-accounts", "t-payroll"]
    services.subscriptions_remove(actor=setup.admin, company=acme.company, services=[payroll])
    assert companies_claim(user=owner)[0]["services"] == ["t-accounts"]


def test_claims_take_one_query_for_all_companies(django_assert_num_queries):
    service = make_service("t-accounts")
    setup = make_practice()
    owner = UserFactory.create()
    for i in range(5):
        accountant_client(setup, f"Company {i} Ltd", service, owner=owner)
    with django_assert_num_queries(2):  # memberships (with the disabled mark), services
        claim = companies_claim(user=owner)
    assert len(claim) == 5
    assert all(c["services"] == ["t-accounts"] for c in claim)


def test_portal_company_page_lists_the_services_in_force(client):
    accounts = make_service("t-accounts", name="Test Accounts Service")
    setup = make_practice()
    owner = UserFactory.create()
    acme = accountant_client(setup, "Acme Ltd", accounts, owner=owner)
    client.force_login(owner)
    body = client.get(f"/companies/{acme.company.customer_number}/").content.decode()
    assert "Test Accounts Service" in body
    assert "Manage Subscriptions" not in body  # the accountant pays
