import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from partnerdesk.billing.models import SubscriptionItem
from partnerdesk.billing.tests.subscription_factories import LONG_AGO, make_owner_company, make_service, subscribe
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
    assert (body["outcome"], body["decided_by"]) == ("requested", "owner")
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
    assert (bad.status_code, bad.json()["code"]) == (422, "subscription_number_format")
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


def test_a_disabled_companys_owner_cannot_manage_its_users_or_decide_requests(setup):
    owner, company = setup
    requester = UserFactory.create(email="req@example.test")
    asked = _api(requester).post(
        "/api/v1/links", {"number": company.customer_number, "email": owner.email}, content_type="application/json"
    )
    request_id = asked.json()["access_request"]["id"]
    member = UserFactory.create(email="member@example.test")
    CompanyMembership.objects.create(user=member, company=company, role="user")
    practice = Practice.objects.create(company=company_create(business_name="Ledger LLP"), name="Ledger LLP")
    Client.objects.create(practice=practice, company=company, business_name="Acme Ltd", access="disabled")

    api = _api(owner)
    members = api.get(f"/api/v1/companies/{company.customer_number}/members")
    assert (members.status_code, members.json()["code"]) == (403, "company_access_disabled")
    removed = api.delete(f"/api/v1/companies/{company.customer_number}/members/{member.pk}")
    assert (removed.status_code, removed.json()["code"]) == (403, "company_access_disabled")
    assert CompanyMembership.objects.filter(user=member, company=company).exists()
    assert api.get("/api/v1/access-requests?role=decider").json() == []
    assert api.post(f"/api/v1/access-requests/{request_id}/approve").status_code == 404
    assert api.post(f"/api/v1/access-requests/{request_id}/decline").status_code == 404
    assert not CompanyMembership.objects.filter(user=requester).exists()
    assert AccessRequest.objects.get(public_id=request_id).status == "pending"


def _query_count(client: HttpClient, path: str) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries), response.json()


def test_company_list_has_the_services_in_force_in_a_fixed_number_of_queries(setup):
    owner, company = setup
    accounts = make_service("t-accounts", "30.00", name="Test Accounts", order=1)
    payroll = make_service("t-payroll", "10.00", name="Test Payroll", order=2)
    final = make_service("t-final", "25.00", name="Test Final", order=3)
    today = timezone.localdate()
    subscribe(company, payroll, accounts)
    SubscriptionItem.objects.create(company=company, service=final, starts_on=LONG_AGO, ends_on=today)  # removed
    api = _api(owner)
    api.get("/api/v1/companies")  # the session's first request writes its own bookkeeping: not counted
    one_company, body = _query_count(api, "/api/v1/companies")
    assert [(c["business_name"], c["services"]) for c in body] == [("Acme Ltd", ["t-accounts", "t-payroll"])]

    # More companies, more services: the same number of queries (no query per company).
    for name, services in [("Bravo Ltd", [final]), ("Charlie Ltd", [accounts, final]), ("Delta Ltd", [])]:
        other, _ = make_owner_company(name, owner=owner)
        subscribe(other, *services)
    due_later = make_owner_company("Echo Ltd", owner=owner)[0]
    SubscriptionItem.objects.create(company=due_later, service=payroll, starts_on=today + dt.timedelta(days=1))
    four_more, body = _query_count(api, "/api/v1/companies")
    assert four_more == one_company
    assert four_more <= 6
    assert [(c["business_name"], c["services"]) for c in body] == [
        ("Acme Ltd", ["t-accounts", "t-payroll"]),
        ("Bravo Ltd", ["t-final"]),
        ("Charlie Ltd", ["t-accounts", "t-final"]),
        ("Delta Ltd", []),
        ("Echo Ltd", []),  # starts tomorrow
    ]
    # The same codes as the OIDC claim.
    from partnerdesk.identity.selectors import companies_claim

    assert {c["business_name"]: c["services"] for c in companies_claim(user=owner)} == {
        c["business_name"]: c["services"] for c in body
    }


def test_company_list_shows_no_services_for_a_disabled_company(setup):
    owner, company = setup
    subscribe(company, make_service("t-accounts", "30.00"))
    practice = Practice.objects.create(company=company_create(business_name="Ledger LLP"), name="Ledger LLP")
    Client.objects.create(practice=practice, company=company, business_name="Acme Ltd", access="disabled")
    [listed] = _api(owner).get("/api/v1/companies").json()
    assert (listed["access_disabled"], listed["services"]) == (True, [])


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "ledger", None),
        ("post", "ledger", {"date": "2026-01-02", "description": "Sale", "amount": "10.00"}),
        ("get", "subscriptions", None),
        ("post", "subscriptions/removal-summary", {"services": ["accounting-start"]}),
        ("get", "invoices", None),
        ("get", "mandate", None),
        ("get", "practice-requests", None),
    ],
)
def test_every_company_endpoint_tells_a_disabled_companys_owner_why(setup, method, path, body):
    """The company's own owner knows it exists: 403 ``company_access_disabled``, never a 404 "No such company"
    (which would say the company is gone) and never its data; a stranger still gets a 404."""
    from partnerdesk.ledger.models import Entry

    owner, company = setup
    practice = Practice.objects.create(company=company_create(business_name="Ledger LLP"), name="Ledger LLP")
    Client.objects.create(practice=practice, company=company, business_name="Acme Ltd", access="disabled")
    url = f"/api/v1/companies/{company.customer_number}/{path}"

    def send(user) -> Any:
        http = _api(user)
        return getattr(http, method)(url, body, content_type="application/json") if body else getattr(http, method)(url)

    response = send(owner)
    assert response.status_code == 403, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "company_access_disabled"
    assert not Entry.objects.exists()
    stranger = UserFactory.create(email="stranger@example.test")
    assert send(stranger).status_code == 404


def test_a_disabled_companys_owner_can_still_remove_their_accountant(setup):
    """Changing accountant is the owner's right even while the accountant has disabled their access: the
    relationship ends, the owner pays from tomorrow and reaches the company again."""
    owner, company = setup
    practice = Practice.objects.create(company=company_create(business_name="Ledger LLP"), name="Ledger LLP")
    Client.objects.create(practice=practice, company=company, business_name="Acme Ltd", access="disabled")
    api = _api(owner)
    page = api.get(f"/companies/{company.customer_number}/")
    assert page.status_code == 403
    assert f'href="/companies/{company.customer_number}/accountant/remove/"' in page.content.decode()
    assert api.get(f"/companies/{company.customer_number}/accountant/remove/").status_code == 200
    removed = api.post(f"/api/v1/companies/{company.customer_number}/accountant/remove")
    assert removed.status_code == 200, removed.content
    assert removed.json()["practice_name"] == "Ledger LLP"
    assert Client.all_objects.get(company=company).ended_at is not None
    assert api.get("/api/v1/companies").json()[0]["access_disabled"] is False
    assert api.get(f"/api/v1/companies/{company.customer_number}/ledger").status_code == 200


def test_own_access_requests_list_in_a_fixed_number_of_queries(django_assert_max_num_queries):
    """Each request names its requester: joined, not fetched per request."""
    requester = UserFactory.create(email="asks@example.test")
    for i in range(12):
        company = company_create(business_name=f"Asked {i:02d} Ltd", owner_email=f"owner{i}@asked.test")
        AccessRequest.objects.create(
            requester=requester, company=company, expires_at=timezone.now() + dt.timedelta(days=14)
        )
    api = _api(requester)
    api.get("/api/v1/access-requests")  # the first request records the device (usersessions)
    with django_assert_max_num_queries(3):  # session, user, requests; 15 with the requester fetched each time
        listed = api.get("/api/v1/access-requests").json()
    assert len(listed) == 12
    assert {r["requester_email"] for r in listed} == {"asks@example.test"}
