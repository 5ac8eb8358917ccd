import pytest
from django.test import Client as HttpClient

from partnerdesk.audit.models import Event
from partnerdesk.identity.models import CompanyMembership
from partnerdesk.identity.services import company_create
from partnerdesk.identity.tests.conftest import without_csrf
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.notifications.models import Message, OutboundEmail
from partnerdesk.practice.models import Client, ClientAssignment, Practice, PracticeMember

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_and_practice():
    owner = UserFactory.create(email="owner@acme.test", full_name="Olive Owner")
    company = company_create(business_name="Acme Ltd", owner_email=owner.email, owner=owner)
    CompanyMembership.objects.create(user=owner, company=company, role="owner")
    practice = Practice.objects.create(
        company=company_create(business_name="Ledger LLP"), name="Ledger LLP", contact_email="hello@ledger.test"
    )
    admin = UserFactory.create(email="admin@ledger.test")
    PracticeMember.objects.create(practice=practice, user=admin, role="admin")
    owner_http, admin_http = HttpClient(), HttpClient()
    owner_http.force_login(owner)
    admin_http.force_login(admin)
    return company, practice, owner_http, admin_http


def test_owner_invites_practice_and_it_accepts(owner_and_practice):
    company, practice, owner_http, admin_http = owner_and_practice
    url = f"/companies/{company.customer_number}/accountant/"
    assert "Invite your accountant" in owner_http.get(url).content.decode()
    response = owner_http.post(url, {"email": "HELLO@ledger.test"}, follow=True)
    assert "they will see your invitation" in response.content.decode()
    assert "You invited <strong>hello@ledger.test</strong>" in response.content.decode()
    assert "Ledger LLP" not in response.content.decode()  # never says whose address it is
    client = Client.objects.get(company=company)
    assert (client.tab, client.payer, client.access) == ("pending", "client", "both")
    assert OutboundEmail.objects.get(template="practice-client-invitation").to == ["admin@ledger.test"]
    assert Message.objects.filter(practice=practice, subject="New Client Invitation: Acme Ltd").exists()

    pending = admin_http.get("/partner/clients/?tab=pending").content.decode()
    assert "New Client Invitation" in pending
    panel = admin_http.get(f"/partner/clients/{client.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert '<p class="status-line"><strong>New Client Invitation</strong>' in panel  # not "both have access" yet
    admin_http.post(f"/partner/clients/{client.pk}/invitation/", {"decision": "accept"})
    client.refresh_from_db()
    assert (client.tab, client.payer) == ("active", "client")  # still client-paying
    assert OutboundEmail.objects.filter(template="practice-client-invitation-accepted", to=["owner@acme.test"]).exists()
    assert "Ledger LLP" in owner_http.get(url).content.decode()
    assert Event.objects.filter(action="practice.client.invitation_accept", client=client).exists()


def test_practice_declines(owner_and_practice):
    company, _, owner_http, admin_http = owner_and_practice
    owner_http.post(f"/companies/{company.customer_number}/accountant/", {"email": "admin@ledger.test"})
    client = Client.objects.get(company=company)
    url = f"/partner/clients/{client.pk}/invitation/"
    # Decline asks Yes first (as Delete Client); a post without a decision decides nothing.
    asked = admin_http.post(url, {"decision": "decline"})
    assert asked.status_code == 200
    assert "Decline the invitation?" in asked.content.decode()
    assert 'name="confirm" value="yes"' in asked.content.decode()
    admin_http.post(url, {})
    assert Client.objects.filter(pk=client.pk, tab="pending").exists()
    admin_http.post(url, {"decision": "decline", "confirm": "yes"})
    assert not Client.objects.filter(company=company).exists()
    assert OutboundEmail.objects.filter(template="practice-client-invitation-declined").exists()


def test_unknown_practice_email_gets_the_same_answer_and_creates_no_client(owner_and_practice):
    company, _, owner_http, _ = owner_and_practice
    response = owner_http.post(
        f"/companies/{company.customer_number}/accountant/", {"email": "nobody@nowhere.test"}, follow=True
    )
    assert "they will see your invitation" in response.content.decode()
    assert "You invited <strong>nobody@nowhere.test</strong>" in response.content.decode()
    assert not Client.objects.exists()


def _owner_journey(email: str) -> tuple[str, str, int, str]:
    """Invite, look at My accountant, invite again: what the owner sees, with the typed address masked."""
    owner = UserFactory.create(email=f"owner-{email}", full_name="Olive Owner")
    company = company_create(business_name="Same Ltd", owner_email=owner.email, owner=owner)
    CompanyMembership.objects.create(user=owner, company=company, role="owner")
    http = HttpClient()
    http.force_login(owner)
    url = f"/companies/{company.customer_number}/accountant/"
    first = http.post(url, {"email": email}, follow=True).content.decode()
    again = http.post(
        f"/api/v1/companies/{company.customer_number}/accountant-invitation",
        {"email": "someone@else.test"},
        content_type="application/json",
    )
    shown = http.get(f"/api/v1/companies/{company.customer_number}/accountant-invitation").json()

    def mask(text: str) -> str:
        for value in (email, company.customer_number, owner.email):
            text = text.replace(value, "X")
        return without_csrf(text)

    return mask(first), again.json()["code"], again.status_code, mask(shown["email"])


def test_a_practices_address_and_an_unknown_one_look_the_same_to_the_owner(owner_and_practice):
    known = _owner_journey("hello@ledger.test")
    unknown = _owner_journey("nobody@nowhere.test")
    assert known == unknown
    assert known[1:3] == ("accountant_invitation_pending", 409)


def test_a_second_invitation_from_a_stale_page_says_why_it_was_refused(owner_and_practice):
    company, _, owner_http, _ = owner_and_practice
    url = f"/companies/{company.customer_number}/accountant/"
    owner_http.post(url, {"email": "nobody@nowhere.test"})
    again = owner_http.post(url, {"email": "other@nowhere.test"}, follow=True).content.decode()
    assert "You have already invited nobody@nowhere.test" in again


def test_the_owner_withdraws_an_invitation_and_the_practice_row_goes(owner_and_practice):
    company, practice, owner_http, admin_http = owner_and_practice
    url = f"/companies/{company.customer_number}/accountant/"
    owner_http.post(url, {"email": "hello@ledger.test"})
    client = Client.objects.get(company=company)
    withdrawn = owner_http.post(f"{url}invitation/withdraw/", follow=True).content.decode()
    assert "Invitation withdrawn" in withdrawn
    assert "Invite your accountant" in withdrawn
    assert not Client.objects.filter(pk=client.pk).exists()
    assert Message.objects.filter(practice=practice, subject="Invitation withdrawn: Acme Ltd").exists()
    assert OutboundEmail.objects.get(template="practice-client-invitation-withdrawn").to == ["admin@ledger.test"]
    messages_page = admin_http.get("/partner/messages/").content.decode()
    assert "Invitation withdrawn: Acme Ltd" in messages_page
    # Not every message is emailed (a client activating their access is in-app only): the page doesn't say so.
    assert "Each was also emailed" not in messages_page
    assert "except news of a client's access" in messages_page
    assert "New Client Invitation: Acme Ltd" in messages_page
    listed = admin_http.get("/api/v1/practice/messages").json()
    assert [m["subject"] for m in listed["results"]][:2] == [
        "Invitation withdrawn: Acme Ltd",
        "New Client Invitation: Acme Ltd",
    ]
    assert Event.objects.filter(action="practice.client.invite_practice_withdraw", company=company).exists()
    # The practice's Accept now finds nothing; the owner may invite another address (by the API this time).
    assert admin_http.post(f"/partner/clients/{client.pk}/invitation/", {"decision": "accept"}).status_code == 404
    invited = owner_http.post(
        f"/api/v1/companies/{company.customer_number}/accountant-invitation",
        {"email": "nobody@nowhere.test"},
        content_type="application/json",
    )
    assert invited.status_code == 202
    assert owner_http.delete(f"/api/v1/companies/{company.customer_number}/accountant-invitation").status_code == 204
    missing = owner_http.delete(f"/api/v1/companies/{company.customer_number}/accountant-invitation")
    assert (missing.status_code, missing.json()["code"]) == (409, "no_accountant_invitation")


def test_a_declined_invitation_lets_the_owner_invite_again(owner_and_practice):
    company, _, owner_http, admin_http = owner_and_practice
    url = f"/companies/{company.customer_number}/accountant/"
    owner_http.post(url, {"email": "hello@ledger.test"})
    client = Client.objects.get(company=company)
    admin_http.post(f"/partner/clients/{client.pk}/invitation/", {"decision": "decline", "confirm": "yes"})
    assert "Invite your accountant" in owner_http.get(url).content.decode()
    owner_http.post(url, {"email": "hello@ledger.test"})
    assert Client.objects.filter(company=company, tab="pending").count() == 1


def test_only_the_owner_invites_and_only_pending_can_be_decided(owner_and_practice):
    company, practice, _, admin_http = owner_and_practice
    user = UserFactory.create()
    CompanyMembership.objects.create(user=user, company=company, role="user")
    user_http = HttpClient()
    user_http.force_login(user)
    user_http.post(f"/companies/{company.customer_number}/accountant/", {"email": "hello@ledger.test"})
    assert not Client.objects.exists()
    active = Client.objects.create(practice=practice, company=company_create(business_name="B"), business_name="B")
    response = admin_http.post(
        f"/partner/clients/{active.pk}/invitation/", {"decision": "decline", "confirm": "yes"}, follow=True
    )
    assert "not waiting on your Pending tab" in response.content.decode()
    assert Client.objects.filter(pk=active.pk).exists()


def test_invitation_through_the_api(owner_and_practice):
    company, _, owner_http, admin_http = owner_and_practice
    sent = owner_http.post(
        f"/api/v1/companies/{company.customer_number}/accountant-invitation",
        {"email": "hello@ledger.test"},
        content_type="application/json",
    )
    assert sent.status_code == 202
    again = owner_http.post(
        f"/api/v1/companies/{company.customer_number}/accountant-invitation",
        {"email": "hello@ledger.test"},
        content_type="application/json",
    )
    assert (again.status_code, again.json()["code"]) == (409, "accountant_invitation_pending")
    client = Client.objects.get(company=company)
    accepted = admin_http.post(
        f"/api/v1/practice/clients/{client.pk}/invitation", {"decision": "accept"}, content_type="application/json"
    )
    assert (accepted.status_code, accepted.json()["tab"], accepted.json()["payer"]) == (200, "active", "client")


def test_messages_are_the_practices_own_and_restricted_staff_see_only_their_clients(owner_and_practice):
    company, practice, owner_http, admin_http = owner_and_practice
    owner_http.post(f"/companies/{company.customer_number}/accountant/", {"email": "hello@ledger.test"})
    assert "New Client Invitation: Acme Ltd" in admin_http.get("/partner/messages/").content.decode()
    restricted = UserFactory.create(email="rita@ledger.test")
    PracticeMember.objects.create(practice=practice, user=restricted, role="staff", sees_all_clients=False)
    other = Practice.objects.create(company=company_create(business_name="Other LLP"), name="Other LLP")
    outsider = UserFactory.create(email="admin@other.test")
    PracticeMember.objects.create(practice=other, user=outsider, role="admin")
    for person in (restricted, outsider):
        http = HttpClient()
        http.force_login(person)
        assert "No messages yet." in http.get("/partner/messages/").content.decode()
        assert http.get("/api/v1/practice/messages").json()["count"] == 0


def test_restricted_staff_see_messages_about_their_clients_even_once_the_client_is_gone(owner_and_practice):
    company, practice, owner_http, admin_http = owner_and_practice
    owner_http.post(f"/companies/{company.customer_number}/accountant/", {"email": "hello@ledger.test"})
    pending = Client.objects.get(company=company, tab="pending")
    rita = UserFactory.create(email="rita@ledger.test")
    assigned = PracticeMember.objects.create(practice=practice, user=rita, role="staff", sees_all_clients=False)
    ClientAssignment.objects.create(member=assigned, client=pending)
    tom = UserFactory.create(email="tom@ledger.test")
    PracticeMember.objects.create(practice=practice, user=tom, role="staff", sees_all_clients=False)
    rita_http, tom_http = HttpClient(), HttpClient()
    rita_http.force_login(rita)
    tom_http.force_login(tom)
    # About a client Rita can see (assigned after it arrived): shown.
    assert "New Client Invitation: Acme Ltd" in rita_http.get("/partner/messages/").content.decode()
    owner_http.post(f"/companies/{company.customer_number}/accountant/invitation/withdraw/")
    assert not Client.objects.filter(pk=pending.pk).exists()
    # The client is gone, but Rita could see it when the withdrawal was posted: she learns of it.
    page = rita_http.get("/partner/messages/").content.decode()
    assert "Invitation withdrawn: Acme Ltd" in page
    listed = rita_http.get("/api/v1/practice/messages").json()
    assert [m["subject"] for m in listed["results"]] == ["Invitation withdrawn: Acme Ltd"]
    # Tom was never assigned it; the admin sees everything.
    assert "No messages yet." in tom_http.get("/partner/messages/").content.decode()
    assert tom_http.get("/api/v1/practice/messages").json()["count"] == 0
    assert admin_http.get("/api/v1/practice/messages").json()["count"] == 2
