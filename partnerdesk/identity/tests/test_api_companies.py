import pytest
from django.test import Client as HttpClient

from partnerdesk.identity.models import AccessRequest, CompanyMembership
from partnerdesk.identity.services import company_create
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.practice.models import Client, Practice

pytestmark = pytest.mark.django_db


def _api(user) -> HttpClient:
    client = HttpClient()
    client.force_login(user)
    return client


@pytest.fixture
def setup():
    owner = UserFactory.create(email="owner@acme.test")
    company = company_create(business_name="Acme Ltd", owner_email="owner@acme.test", owner=owner)
    CompanyMembership.objects.create(user=owner, company=company, role="owner")
    return owner, company


def test_request_approve_and_list_through_the_api(setup):
    owner, company = setup
    requester = UserFactory.create(email="req@example.test")
    response = _api(requester).post(
        "/api/v1/links", {"number": company.registration_id[-6:], "email": owner.email}, content_type="application/json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["outcome"] == "requested"
    request_id = body["access_request"]["id"]

    pending = _api(owner).get("/api/v1/access-requests?role=decider").json()
    assert [r["id"] for r in pending] == [request_id]
    approved = _api(owner).post(f"/api/v1/access-requests/{request_id}/approve")
    assert approved.json()["status"] == "approved"

    companies = _api(requester).get("/api/v1/companies").json()
    assert companies == [
        {
            "customer_number": company.customer_number,
            "business_name": "Acme Ltd",
            "role": "user",
            "access_disabled": False,
            "services": [],
        }
    ]
    members = _api(owner).get(f"/api/v1/companies/{company.customer_number}/members").json()
    assert {m["email"] for m in members} == {"owner@acme.test", "req@example.test"}
    assert _api(requester).get(f"/api/v1/companies/{company.customer_number}/members").status_code == 403
    assert _api(owner).delete(f"/api/v1/companies/{company.customer_number}/members/{requester.pk}").status_code == 204


def test_api_errors_have_stable_codes(setup):
    _owner, company = setup
    client = _api(UserFactory.create())
    bad = client.post("/api/v1/links", {"number": "12345", "email": "x@example.test"}, content_type="application/json")
    assert (bad.status_code, bad.json()["code"]) == (400, "subscription_number_format")
    none = client.post(
        "/api/v1/links", {"number": "12345678", "email": "x@example.test"}, content_type="application/json"
    )
    assert (none.status_code, none.json()["code"]) == (400, "link_no_match")
    assert client.get(f"/api/v1/companies/{company.customer_number}/members").json()["code"] == "not_found"


def test_decline_cancel_and_closed_requests(setup):
    owner, company = setup
    requester = UserFactory.create()
    rid = (
        _api(requester)
        .post(
            "/api/v1/links", {"number": company.customer_number, "email": owner.email}, content_type="application/json"
        )
        .json()["access_request"]["id"]
    )
    assert _api(UserFactory.create()).post(f"/api/v1/access-requests/{rid}/approve").status_code == 404
    assert _api(requester).post(f"/api/v1/access-requests/{rid}/cancel").json()["status"] == "cancelled"
    closed = _api(owner).post(f"/api/v1/access-requests/{rid}/approve")
    assert (closed.status_code, closed.json()["code"]) == (409, "access_request_cancelled")
    assert AccessRequest.objects.get().status == "cancelled"


def test_disabled_company_is_flagged_and_left_out_of_oidc_claims(setup):
    owner, company = setup
    practice = Practice.objects.create(company=company_create(business_name="Ledger LLP"), name="Ledger LLP")
    Client.objects.create(practice=practice, company=company, business_name="Acme Ltd", access="disabled")
    assert _api(owner).get("/api/v1/companies").json()[0]["access_disabled"] is True
    from partnerdesk.identity.selectors import companies_claim

    assert companies_claim(user=owner) == []
