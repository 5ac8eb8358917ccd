"""A person asks to use the subscription of a client a practice manages without an owner (non-participating): the
practice's admin decides, and approving gives the client access. The requester becomes the Subscription Owner, the
client is participating with "My company and client both have access" everywhere (client list, filters, side
panel, Manage menu, JSON API, History), and the access lifecycle works from there (Disable / Enable for an
accountant-paying client, Stop Managing -> Yes, Remove my accountant)."""

from __future__ import annotations

import re

import pytest
from django.test import Client as Browser
from django.urls import reverse

from partnerdesk.audit.models import Action, Event
from partnerdesk.billing.models import Licence
from partnerdesk.identity.models import AccessRequest, Company, CompanyMembership, User
from partnerdesk.identity.selectors import companies_claim
from partnerdesk.identity.services import company_link
from partnerdesk.identity.tests.factories import UserFactory, requested
from partnerdesk.notifications.models import Message, OutboundEmail
from partnerdesk.notifications.tasks import render_email
from partnerdesk.practice import lifecycle
from partnerdesk.practice.models import Client, ClientAccessInvitation, PracticeMember
from partnerdesk.practice.tests.lifecycle_factories import activation_token, managed_client
from partnerdesk.practice.tests.staff_factories import add_member, make_practice

pytestmark = pytest.mark.django_db
BOTH = "My company and client both have access"


def _browser(user: User) -> Browser:
    browser = Browser()
    browser.force_login(user)
    return browser


def _ownerless(practice, name: str = "Acme Ltd", owner_email: str = "ada@acme.test", **facts) -> Client:
    """An Active, non-participating, accountant-paying client with complete details, whose subscription records
    ``owner_email`` (as Add client with an email does) but has no owner who signs in."""
    client = managed_client(practice, name, email=owner_email, **facts)
    Company.objects.filter(pk=client.company_id).update(owner_email=owner_email)
    client.refresh_from_db()
    return client


def _ask(client: Client, email: str = "ada@acme.test", *, owner_email: str = "ada@acme.test") -> AccessRequest:
    person = User.objects.filter(email=email).first() or UserFactory.create(email=email, full_name="Ada Lovelace")
    result = company_link(user=person, number=client.company.customer_number, email=owner_email)
    assert result.decided_by == "accountant"
    return requested(result)


def _status_line(page: str) -> str:
    found = re.search(r'<p class="status-line"><strong>([^<]*)</strong>', page)
    assert found, page
    return found.group(1)


def _manage_menu(page: str) -> str:
    found = re.search(r'<ul class="manage-menu".*?</ul>', page, re.S)
    assert found, page
    return found.group(0)


def _list_row(page: str, name: str) -> str:
    found = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*{re.escape(name)}(?:(?!</tr>).)*</tr>", page, re.S)
    assert found, f"no row for {name}"
    return found.group(0)


# --- the practice approves: the state everywhere ------------------------------------------------------------


def test_approving_in_the_portal_gives_the_client_access_in_the_list_panel_manage_menu_and_history():
    practice, admin = make_practice()
    client = _ownerless(practice)
    access_request = _ask(client)
    browser = _browser(admin)
    page = browser.get(reverse("identity:access_request", args=[access_request.public_id]) + "?decision=approve")
    text = page.content.decode()
    assert "becomes its Subscription Owner with their own login" in text
    assert "&ldquo;My company and client both have access&rdquo;" in text

    response = browser.post(reverse("identity:access_request_approve", args=[access_request.public_id]))
    assert response.status_code == 302
    assert response["Location"] == reverse("practice:client", args=[client.pk])

    ada = User.objects.get(email="ada@acme.test")
    company = Company.objects.get(pk=client.company_id)
    assert company.owner == ada
    assert CompanyMembership.objects.get(user=ada, company=company).role == "owner"
    client.refresh_from_db()
    assert (client.access, client.email, client.payer) == ("both", "ada@acme.test", "accountant")

    panel = browser.get(response["Location"]).content.decode()
    assert "is now the Subscription Owner of Acme Ltd" in panel
    assert _status_line(panel) == BOTH
    assert "Participating (has their own login)" in panel
    menu = _manage_menu(browser.get(reverse("practice:client", args=[client.pk]) + "?panel=details").content.decode())
    assert "Edit Client Details" in menu
    assert "Disable" in menu
    assert "Give client access" not in menu

    listing = browser.get(reverse("practice:clients")).content.decode()
    assert BOTH in _list_row(listing, "Acme Ltd")
    assert "Acme Ltd" in browser.get(reverse("practice:clients") + "?access=both").content.decode()
    assert "Acme Ltd" not in browser.get(reverse("practice:clients") + "?access=none").content.decode()

    history = browser.get(reverse("practice:client", args=[client.pk]) + "?panel=history").content.decode()
    assert "Access requested by ada@acme.test" in history
    assert (
        "Access request from ada@acme.test approved: they are the Subscription Owner, and the client has access"
        in history
    )
    event = Event.objects.get(action=Action.ACCESS_REQUEST_APPROVE)
    assert (event.practice_id, event.client_id, event.actor_id) == (practice.pk, client.pk, admin.pk)
    assert event.data["access"] == {"from": "none", "to": "both"}
    assert event.data["owner"] == "ada@acme.test"


def test_approving_through_the_api_shows_the_client_with_access_in_the_practice_api():
    practice, admin = make_practice()
    client = _ownerless(practice)
    access_request = _ask(client)
    api = _browser(admin)
    pending = api.get("/api/v1/access-requests?role=decider").json()
    assert [r["id"] for r in pending] == [str(access_request.public_id)]
    approved = api.post(f"/api/v1/access-requests/{access_request.public_id}/approve")
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"

    body = api.get(f"/api/v1/practice/clients/{client.pk}").json()
    assert (body["access"], body["access_label"], body["participating"]) == ("both", BOTH, True)
    assert body["email"] == "ada@acme.test"
    listed = api.get("/api/v1/practice/clients?access=both").json()["results"]
    assert [c["id"] for c in listed] == [client.pk]
    assert api.get("/api/v1/practice/clients?access=none").json()["results"] == []
    # The new owner's products see the company.
    ada = User.objects.get(email="ada@acme.test")
    assert [c["role"] for c in companies_claim(user=ada)] == ["owner"]


def test_the_emails_say_the_practice_decides_and_that_the_requester_becomes_the_owner():
    practice, admin = make_practice()
    client = _ownerless(practice)
    access_request = _ask(client)
    asked = render_email(OutboundEmail.objects.get(template="access-request-approval"))
    assert asked.to == [admin.email]
    assert "so your practice decides. If you approve, Ada Lovelace becomes its Subscription Owner" in asked.body
    assert '"My company and client both have access"' in asked.body
    _browser(admin).post(reverse("identity:access_request_approve", args=[access_request.public_id]))
    told = render_email(OutboundEmail.objects.get(template="access-request-approved"))
    assert told.to == ["ada@acme.test"]
    assert "approved by Hartley LLP, the accountant who manages it. You are now its Subscription Owner" in told.body
    [(html, _)] = told.alternatives
    assert "You are now its Subscription Owner" in str(html)
    assert Message.objects.filter(practice=practice, client=client, subject="Acme Ltd now has access").exists()


def test_approving_twice_or_after_a_colleague_says_what_happened_not_404():
    practice, admin = make_practice()
    colleague = add_member(practice, "second-admin@hartley.test", role=PracticeMember.Role.ADMIN)
    client = _ownerless(practice)
    access_request = _ask(client)
    browser = _browser(admin)
    approve = reverse("identity:access_request_approve", args=[access_request.public_id])
    assert browser.post(approve)["Location"] == reverse("practice:client", args=[client.pk])
    again = browser.post(approve)  # a double click: the requester is the owner now, who decides from here on
    assert (again.status_code, again["Location"]) == (302, reverse("practice:client", args=[client.pk]))
    declined = browser.post(f"/api/v1/access-requests/{access_request.public_id}/decline")
    assert (declined.status_code, declined.json()["code"]) == (409, "access_request_approved")
    # The colleague who opens the email's link afterwards reads what became of it.
    page = _browser(colleague.user).get(reverse("identity:access_request", args=[access_request.public_id]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "<dt>Status</dt><dd>Approved</dd>" in text
    assert "Approve</button>" not in text
    assert Event.objects.filter(action=Action.ACCESS_REQUEST_APPROVE).count() == 1
    # Anyone else still gets a 404.
    stranger = UserFactory.create(email="someone@else.test")
    assert (
        _browser(stranger).get(reverse("identity:access_request", args=[access_request.public_id])).status_code == 404
    )


def test_home_asks_the_practice_to_confirm_and_the_requester_sees_who_decides():
    practice, admin = make_practice()
    client = _ownerless(practice)
    access_request = _ask(client)
    home = _browser(admin).get("/").content.decode()
    confirm = reverse("identity:access_request", args=[access_request.public_id]) + "?decision=approve"
    assert f'href="{confirm}"' in home
    assert reverse("identity:access_request_approve", args=[access_request.public_id]) not in home
    mine = _browser(access_request.requester).get(reverse("identity:access_request", args=[access_request.public_id]))
    assert "Waiting for approval from the accountant who manages Acme Ltd." in mine.content.decode()


# --- the rules of Give client access ---------------------------------------------------------------------


def test_incomplete_details_are_amended_first_and_the_request_waits():
    practice, admin = make_practice()
    client = _ownerless(practice, address="", postcode="")
    access_request = _ask(client)
    browser = _browser(admin)
    page = browser.get(reverse("identity:access_request", args=[access_request.public_id])).content.decode()
    assert "Before you approve, amend Acme Ltd's business details: Address, Postcode missing." in page
    refused = browser.post(f"/api/v1/access-requests/{access_request.public_id}/approve")
    assert refused.status_code == 409
    assert refused.json()["code"] == "client_details_incomplete"
    response = browser.post(reverse("identity:access_request_approve", args=[access_request.public_id]), follow=True)
    assert "Address, Postcode missing" in response.content.decode()
    access_request.refresh_from_db()
    assert access_request.status == "pending"
    client.refresh_from_db()
    assert (client.access, client.company.owner_id) == ("none", None)
    assert not CompanyMembership.objects.filter(company=client.company).exists()
    Client.objects.filter(pk=client.pk).update(address="1 High Street", postcode="AB1 2CD")
    assert browser.post(f"/api/v1/access-requests/{access_request.public_id}/approve").status_code == 200
    client.refresh_from_db()
    assert client.access == "both"


def test_someone_of_the_practice_is_not_made_the_clients_owner():
    practice, admin = make_practice()
    colleague = add_member(practice, "staff@hartley.test", role=PracticeMember.Role.STAFF)
    client = _ownerless(practice)
    access_request = _ask(client, email=colleague.user.email)
    refused = _browser(admin).post(f"/api/v1/access-requests/{access_request.public_id}/approve")
    assert refused.status_code == 409
    assert refused.json()["code"] == "requester_is_practice_member"
    assert Company.objects.get(pk=client.company_id).owner_id is None


def test_approving_while_awaiting_activation_cancels_the_invitation():
    practice, admin = make_practice()
    member = PracticeMember.objects.get(user=admin)
    client = _ownerless(practice)
    lifecycle.client_access_invite(
        member=member, client_id=client.pk, email="ada@acme.test", email_confirm="ada@acme.test"
    )
    token = activation_token("ada@acme.test")
    access_request = _ask(client)
    assert _browser(admin).post(f"/api/v1/access-requests/{access_request.public_id}/approve").status_code == 200
    client.refresh_from_db()
    assert client.access == "both"
    assert ClientAccessInvitation.objects.get(client=client).status == "cancelled"
    assert Event.objects.get(action=Action.ACCESS_REQUEST_APPROVE).data["access"] == {"from": "invited", "to": "both"}
    with pytest.raises(lifecycle.ActivationClosed):
        lifecycle.activation_for_token(token=token)


def test_someone_typing_the_owner_email_is_the_owner_the_practice_approved():
    """The practice sees who asks (name and address) and approves that person: they become the owner and the
    client's email follows their login, as a participating client's does (decision 41)."""
    practice, admin = make_practice()
    client = _ownerless(practice)
    access_request = _ask(client, email="bob@acme.test", owner_email="ada@acme.test")
    _browser(admin).post(f"/api/v1/access-requests/{access_request.public_id}/approve")
    company = Company.objects.select_related("owner").get(pk=client.company_id)
    assert company.owner is not None
    assert (company.owner.email, company.owner_email) == ("bob@acme.test", "bob@acme.test")
    client.refresh_from_db()
    assert client.email == "bob@acme.test"


def test_declining_leaves_the_client_as_it_was_and_shows_in_its_history():
    practice, admin = make_practice()
    client = _ownerless(practice)
    access_request = _ask(client)
    browser = _browser(admin)
    browser.post(reverse("identity:access_request_decline", args=[access_request.public_id]))
    client.refresh_from_db()
    assert (client.access, client.company.owner_id) == ("none", None)
    history = browser.get(reverse("practice:client", args=[client.pk]) + "?panel=history").content.decode()
    assert "Access request from ada@acme.test declined" in history


def test_after_approval_the_owner_decides_the_next_request():
    practice, admin = make_practice()
    client = _ownerless(practice)
    _browser(admin).post(f"/api/v1/access-requests/{_ask(client).public_id}/approve")
    bob = UserFactory.create(email="bob@acme.test")
    result = company_link(user=bob, number=client.company.customer_number, email="ada@acme.test")
    assert result.decided_by == "owner"
    assert _browser(admin).post(f"/api/v1/access-requests/{requested(result).public_id}/approve").status_code == 404
    ada = User.objects.get(email="ada@acme.test")
    assert _browser(ada).post(f"/api/v1/access-requests/{requested(result).public_id}/approve").status_code == 200
    assert CompanyMembership.objects.get(user=bob, company=client.company).role == "user"
    client.refresh_from_db()
    assert client.access == "both"


# --- the lifecycle from there ------------------------------------------------------------------------------


def _approved(practice, admin, **facts) -> tuple[Client, User]:
    client = _ownerless(practice, **facts)
    assert _browser(admin).post(f"/api/v1/access-requests/{_ask(client).public_id}/approve").status_code == 200
    client.refresh_from_db()
    return client, User.objects.get(email="ada@acme.test")


def test_disable_then_enable_in_the_portal_for_an_approved_client():
    practice, admin = make_practice()
    client, ada = _approved(practice, admin)
    browser = _browser(admin)
    assert browser.post(reverse("practice:access_disable", args=[client.pk])).status_code == 302
    client.refresh_from_db()
    assert client.access == "disabled"
    assert companies_claim(user=ada) == []
    assert OutboundEmail.objects.filter(template="client-access-disabled", to=["ada@acme.test"]).exists()
    panel = browser.get(reverse("practice:client", args=[client.pk])).content.decode()
    assert _status_line(panel) == "Client access disabled"
    assert "Enable" in _manage_menu(
        browser.get(reverse("practice:client", args=[client.pk]) + "?panel=details").content.decode()
    )
    assert browser.post(reverse("practice:access_enable", args=[client.pk])).status_code == 302
    client.refresh_from_db()
    assert client.access == "both"
    assert [c["customer_number"] for c in companies_claim(user=ada)] == [client.company.customer_number]


def test_disable_through_the_api_and_not_for_a_client_who_pays():
    practice, admin = make_practice()
    client, _ = _approved(practice, admin)
    api = _browser(admin)
    assert api.post(f"/api/v1/practice/clients/{client.pk}/disable").json()["access"] == "disabled"
    assert api.post(f"/api/v1/practice/clients/{client.pk}/enable").json()["access"] == "both"
    # Decision 66: Disable is for clients the practice pays for.
    Client.objects.filter(pk=client.pk).update(payer=Client.Payer.CLIENT)
    refused = api.post(f"/api/v1/practice/clients/{client.pk}/disable")
    assert (refused.status_code, refused.json()["code"]) == (409, "client_pays")
    menu = _manage_menu(api.get(reverse("practice:client", args=[client.pk]) + "?panel=details").content.decode())
    assert "Disable" not in menu


def test_the_new_owner_can_remove_their_accountant():
    practice, admin = make_practice()
    client, ada = _approved(practice, admin)
    response = _browser(ada).post(reverse("identity:company_accountant_remove", args=[client.company.customer_number]))
    assert response.status_code == 302
    ended = Client.all_objects.get(pk=client.pk)
    assert ended.ended_reason == "revoked_by_client"
    assert Licence.objects.filter(company=client.company, payer="client").count() == 1


def test_stop_managing_an_approved_client_is_yes_not_transfer_or_delete():
    practice, admin = make_practice()
    client, _ = _approved(practice, admin)
    api = _browser(admin)
    refused = api.post(
        f"/api/v1/practice/clients/{client.pk}/stop", {"mode": "transfer"}, content_type="application/json"
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "client_is_participating")
    stop_page = api.get(reverse("practice:stop_managing", args=[client.pk])).content.decode()
    assert "Transfer this data" not in stop_page
    stopped = api.post(
        f"/api/v1/practice/clients/{client.pk}/stop", {"mode": "participating"}, content_type="application/json"
    )
    assert stopped.status_code == 200
    assert Client.all_objects.get(pk=client.pk).ended_reason == "transferred"
    assert OutboundEmail.objects.filter(template="client-practice-stopped", to=["ada@acme.test"]).exists()
