"""The client list's Services column and service filter (UI and API)."""

import pytest

from partnerdesk.billing import services
from partnerdesk.billing.tests.subscription_factories import accountant_client, make_practice, make_service
from partnerdesk.practice.selectors import ClientListQuery, client_search

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    accounts = make_service("t-accounts", name="Test Accounts", order=1)
    payroll = make_service("t-payroll", name="Test Payroll", order=2)
    setup = make_practice()
    alpha = accountant_client(setup, "Alpha Ltd", accounts, payroll)
    beta = accountant_client(setup, "Beta Ltd", accounts)
    return setup, alpha, beta, accounts, payroll


def test_filter_by_service_in_force(world):
    setup, alpha, _beta, _, payroll = world

    def names(code):
        return [c.business_name for c in client_search(member=setup.member, query=ClientListQuery(service=code))]

    assert names("t-payroll") == ["Alpha Ltd"]
    assert names("t-accounts") == ["Alpha Ltd", "Beta Ltd"]
    assert names("nothing") == []
    services.subscriptions_remove(actor=setup.admin, company=alpha.company, services=[payroll])
    assert names("t-payroll") == []


def test_list_shows_each_clients_services(client, world):
    setup, *_ = world
    client.force_login(setup.admin)
    body = client.get("/partner/clients/").content.decode()
    assert "Test Accounts, Test Payroll" in body


def test_api_list_has_services_and_filters_by_service(client, world):
    setup, *_ = world
    client.force_login(setup.admin)
    data = client.get("/api/v1/practice/clients").json()
    assert {r["business_name"]: r["services"] for r in data["results"]} == {
        "Alpha Ltd": ["t-accounts", "t-payroll"],
        "Beta Ltd": ["t-accounts"],
    }
    filtered = client.get("/api/v1/practice/clients", {"service": "t-payroll"}).json()
    assert [r["business_name"] for r in filtered["results"]] == ["Alpha Ltd"]
    one = client.get(f"/api/v1/practice/clients/{filtered['results'][0]['id']}").json()
    assert one["services"] == ["t-accounts", "t-payroll"]
