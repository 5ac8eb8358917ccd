"""Connect existing client, pages: the practice's form and Pending tab, the owner's My accountant and request
page (Accept/Decline), withdrawal with Delete Client, and 404s for everyone else."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from partnerdesk.audit.models import Action, Event
from partnerdesk.billing.licences import licence_current
from partnerdesk.identity.models import CompanyMembership
from partnerdesk.identity.services import company_create
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.notifications.models import Message, OutboundEmail
from partnerdesk.practice import connect
from partnerdesk.practice.models import Client
from partnerdesk.practice.tests.connect_factories import owned_company, practice_admin_member, request_path
from partnerdesk.practice.tests.staff_factories import add_member

pytestmark = pytest.mark.django_db
CONNECT = "/partner/clients/connect/"


def _http(user):
    http = HttpClient()
    http.force_login(user)
    return http


@pytest.fixture
def setup():
    member = practice_admin_member()
    company, owner = owned_company()
    return member, company, owner, _http(member.user), _http(owner)


def _ask(http, number, email):
    return http.post(CONNECT, {"number": number, "owner_email": email})


def _flash(http, response):
    """The messages the page redirected to shows (opening it uses them up, as a browser does)."""
    page = http.get(response["Location"])
    return [str(m) for m in page.context["messages"]]


def _table(page: str) -> str:
    return page[page.index("<table") : page.index("</table>")]


# --- The practice asks -----------------------------------------------------------------------------------


def test_connect_existing_client_is_offered_beside_add_client(setup):
    _member, _, _, admin_http, _ = setup
    page = admin_http.get("/partner/clients/").content.decode()
    assert 'href="/partner/clients/connect/">Connect existing client</a>' in page
    form = admin_http.get(CONNECT)
    assert form.status_code == 200
    body = form.content.decode()
    assert "Customer Number or Registration ID" in body
    assert "Subscription Owner&#x27;s email address" in body


def test_match_and_no_match_give_identical_responses(setup):
    member, company, owner, admin_http, _ = setup
    other_company, _ = owned_company("Managed Ltd", "mo@managed.test")
    other = practice_admin_member("Other LLP", "admin@other.test")
    Client.objects.create(practice=other.practice, company=other_company, business_name="Managed Ltd")

    attempts = {
        "match": (company.customer_number, owner.email),
        "wrong email": (company.customer_number, "nobody@acme.test"),
        "unknown number": ("10000000" if company.customer_number != "10000000" else "10000001", owner.email),
        "managed by another practice": (other_company.customer_number, "mo@managed.test"),
    }
    answers = {}
    for name, (number, email) in attempts.items():
        response = _ask(admin_http, number, email)
        answers[name] = (response.status_code, response["Location"], _flash(admin_http, response))
    assert len(set(map(repr, answers.values()))) == 1, answers
    status, location, flashed = answers["match"]
    assert (status, location) == (302, "/partner/clients/?tab=pending")
    assert flashed == [connect.CONNECT_REQUEST_SENT]
    assert "If those details match a subscription, its owner has been asked to approve" in flashed[0]
    # Only the match created anything.
    assert list(Client.objects.filter(practice=member.practice).values_list("company_id", flat=True)) == [company.pk]
    assert Client.objects.filter(company=other_company).count() == 1


def test_the_pending_tab_shows_awaiting_client_approval_without_the_company_details(setup):
    _member, company, owner, admin_http, _ = setup
    from partnerdesk.billing.models import Service, SubscriptionItem

    SubscriptionItem.objects.create(
        company=company, service=Service.objects.get(code="payroll"), starts_on=dt.date(2026, 1, 1)
    )
    _ask(admin_http, company.customer_number, owner.email)
    client = Client.objects.get(company=company)

    page = admin_http.get("/partner/clients/?tab=pending").content.decode()
    assert "Awaiting client approval" in page
    assert f"Customer Number {company.customer_number}" in page
    assert "Acme Ltd" not in page
    assert "Payroll" not in _table(page)  # the company's services are not shown before it accepts
    assert "New Client Invitation" not in page

    panel = admin_http.get(f"/partner/clients/{client.pk}/").content.decode()
    assert "Awaiting client approval" in panel
    assert "Its owner has until" in panel
    assert f'action="/partner/clients/{client.pk}/invitation/"' not in panel  # the practice cannot accept it
    manage = admin_http.get(f"/partner/clients/{client.pk}/?panel=details").content.decode()
    assert "Delete Client" in manage
    assert 'name="business_name"' not in manage  # nothing to amend until the client accepts

    # The practice's own Accept does nothing.
    response = admin_http.post(f"/partner/clients/{client.pk}/invitation/", {"decision": "accept"}, follow=True)
    assert "only they can accept it" in response.content.decode()
    client.refresh_from_db()
    assert client.tab == "pending"


def test_bad_input_is_explained_and_never_a_server_error(setup):
    _, company, _, admin_http, _ = setup
    bad_number = _ask(admin_http, "1234", "olive@acme.test")
    assert bad_number.status_code == 200
    assert "8-digit Customer Number" in bad_number.content.decode()
    bad_email = _ask(admin_http, company.customer_number, "olive-at-acme")
    assert bad_email.status_code == 200
    assert "Enter a valid email address" in bad_email.content.decode()
    empty = admin_http.post(CONNECT, {})
    assert empty.status_code == 200
    assert empty.content.decode().count("This field is required.") == 2
    huge = _ask(admin_http, "9" * 5000, "x" * 5000 + "@acme.test")
    assert huge.status_code == 200
    assert "Ensure this value has at most 20 characters" in huge.content.decode()
    assert not Client.objects.exists()


def test_too_many_attempts_are_refused_with_429(setup):
    _, company, owner, admin_http, _ = setup
    for _ in range(connect.CONNECT_PER_USER.limit):
        assert _ask(admin_http, company.customer_number, "wrong@acme.test").status_code == 302
    refused = _ask(admin_http, company.customer_number, owner.email)
    assert refused.status_code == 429
    assert "Too many attempts" in refused.content.decode()
    assert not Client.objects.exists()


def test_restricted_staff_and_outsiders_get_404(setup):
    member, company, owner, _admin_http, owner_http = setup
    restricted = add_member(member.practice, "rita@hartley.test", sees_all_clients=False)
    restricted_http = _http(restricted.user)
    assert "Connect existing client" not in restricted_http.get("/partner/clients/").content.decode()
    assert restricted_http.get(CONNECT).status_code == 404
    assert _ask(restricted_http, company.customer_number, owner.email).status_code == 404
    assert owner_http.get(CONNECT).status_code == 404  # not a practice member
    anonymous = HttpClient().get(CONNECT)
    assert anonymous.status_code == 302
    assert "/accounts/login/" in anonymous["Location"]
    assert not Client.objects.exists()


def test_delete_client_withdraws_the_request(setup):
    _member, company, owner, admin_http, owner_http = setup
    _ask(admin_http, company.customer_number, owner.email)
    client = Client.objects.get(company=company)
    path = request_path(owner.email)
    confirm = admin_http.get(f"/partner/clients/{client.pk}/delete/")
    assert confirm.status_code == 200
    assert "Yes" in confirm.content.decode()
    done = admin_http.post(f"/partner/clients/{client.pk}/delete/")
    assert done.status_code == 302
    assert not Client.all_objects.filter(pk=client.pk).exists()
    portal = owner_http.get(f"/companies/{company.customer_number}/").content.decode()
    assert "Hartley LLP withdrew its request" in portal
    _no_longer_waiting(owner_http, path, company)
    accountant = owner_http.get(f"/companies/{company.customer_number}/accountant/").content.decode()
    assert "Invite your accountant" in accountant


# --- The owner decides -------------------------------------------------------------------------------------


def test_owner_sees_the_request_in_the_portal_and_accepts(setup):
    _member, company, owner, admin_http, owner_http = setup
    _ask(admin_http, company.customer_number, owner.email)
    client = Client.objects.get(company=company)
    path = request_path(owner.email)
    assert path == f"/companies/{company.customer_number}/accountant/requests/{client.pk}/"

    portal = owner_http.get(f"/companies/{company.customer_number}/").content.decode()
    assert "Hartley LLP asks to be your accountant" in portal
    assert f'href="{path}"' in portal
    accountant = owner_http.get(f"/companies/{company.customer_number}/accountant/").content.decode()
    assert "Practices asking to be your accountant" in accountant
    assert f'href="{path}">Review request' in accountant
    assert "Invite your accountant" not in accountant  # one accountant at a time
    page = owner_http.get(path)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Hartley LLP asks to be your accountant" in body
    assert "admin@hartley.test" in body
    assert "hello@hartley.test" in body
    assert 'value="accept"' in body
    assert 'value="decline"' in body

    response = owner_http.post(path, {"decision": "accept"})
    assert response["Location"] == f"/companies/{company.customer_number}/accountant/"
    assert _flash(owner_http, response) == [
        "Hartley LLP is now your accountant. You keep paying for your own subscription."
    ]
    client.refresh_from_db()
    assert (client.tab, client.access, client.payer, client.business_name) == ("active", "both", "client", "Acme Ltd")
    licence = licence_current(company=company)
    assert licence is not None
    assert licence.payer == "client"
    assert Event.objects.filter(action=Action.CLIENT_CONNECT_ACCEPT, actor=owner, client=client).exists()
    assert OutboundEmail.objects.filter(template="practice-connect-accepted", to=["admin@hartley.test"]).exists()

    accountant = owner_http.get(f"/companies/{company.customer_number}/accountant/").content.decode()
    assert "Hartley LLP" in accountant
    assert "Remove my accountant" in accountant
    active = admin_http.get("/partner/clients/?tab=active").content.decode()
    assert "Acme Ltd" in active
    assert "My company and client both have access" in active
    _no_longer_waiting(owner_http, path, company)  # decided


def test_owner_declines_and_the_practice_is_told(setup):
    member, company, owner, admin_http, owner_http = setup
    _ask(admin_http, company.customer_number, owner.email)
    client = Client.objects.get(company=company)
    path = request_path(owner.email)
    response = owner_http.post(path, {"decision": "decline"})
    assert response.status_code == 302
    assert _flash(owner_http, response) == ["You declined the request from Hartley LLP. We have told them."]
    assert not Client.all_objects.filter(pk=client.pk).exists()
    assert OutboundEmail.objects.filter(template="practice-connect-declined", to=["admin@hartley.test"]).exists()
    assert Message.objects.filter(practice=member.practice, subject__contains="declined").exists()
    pending = admin_http.get("/partner/clients/?tab=pending").content.decode()
    assert f"/partner/clients/{client.pk}/" not in pending  # no row left (the empty tab explains the word)
    assert 'id="empty-state"' in pending


def test_an_unknown_decision_changes_nothing(setup):
    _, company, owner, admin_http, owner_http = setup
    _ask(admin_http, company.customer_number, owner.email)
    path = request_path(owner.email)
    response = owner_http.post(path, {"decision": "maybe"})
    assert (response.status_code, response["Location"]) == (302, path)
    assert Client.objects.get(company=company).awaiting_client_approval


def test_an_expired_request_is_refused_with_a_reason(setup):
    _, company, owner, admin_http, owner_http = setup
    _ask(admin_http, company.customer_number, owner.email)
    path = request_path(owner.email)
    Client.objects.filter(company=company).update(request_expires_at=timezone.now() - dt.timedelta(minutes=1))
    _no_longer_waiting(owner_http, path, company)
    response = owner_http.post(path, {"decision": "accept"})
    assert response.status_code == 302
    assert _flash(owner_http, response) == [connect.ConnectRequestExpired.title]
    assert Client.objects.get(company=company).tab == "pending"


def test_only_the_owner_of_that_company_sees_or_decides_the_request(setup):
    member, company, owner, admin_http, _owner_http = setup
    _ask(admin_http, company.customer_number, owner.email)
    client = Client.objects.get(company=company)
    path = request_path(owner.email)

    company_user = UserFactory.create(email="ursula@acme.test")
    CompanyMembership.objects.create(user=company_user, company=company, role="user")
    stranger = UserFactory.create(email="stan@example.test")
    other_company, other_owner = owned_company("Other Ltd", "otto@other.test")
    own_path_for_foreign_request = f"/companies/{other_company.customer_number}/accountant/requests/{client.pk}/"
    for user, url in (
        (company_user, path),
        (stranger, path),
        (member.user, path),
        (other_owner, path),
        (other_owner, own_path_for_foreign_request),
    ):
        http = _http(user)
        if url == own_path_for_foreign_request:
            # Their own company's page: any request id that is not open for them gets the same redirect.
            _no_longer_waiting(http, url, other_company)
        else:
            assert http.get(url).status_code == 404, (user, url)
        assert http.post(url, {"decision": "accept"}).status_code == 404, (user, url)
        assert http.post(url, {"decision": "decline"}).status_code == 404, (user, url)
    anonymous = HttpClient().post(path, {"decision": "accept"})
    assert anonymous.status_code == 302
    assert "/accounts/login/" in anonymous["Location"]
    # The company's user sees that a practice asked, and that the owner decides.
    accountant = _http(company_user).get(f"/companies/{company.customer_number}/accountant/").content.decode()
    assert "The Subscription Owner decides" in accountant
    assert "Review request" not in accountant
    client.refresh_from_db()
    assert client.awaiting_client_approval


def test_another_practice_cannot_see_the_pending_request(setup):
    _, company, owner, admin_http, _ = setup
    _ask(admin_http, company.customer_number, owner.email)
    client = Client.objects.get(company=company)
    other = practice_admin_member("Other LLP", "admin@other.test")
    other_http = _http(other.user)
    assert other_http.get(f"/partner/clients/{client.pk}/").status_code == 404
    assert other_http.post(f"/partner/clients/{client.pk}/delete/").status_code == 404
    assert "Customer Number" not in other_http.get("/partner/clients/?tab=pending").content.decode()
    assert Client.objects.filter(pk=client.pk).exists()


def test_owner_of_a_suspended_company_sees_the_blocked_page(setup):
    _, company, owner, admin_http, owner_http = setup
    _ask(admin_http, company.customer_number, owner.email)
    path = request_path(owner.email)
    company.suspended_at = timezone.now()
    company.save(update_fields=["suspended_at"])
    assert owner_http.get(path).status_code == 403
    assert owner_http.post(path, {"decision": "accept"}).status_code == 403
    assert Client.objects.get(company=company).tab == "pending"


def test_a_company_without_an_owner_is_never_asked(setup):
    _member, _, _, admin_http, _ = setup
    ghost = company_create(business_name="Ghost Ltd", owner_email="ghost@ghost.test")
    response = _ask(admin_http, ghost.customer_number, "ghost@ghost.test")
    assert _flash(admin_http, response) == [connect.CONNECT_REQUEST_SENT]
    assert not Client.objects.filter(company=ghost).exists()
    assert not OutboundEmail.objects.filter(template="practice-connect-request").exists()


def _no_longer_waiting(owner_http, path, company):
    """An old link to a request that is no longer open takes its owner to My accountant, with a word why."""
    response = owner_http.get(path)
    accountant_url = f"/companies/{company.customer_number}/accountant/"
    assert (response.status_code, response["Location"]) == (302, accountant_url)
    assert "That request is no longer waiting for your answer." in owner_http.get(accountant_url).content.decode()
