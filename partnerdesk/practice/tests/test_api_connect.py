"""Connect existing client, JSON API: the practice's request (always the same 202), the owner's list, accept and
decline; problem+json with stable codes; another company's or practice's object is a 404."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from partnerdesk.api.services import token_create
from partnerdesk.audit.models import Action, Event
from partnerdesk.billing.licences import licence_current
from partnerdesk.identity.models import CompanyMembership
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.notifications.models import OutboundEmail
from partnerdesk.practice import connect
from partnerdesk.practice.models import Client
from partnerdesk.practice.tests.connect_factories import owned_company, practice_admin_member
from partnerdesk.practice.tests.staff_factories import add_member

pytestmark = pytest.mark.django_db
ASK = "/api/v1/practice/connect-requests"


def _http(user):
    http = HttpClient()
    http.force_login(user)
    return http


@pytest.fixture
def setup():
    member = practice_admin_member()
    company, owner = owned_company()
    return member, company, owner, _http(member.user), _http(owner)


def _ask(http, number, email, **headers):
    return http.post(ASK, {"number": number, "owner_email": email}, content_type="application/json", **headers)


def _requests_url(company, suffix=""):
    return f"/api/v1/companies/{company.customer_number}/practice-requests{suffix}"


def _problem(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code
    return response.json()


def _pending(practice_http, company, owner):
    assert _ask(practice_http, company.customer_number, owner.email).status_code == 202
    return Client.objects.get(company=company)


# --- The practice asks -----------------------------------------------------------------------------------


def test_match_and_no_match_give_the_same_202(setup):
    member, company, owner, admin_http, _ = setup
    managed_company, _ = owned_company("Managed Ltd", "mo@managed.test")
    other = practice_admin_member("Other LLP", "admin@other.test")
    Client.objects.create(practice=other.practice, company=managed_company, business_name="Managed Ltd")

    answers = [
        _ask(admin_http, company.customer_number, owner.email),  # matches
        _ask(admin_http, company.customer_number, "nobody@acme.test"),
        _ask(admin_http, company.registration_id, "nobody@acme.test"),
        _ask(admin_http, "99999999" if company.customer_number != "99999999" else "99999998", owner.email),
        _ask(admin_http, managed_company.customer_number, "mo@managed.test"),  # already managed
    ]
    assert {(r.status_code, r["Content-Type"], r.content) for r in answers} == {
        (202, "application/json; charset=utf-8", b'{"detail": "' + connect.CONNECT_REQUEST_SENT.encode() + b'"}')
    }
    assert Client.objects.filter(practice=member.practice).count() == 1
    assert Client.objects.filter(company=managed_company).count() == 1

    # The practice's list shows its request awaiting the client, without the company's services or name.
    listed = admin_http.get("/api/v1/practice/clients?tab=pending").json()["results"]
    assert len(listed) == 1
    row = listed[0]
    assert (row["requested_by"], row["services"], row["business_name"]) == (
        "practice",
        [],
        f"Customer Number {company.customer_number}",
    )
    assert row["request_expires_at"] is not None


def test_bad_input_is_a_problem_with_a_stable_code(setup):
    _, company, _, admin_http, _ = setup
    _problem(_ask(admin_http, "12ab", "olive@acme.test"), 422, "subscription_number_format")
    _problem(_ask(admin_http, company.customer_number, "olive-at-acme"), 422, "email_invalid")
    _problem(admin_http.post(ASK, {"number": "12345678"}, content_type="application/json"), 422, "validation_error")
    _problem(_ask(admin_http, "1" * 21, "olive@acme.test"), 422, "validation_error")
    _problem(admin_http.post(ASK, "not json", content_type="application/json"), 400, "bad_request")
    assert not Client.objects.exists()


def test_rate_limited_with_retry_after(setup):
    _, company, owner, admin_http, _ = setup
    for _ in range(connect.CONNECT_PER_USER.limit):
        assert _ask(admin_http, company.customer_number, "wrong@acme.test").status_code == 202
    refused = _ask(admin_http, company.customer_number, owner.email)
    _problem(refused, 429, "rate_limited")
    assert int(refused["Retry-After"]) > 0
    assert not Client.objects.exists()


def test_only_practice_members_who_see_every_client_ask(setup):
    member, company, owner, _, owner_http = setup
    _problem(_ask(owner_http, company.customer_number, owner.email), 404, "not_found")
    restricted = add_member(member.practice, "rita@hartley.test", sees_all_clients=False)
    _problem(_ask(_http(restricted.user), company.customer_number, owner.email), 404, "not_found")
    _problem(_ask(HttpClient(), company.customer_number, owner.email), 401, "not_authenticated")
    assert not Client.objects.exists()


def test_bearer_token_works_too(setup):
    member, company, owner, _, _ = setup
    _, token = token_create(user=member.user, name="ci", days=1)
    response = _ask(HttpClient(), company.customer_number, owner.email, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 202
    assert Client.objects.get(company=company).awaiting_client_approval


def test_the_practice_cannot_accept_or_amend_its_request_but_can_withdraw_it(setup):
    _member, company, owner, admin_http, _ = setup
    client = _pending(admin_http, company, owner)
    _problem(
        admin_http.post(
            f"/api/v1/practice/clients/{client.pk}/invitation", {"decision": "accept"}, content_type="application/json"
        ),
        409,
        "connect_request_awaiting_client",
    )
    _problem(
        admin_http.put(
            f"/api/v1/practice/clients/{client.pk}",
            {"version": client.version, "business_name": "Acme Ltd"},
            content_type="application/json",
        ),
        409,
        "connect_request_awaiting_client",
    )
    assert admin_http.delete(f"/api/v1/practice/clients/{client.pk}").status_code == 204
    assert not Client.all_objects.filter(pk=client.pk).exists()


def test_another_practice_gets_404_for_the_request(setup):
    _, company, owner, admin_http, _ = setup
    client = _pending(admin_http, company, owner)
    other_http = _http(practice_admin_member("Other LLP", "admin@other.test").user)
    _problem(other_http.get(f"/api/v1/practice/clients/{client.pk}"), 404, "not_found")
    _problem(other_http.delete(f"/api/v1/practice/clients/{client.pk}"), 404, "not_found")
    assert other_http.get("/api/v1/practice/clients?tab=pending").json()["count"] == 0
    assert Client.objects.filter(pk=client.pk).exists()


# --- The owner decides -------------------------------------------------------------------------------------


def test_owner_lists_and_accepts(setup):
    _member, company, owner, admin_http, owner_http = setup
    assert owner_http.get(_requests_url(company)).json() == []
    client = _pending(admin_http, company, owner)

    listed = owner_http.get(_requests_url(company))
    assert listed.status_code == 200
    [item] = listed.json()
    assert item["id"] == client.pk
    assert (item["practice_name"], item["practice_email"], item["requested_by_email"]) == (
        "Hartley LLP",
        "hello@hartley.test",
        "admin@hartley.test",
    )
    assert dt.datetime.fromisoformat(item["expires_at"]) > timezone.now() + dt.timedelta(days=13)

    accepted = owner_http.post(_requests_url(company, f"/{client.pk}/accept"))
    assert accepted.status_code == 200
    assert accepted.json() == {
        "id": client.pk,
        "customer_number": company.customer_number,
        "practice_name": "Hartley LLP",
        "decision": "accepted",
    }
    client.refresh_from_db()
    assert (client.tab, client.access, client.payer) == ("active", "both", "client")
    licence = licence_current(company=company)
    assert licence is not None
    assert licence.payer == "client"
    assert Event.objects.filter(action=Action.CLIENT_CONNECT_ACCEPT, actor=owner).count() == 1
    assert OutboundEmail.objects.filter(template="practice-connect-accepted").count() == 1
    assert owner_http.get(_requests_url(company)).json() == []
    _problem(owner_http.post(_requests_url(company, f"/{client.pk}/decline")), 404, "not_found")
    detail = admin_http.get(f"/api/v1/practice/clients/{client.pk}").json()
    assert (detail["tab"], detail["business_name"], detail["request_expires_at"]) == ("active", "Acme Ltd", None)


def test_owner_declines(setup):
    _member, company, owner, admin_http, owner_http = setup
    client = _pending(admin_http, company, owner)
    declined = owner_http.post(_requests_url(company, f"/{client.pk}/decline"))
    assert declined.status_code == 200
    assert declined.json()["decision"] == "declined"
    assert declined.json()["id"] == client.pk
    assert not Client.all_objects.filter(pk=client.pk).exists()
    assert Event.objects.filter(action=Action.CLIENT_CONNECT_DECLINE, actor=owner).count() == 1
    assert OutboundEmail.objects.get(template="practice-connect-declined").to == ["admin@hartley.test"]
    assert admin_http.get("/api/v1/practice/clients?tab=pending").json()["count"] == 0


def test_an_expired_request_is_a_409(setup):
    _, company, owner, admin_http, owner_http = setup
    client = _pending(admin_http, company, owner)
    Client.objects.filter(pk=client.pk).update(request_expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert owner_http.get(_requests_url(company)).json() == []
    _problem(owner_http.post(_requests_url(company, f"/{client.pk}/accept")), 409, "connect_request_expired")
    assert Client.objects.get(pk=client.pk).tab == "pending"


def test_everyone_but_the_owner_of_that_company_gets_404(setup):
    member, company, owner, admin_http, _ = setup
    client = _pending(admin_http, company, owner)
    company_user = UserFactory.create(email="ursula@acme.test")
    CompanyMembership.objects.create(user=company_user, company=company, role="user")
    other_company, other_owner = owned_company("Other Ltd", "otto@other.test")
    stranger = UserFactory.create(email="stan@example.test")

    for user in (company_user, stranger, member.user, other_owner):
        http = _http(user)
        _problem(http.get(_requests_url(company)), 404, "not_found")
        for verb in ("accept", "decline"):
            _problem(http.post(_requests_url(company, f"/{client.pk}/{verb}")), 404, "not_found")
    # The other owner, through their own company: the request is not theirs.
    other_http = _http(other_owner)
    assert other_http.get(_requests_url(other_company)).json() == []
    for verb in ("accept", "decline"):
        _problem(other_http.post(_requests_url(other_company, f"/{client.pk}/{verb}")), 404, "not_found")
    _problem(HttpClient().get(_requests_url(company)), 401, "not_authenticated")
    # Unknown ids and malformed numbers are 404s or validation problems, never a 500.
    owner_http = _http(owner)
    _problem(owner_http.post(_requests_url(company, "/999999/accept")), 404, "not_found")
    _problem(owner_http.get("/api/v1/companies/not-a-number/practice-requests"), 404, "not_found")
    _problem(owner_http.get(f"/api/v1/companies/{'9' * 21}/practice-requests"), 422, "validation_error")
    _problem(owner_http.post(_requests_url(company, f"/{2**63}/accept")), 422, "validation_error")
    client.refresh_from_db()
    assert client.awaiting_client_approval
