import pytest
from django.utils import timezone

from partnerdesk.billing import selectors
from partnerdesk.billing.models import DirectDebitMandate, Licence
from partnerdesk.billing.tests.subscription_factories import (
    accountant_client,
    client_paying_company,
    imported_client,
    make_practice,
    make_service,
)
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.practice.models import Client

pytestmark = pytest.mark.django_db

MANDATE = {"account_holder": "Ada Lovelace", "sort_code": "12 34 56", "account_number": "12345678", "declaration": True}


@pytest.fixture
def catalogue():
    return make_service("t-accounts", "30.00", order=1), make_service("t-payroll", "10.00", order=2)


def test_catalogue_lists_services_with_prices(client):
    client.force_login(UserFactory.create())
    data = client.get("/api/v1/billing/services").json()
    assert {"code": "payroll", "monthly_rrp": "10.00"}.items() <= next(
        s for s in data if s["code"] == "payroll"
    ).items()


def test_practice_lists_adds_summarises_and_removes_a_clients_services(client, catalogue):
    accounts, _payroll = catalogue
    setup = make_practice(discount="20.00")
    acme = accountant_client(setup, "Acme Ltd", accounts)
    client.force_login(setup.admin)
    base = f"/api/v1/practice/clients/{acme.pk}/subscriptions"
    listing = client.get(base).json()
    assert listing["payer"] == "accountant"
    assert listing["may_change"] is True
    assert [s["service"] for s in listing["services"]] == ["t-accounts"]
    added = client.post(base, {"service": "t-payroll"}, content_type="application/json")
    assert added.status_code == 201
    assert [s["service"] for s in added.json()["services"]] == ["t-accounts", "t-payroll"]
    dry = client.post(f"{base}/removal-summary", {"services": ["t-payroll"]}, content_type="application/json").json()
    assert dry["applied"] is False
    assert dry["discount_rate"] == "20.00"
    assert dry["removed"][0]["service"] == "t-payroll"
    assert dry["remaining"] == ["t-accounts"]
    assert selectors.active_services(company=acme.company).count() == 2
    done = client.post(f"{base}/remove", {"services": ["t-payroll"]}, content_type="application/json").json()
    assert done["applied"] is True
    assert done["saving"] == dry["saving"]
    assert [i.service.code for i in selectors.active_services(company=acme.company)] == ["t-accounts"]
    last = client.post(f"{base}/remove", {"services": ["t-accounts"]}, content_type="application/json")
    assert last.status_code == 409
    assert last.json()["code"] == "subscription_last_service_unconfirmed"
    unknown = client.post(f"{base}/remove", {"services": ["nope"]}, content_type="application/json")
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "service_unknown"


def test_owner_api_payer_side_only(client, catalogue):
    accounts, payroll = catalogue
    company, owner = client_paying_company("Self Pay Ltd", accounts, payroll)
    client.force_login(owner)
    base = f"/api/v1/companies/{company.customer_number}/subscriptions"
    assert client.get(base).json()["may_change"] is True
    done = client.post(f"{base}/remove", {"services": ["t-payroll"]}, content_type="application/json")
    assert done.status_code == 200
    assert done.json()["payer"] == "client"

    setup = make_practice()
    other_owner = UserFactory.create()
    acme = accountant_client(setup, "Acme Ltd", accounts, payroll, owner=other_owner)
    client.force_login(other_owner)
    base = f"/api/v1/companies/{acme.company.customer_number}/subscriptions"
    assert client.get(base).json()["may_change"] is False
    refused = client.post(f"{base}/remove", {"services": ["t-payroll"]}, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "subscription_not_payer"


def test_api_is_404_across_practices_and_companies(client, catalogue):
    accounts, _ = catalogue
    setup = make_practice()
    other = make_practice("Other LLP")
    acme = accountant_client(setup, "Acme Ltd", accounts)
    company, _ = client_paying_company("Self Pay Ltd", accounts)
    client.force_login(other.admin)
    assert client.get(f"/api/v1/practice/clients/{acme.pk}/subscriptions").status_code == 404
    assert client.get(f"/api/v1/companies/{company.customer_number}/subscriptions").status_code == 404
    assert client.get(f"/api/v1/companies/{company.customer_number}/mandate").status_code == 404
    assert (
        client.put(
            f"/api/v1/companies/{company.customer_number}/mandate", MANDATE, content_type="application/json"
        ).status_code
        == 404
    )


def test_imported_api_moves_clients_and_refuses_51(client, catalogue):
    setup = make_practice()
    clients = [imported_client(setup, f"Imported {i:02d} Ltd") for i in range(51)]
    client.force_login(setup.admin)
    too_many = client.post(
        "/api/v1/practice/clients/imported/subscriptions",
        {"client_ids": [c.pk for c in clients], "services": ["t-accounts"], "payer": "accountant"},
        content_type="application/json",
    )
    assert too_many.status_code == 422
    assert too_many.json()["code"] == "too_many_clients"
    no_login = client.post(
        "/api/v1/practice/clients/imported/subscriptions",
        {"client_ids": [clients[0].pk], "services": ["t-accounts", "t-payroll"], "payer": "client"},
        content_type="application/json",
    )
    assert no_login.status_code == 422
    assert no_login.json()["code"] == "client_paying_needs_login"
    Client.objects.filter(pk=clients[0].pk).update(
        email="owner@imported.test", contact_name="Pat Owner", address="1 High Street", postcode="LS1 1AA"
    )
    ok = client.post(
        "/api/v1/practice/clients/imported/subscriptions",
        {
            "client_ids": [clients[0].pk],
            "services": ["t-accounts", "t-payroll"],
            "payer": "client",
            "give_access": [clients[0].pk],
        },
        content_type="application/json",
    )
    assert ok.status_code == 200
    assert ok.json() == {"moved": 1, "client_ids": [clients[0].pk], "invited_client_ids": [clients[0].pk]}
    assert Client.objects.get(pk=clients[0].pk).payer == "client"
    assert Licence.objects.get(company=clients[0].company).payer == "client"


def test_imported_api_sent_twice_says_already_added_not_not_found(client, catalogue):
    setup = make_practice()
    imported = imported_client(setup, "Twice Ltd")
    foreign = imported_client(make_practice("Other LLP"), "Foreign Ltd")
    client.force_login(setup.admin)
    url = "/api/v1/practice/clients/imported/subscriptions"
    body = {"client_ids": [imported.pk], "services": ["t-accounts"], "payer": "accountant"}
    assert client.post(url, body, content_type="application/json").status_code == 200
    again = client.post(url, body, content_type="application/json")
    assert again.status_code == 409
    assert again.json()["code"] == "clients_not_imported"
    assert "already added for Twice Ltd" in again.json()["detail"]
    assert "Active tab" in again.json()["detail"]
    mixed = client.post(url, {**body, "client_ids": [imported.pk, foreign.pk]}, content_type="application/json")
    assert mixed.status_code == 404
    assert "Foreign Ltd" not in mixed.content.decode()
    assert Licence.objects.filter(company=imported.company).count() == 1


def test_company_mandate_put_get_delete_masked(client):
    company, owner = client_paying_company()
    company.suspended_at = timezone.now()
    company.save(update_fields=["suspended_at"])
    client.force_login(owner)
    url = f"/api/v1/companies/{company.customer_number}/mandate"
    assert client.get(url).status_code == 404
    bad = client.put(url, {**MANDATE, "sort_code": "12345"}, content_type="application/json")
    assert bad.status_code == 422
    assert bad.json()["code"] == "sort_code_invalid"
    put = client.put(url, MANDATE, content_type="application/json")
    assert put.status_code == 200
    assert put.json()["sort_code"] == "**-**-56"
    assert put.json()["account_number"] == "******78"
    assert "12345678" not in client.get(url).content.decode()
    company.refresh_from_db()
    assert company.suspended_at is None
    assert client.delete(url).status_code == 204
    assert not DirectDebitMandate.objects.filter(status="active").exists()


def test_practice_mandate_for_admins_only(client):
    setup = make_practice()
    client.force_login(setup.admin)
    assert client.put("/api/v1/practice/mandate", MANDATE, content_type="application/json").status_code == 200
    assert client.get("/api/v1/practice/mandate").json()["account_number"] == "******78"
    client.force_login(UserFactory.create())
    assert client.get("/api/v1/practice/mandate").status_code == 404


def test_imported_api_gives_access_or_names_the_missing_details(client, catalogue):
    setup = make_practice()
    ready, bare = imported_client(setup, "Ready Ltd"), imported_client(setup, "Bare Ltd")
    Client.objects.filter(pk=ready.pk).update(
        email="owner@ready.test", contact_name="Pat", address="1 High Street", postcode="LS1 1AA"
    )
    client.force_login(setup.admin)
    url = "/api/v1/practice/clients/imported/subscriptions"
    refused = client.post(
        url,
        {
            "client_ids": [ready.pk, bare.pk],
            "services": ["t-accounts"],
            "payer": "accountant",
            "give_access": [bare.pk],
        },
        content_type="application/json",
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "client_details_incomplete"
    assert "Bare Ltd" in refused.json()["detail"]
    assert set(Client.objects.filter(pk__in=[ready.pk, bare.pk]).values_list("tab", flat=True)) == {"imported"}
    ok = client.post(
        url,
        {
            "client_ids": [ready.pk, bare.pk],
            "services": ["t-accounts"],
            "payer": "accountant",
            "give_access": [ready.pk],
        },
        content_type="application/json",
    )
    assert ok.status_code == 200
    assert ok.json()["invited_client_ids"] == [ready.pk]
    assert Client.objects.get(pk=ready.pk).access == "invited"
    assert Client.objects.get(pk=bare.pk).access == "none"
