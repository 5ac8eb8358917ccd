"""The JSON API of the client access lifecycle: each endpoint's happy path, its refusals with their stable
codes, the licence rows, audit events and emails it leaves behind, and the 404 for anyone who may not see
the client."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.test import Client as HttpClient
from django.utils import timezone

from partnerdesk.api.services import token_create
from partnerdesk.audit.models import Action, Event
from partnerdesk.billing.licences import licence_open
from partnerdesk.billing.models import Licence
from partnerdesk.identity.models import Company, CompanyMembership, User
from partnerdesk.identity.services import company_create
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.notifications.models import OutboundEmail
from partnerdesk.notifications.tasks import render_email
from partnerdesk.practice.models import Client, ClientAccessInvitation, ClientAssignment, Practice, PracticeMember
from partnerdesk.practice.tests.staff_factories import add_member, make_client, make_practice

pytestmark = pytest.mark.django_db
API = "/api/v1"
JSON = "application/json"


# --- builders ---------------------------------------------------------------------------------------


def _http(user: User) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


def _practice(name: str = "Hartley LLP", email: str = "admin@hartley.test") -> tuple[Practice, User, HttpClient]:
    practice, admin = make_practice(name, email)
    return practice, admin, _http(admin)


def _managed(practice: Practice, name: str = "Acme Ltd", **facts: Any) -> Client:
    """Active, non-participating, accountant-paying, complete business details, with its open licence."""
    details = {"contact_name": "Ada Lovelace", "address": "1 High Street", "postcode": "AB1 2CD", **facts}
    client = make_client(practice, name, **details)
    with transaction.atomic():
        licence_open(
            company=client.company, payer=Licence.Payer.ACCOUNTANT, practice=practice, starts_on=timezone.localdate()
        )
    return client


def _participating(practice: Practice, name: str = "Owned Ltd", email: str = "owner@owned.test") -> tuple[Client, User]:
    client = _managed(practice, name, email=email, access=Client.Access.BOTH)
    owner = UserFactory.create(email=email)
    Company.objects.filter(pk=client.company_id).update(owner=owner, owner_email=email)
    CompanyMembership.objects.create(user=owner, company=client.company, role=CompanyMembership.Role.OWNER)
    client.refresh_from_db()
    return client, owner


def _post(http: HttpClient, path: str, body: dict[str, Any] | None = None) -> Any:
    return http.post(f"{API}{path}", body or {}, content_type=JSON)


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def _invite(http: HttpClient, client: Client, email: str = "ada@acme.test") -> Any:
    return _post(http, f"/practice/clients/{client.pk}/access-invitation", {"email": email, "email_confirm": email})


def _emails(template: str) -> list[OutboundEmail]:
    return list(OutboundEmail.objects.filter(template=template).order_by("created_at"))


def _token(email: str, template: str = "client-activation") -> str:
    sent = [e for e in _emails(template) if email in e.to]
    assert sent, f"no {template} email to {email}"
    return str(sent[-1].context["activation_path"]).rstrip("/").rsplit("/", 1)[-1]


def _events(action: Action, client: Client) -> list[Event]:
    return list(Event.objects.filter(action=action, client_id=client.pk).order_by("id"))


def _licences(client: Client) -> list[tuple[str, dt.date, dt.date | None]]:
    return list(
        Licence.objects.filter(company_id=client.company_id)
        .order_by("starts_on", "id")
        .values_list("payer", "starts_on", "ends_on")
    )


def _today() -> dt.date:
    return timezone.localdate()


# --- Give client access: invite, resend, cancel -------------------------------------------------------


def test_invite_and_continue_returns_the_client_awaiting_activation_and_queues_the_email():
    practice, admin, http = _practice()
    client = _managed(practice)
    response = _post(
        http,
        f"/practice/clients/{client.pk}/access-invitation",
        {"email": " Ada@Acme.test ", "email_confirm": "ada@acme.TEST"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["id"], body["access"], body["email"], body["participating"]) == (
        client.pk,
        "invited",
        "ada@acme.test",
        False,
    )
    assert body["access_label"] == "Awaiting Client Activation"
    assert body["customer_number"] == client.company.customer_number
    assert (body["ended_at"], body["ended_reason"]) == (None, "")
    assert "token" not in response.content.decode()
    [email] = _emails("client-activation")
    assert email.to == ["ada@acme.test"]
    assert email.context["business_name"] == "Acme Ltd"
    token = _token("ada@acme.test")
    assert token not in response.content.decode()
    invitation = ClientAccessInvitation.objects.get(client=client)
    assert (invitation.status, invitation.purpose, invitation.email) == ("pending", "access", "ada@acme.test")
    assert invitation.token_hash != token
    [event] = _events(Action.CLIENT_ACCESS_INVITE, client)
    assert (event.actor_id, event.practice_id, event.company_id) == (admin.pk, practice.pk, client.company_id)
    assert event.data["email"] == "ada@acme.test"
    assert Company.objects.get(pk=client.company_id).owner_email == "ada@acme.test"


@pytest.mark.parametrize(
    ("email", "confirm", "status", "code"),
    [
        ("ada@acme.test", "ada@acme.tes", 422, "emails_do_not_match"),
        ("not-an-address", "not-an-address", 422, "email_invalid"),
        ("", "", 422, "email_invalid"),
        ("admin@hartley.test", "admin@hartley.test", 422, "email_is_practice_member"),
    ],
)
def test_invite_refuses_bad_addresses(email, confirm, status, code):
    practice, _, http = _practice()
    client = _managed(practice)
    response = _post(
        http, f"/practice/clients/{client.pk}/access-invitation", {"email": email, "email_confirm": confirm}
    )
    _problem(response, status, code)
    client.refresh_from_db()
    assert client.access == "none"
    assert not OutboundEmail.objects.exists()
    assert not ClientAccessInvitation.objects.exists()


def test_invite_refuses_incomplete_details_and_lists_the_missing_fields():
    practice, _, http = _practice()
    client = make_client(practice, "Bare Ltd", contact_name="Ada")
    body = _problem(_invite(http, client), 409, "client_details_incomplete")
    assert body["missing"] == ["address", "postcode"]
    assert "address" in body["detail"].lower()


def test_invite_refuses_clients_that_cannot_be_invited():
    practice, _, http = _practice()
    owned, _ = _participating(practice)
    pending = _managed(practice, "Pending Ltd", tab=Client.Tab.PENDING)
    invited = _managed(practice, "Invited Ltd", access=Client.Access.INVITED, email="x@invited.test")
    for client in (owned, pending, invited):
        _problem(_invite(http, client), 409, "client_not_invitable")
    # A company that has an owner but whose client row says "none" is still refused.
    stray = _managed(practice, "Stray Ltd")
    Company.objects.filter(pk=stray.company_id).update(owner=UserFactory.create())
    _problem(_invite(http, stray), 409, "client_not_invitable")


def test_invite_validates_the_body():
    practice, _, http = _practice()
    client = _managed(practice)
    response = _post(http, f"/practice/clients/{client.pk}/access-invitation", {"email": "a@b.test"})
    _problem(response, 422, "validation_error")


def test_resend_issues_a_new_link_and_kills_the_old_one():
    practice, _, http = _practice()
    client = _managed(practice)
    _invite(http, client)
    first = _token("ada@acme.test")
    response = _post(http, f"/practice/clients/{client.pk}/access-invitation/resend")
    assert response.status_code == 200, response.content
    assert (response.json()["id"], response.json()["access"]) == (client.pk, "invited")
    second = _token("ada@acme.test")
    assert second != first
    assert [e.to for e in _emails("client-activation")] == [["ada@acme.test"], ["ada@acme.test"]]
    old = _problem(http.get(f"{API}/activations/{first}"), 410, "activation_link_closed")
    assert old["detail"] == "A newer invitation was sent: use the link in the latest email."
    assert http.get(f"{API}/activations/{second}").status_code == 200
    assert len(_events(Action.CLIENT_ACCESS_RESEND, client)) == 1


def test_resend_and_cancel_refuse_a_client_not_awaiting_activation():
    practice, _, http = _practice()
    client = _managed(practice)
    _problem(_post(http, f"/practice/clients/{client.pk}/access-invitation/resend"), 409, "client_not_invited")
    _problem(http.delete(f"{API}/practice/clients/{client.pk}/access-invitation"), 409, "client_not_invited")
    assert not OutboundEmail.objects.exists()


def test_cancel_returns_to_no_access_and_the_link_stops_working():
    practice, admin, http = _practice()
    client = _managed(practice)
    _invite(http, client)
    token = _token("ada@acme.test")
    response = http.delete(f"{API}/practice/clients/{client.pk}/access-invitation")
    assert response.status_code == 200, response.content
    assert response.json()["access"] == "none"
    closed = _problem(http.get(f"{API}/activations/{token}"), 410, "activation_link_closed")
    assert closed["detail"] == "This invitation was cancelled by the practice."
    [event] = _events(Action.CLIENT_ACCESS_CANCEL, client)
    assert event.actor_id == admin.pk
    # Cancelled: the client can be invited again.
    assert _invite(http, client, "new@acme.test").status_code == 201


# --- The activation link -------------------------------------------------------------------------------


def test_activation_lookup_describes_a_pending_link():
    practice, _, http = _practice()
    client = _managed(practice)
    _invite(http, client)
    token = _token("ada@acme.test")
    someone = _http(UserFactory.create(email="someone@else.test"))
    response = someone.get(f"{API}/activations/{token}")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "business_name": "Acme Ltd",
        "practice_name": "Hartley LLP",
        "email": "ada@acme.test",
        "purpose": "access",
        "account_exists": False,
    }
    UserFactory.create(email="ada@acme.test")
    assert someone.get(f"{API}/activations/{token}").json()["account_exists"] is True


def test_activation_lookup_unknown_and_expired_links():
    practice, _, http = _practice()
    client = _managed(practice)
    _invite(http, client)
    token = _token("ada@acme.test")
    _problem(http.get(f"{API}/activations/not-a-real-token"), 404, "not_found")
    ClientAccessInvitation.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    closed = _problem(http.get(f"{API}/activations/{token}"), 410, "activation_link_closed")
    assert closed["detail"] == "This invitation has expired. Ask your accountant to resend it."
    _problem(_post(http, f"/activations/{token}/accept"), 410, "activation_link_closed")


def test_activation_endpoints_need_a_signed_in_user():
    practice, _, http = _practice()
    client = _managed(practice)
    _invite(http, client)
    token = _token("ada@acme.test")
    anonymous = HttpClient()
    _problem(anonymous.get(f"{API}/activations/{token}"), 401, "not_authenticated")
    _problem(anonymous.post(f"{API}/activations/{token}/accept"), 401, "not_authenticated")


def test_accept_with_a_bearer_token_makes_the_invited_person_the_owner():
    practice, _, http = _practice()
    client = _managed(practice)
    _invite(http, client)
    token = _token("ada@acme.test")
    ada = UserFactory.create(email="ada@acme.test")
    _, bearer = token_create(user=ada, name="app", days=1)
    response = HttpClient().post(f"{API}/activations/{token}/accept", headers={"Authorization": f"Bearer {bearer}"})
    assert response.status_code == 200, response.content
    assert response.json() == {"customer_number": client.company.customer_number, "business_name": "Acme Ltd"}
    company = Company.objects.get(pk=client.company_id)
    assert company.owner_id == ada.pk
    assert CompanyMembership.objects.get(company=company, user=ada).role == "owner"
    client.refresh_from_db()
    assert client.access == "both"
    [event] = _events(Action.CLIENT_ACCESS_ACCEPT, client)
    assert event.actor_id == ada.pk
    # The practice sees the client as participating now; the link is used.
    assert http.get(f"{API}/practice/clients/{client.pk}").json()["participating"] is True
    used = _problem(_post(_http(ada), f"/activations/{token}/accept"), 410, "activation_link_closed")
    assert used["detail"] == "This invitation has already been used."


def test_accept_with_the_session_of_someone_else_is_refused():
    practice, _, http = _practice()
    client = _managed(practice)
    _invite(http, client)
    token = _token("ada@acme.test")
    other = _http(UserFactory.create(email="mallory@evil.test"))
    _problem(_post(other, f"/activations/{token}/accept"), 403, "activation_email_mismatch")
    # An unverified address is not enough either.
    unverified = UserFactory.create(email="ada@acme.test", verified=False)
    _problem(_post(_http(unverified), f"/activations/{token}/accept"), 403, "activation_email_mismatch")
    client.refresh_from_db()
    assert client.access == "invited"
    assert Company.objects.get(pk=client.company_id).owner_id is None
    _problem(_post(other, "/activations/nope/accept"), 404, "not_found")


# --- Disable / Enable ------------------------------------------------------------------------------------


def test_disable_then_enable_a_participating_client():
    practice, _, http = _practice()
    client, owner = _participating(practice)
    response = _post(http, f"/practice/clients/{client.pk}/disable")
    assert response.status_code == 200, response.content
    assert (response.json()["access"], response.json()["access_label"]) == ("disabled", "Client access disabled")
    [disabled] = _emails("client-access-disabled")
    assert disabled.to == [owner.email]
    assert len(_events(Action.CLIENT_DISABLE, client)) == 1
    # The owner loses the company in the API; the practice keeps it.
    owner_http = _http(owner)
    [company] = owner_http.get(f"{API}/companies").json()
    assert company["access_disabled"] is True
    assert http.get(f"{API}/practice/clients/{client.pk}").status_code == 200

    _problem(_post(http, f"/practice/clients/{client.pk}/disable"), 409, "client_not_enabled")
    response = _post(http, f"/practice/clients/{client.pk}/enable")
    assert response.status_code == 200, response.content
    assert response.json()["access"] == "both"
    [enabled] = _emails("client-access-enabled")
    assert enabled.to == [owner.email]
    assert len(_events(Action.CLIENT_ENABLE, client)) == 1
    assert owner_http.get(f"{API}/companies").json()[0]["access_disabled"] is False
    _problem(_post(http, f"/practice/clients/{client.pk}/enable"), 409, "client_not_disabled")


def test_disable_refuses_a_client_who_pays_for_their_own_subscription():
    """Disable is for clients the practice pays for; a client-paying one keeps what they pay for (UI and API)."""
    practice, _, http = _practice()
    client, owner = _participating(practice)
    Client.objects.filter(pk=client.pk).update(payer=Client.Payer.CLIENT)
    _problem(_post(http, f"/practice/clients/{client.pk}/disable"), 409, "client_pays")
    assert Client.objects.get(pk=client.pk).access == "both"
    assert not _emails("client-access-disabled")
    assert not _events(Action.CLIENT_DISABLE, client)
    assert _http(owner).get(f"{API}/companies").json()[0]["access_disabled"] is False
    panel = http.get(f"/partner/clients/{client.pk}/").content.decode()
    assert f'href="/partner/clients/{client.pk}/disable/"' not in panel
    page = http.post(f"/partner/clients/{client.pk}/disable/", follow=True).content.decode()
    assert "Your client pays for this subscription themselves, so you can&#x27;t remove their access." in page


def test_disable_refuses_a_client_without_access():
    practice, _, http = _practice()
    client = _managed(practice)
    _problem(_post(http, f"/practice/clients/{client.pk}/disable"), 409, "client_not_enabled")
    _problem(_post(http, f"/practice/clients/{client.pk}/enable"), 409, "client_not_disabled")
    assert not Event.objects.filter(client_id=client.pk).exists()


# --- Stop Managing This Client ---------------------------------------------------------------------------


def test_stop_a_participating_client_moves_the_licence_to_the_client_from_tomorrow():
    practice, admin, http = _practice()
    client, owner = _participating(practice)
    response = _post(http, f"/practice/clients/{client.pk}/stop", {"mode": "participating"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["mode"], body["grace_ends_on"], body["ledger_entries_deleted"]) == ("participating", None, 0)
    assert (body["client"]["id"], body["client"]["payer"], body["client"]["ended_reason"]) == (
        client.pk,
        "client",
        "transferred",
    )
    assert body["client"]["ended_at"] is not None
    today = _today()
    tomorrow = today + dt.timedelta(days=1)
    assert _licences(client) == [("accountant", today, tomorrow), ("client", tomorrow, None)]
    [event] = _events(Action.CLIENT_STOP, client)
    assert (event.actor_id, event.data["was_accountant"]) == (admin.pk, True)
    [email] = _emails("client-practice-stopped")
    assert email.to == [owner.email]
    # The client left the list; a second stop (e.g. a colleague at the same time) is a 409.
    assert http.get(f"{API}/practice/clients/{client.pk}").status_code == 404
    again = _post(http, f"/practice/clients/{client.pk}/stop", {"mode": "participating"})
    _problem(again, 409, "client_already_ended")
    assert len(_licences(client)) == 2


def test_stop_refuses_the_wrong_mode_for_the_client():
    practice, _, http = _practice()
    owned, _ = _participating(practice)
    plain = _managed(practice, "Plain Ltd", email="plain@plain.test")
    for mode in ("transfer", "delete"):
        body = {"mode": mode, "confirm_business_name": "Owned Ltd"}
        _problem(_post(http, f"/practice/clients/{owned.pk}/stop", body), 409, "client_is_participating")
    _problem(
        _post(http, f"/practice/clients/{plain.pk}/stop", {"mode": "participating"}), 409, "client_is_not_participating"
    )
    _problem(_post(http, f"/practice/clients/{plain.pk}/stop", {"mode": "nope"}), 422, "validation_error")
    pending = _managed(practice, "Pending Ltd", tab=Client.Tab.PENDING, email="p@pending.test")
    _problem(_post(http, f"/practice/clients/{pending.pk}/stop", {"mode": "transfer"}), 409, "client_not_active")
    for client in (owned, plain, pending):
        client.refresh_from_db()
        assert client.ended_at is None
        assert [payer for payer, *_ in _licences(client)] == ["accountant"]


def test_stop_transfer_starts_30_days_of_grace_and_emails_the_client_a_link():
    practice, admin, http = _practice()
    client = _managed(practice, email="ada@acme.test")
    response = _post(http, f"/practice/clients/{client.pk}/stop", {"mode": "transfer"})
    assert response.status_code == 200, response.content
    body = response.json()
    today = _today()
    grace = today + dt.timedelta(days=30)
    assert (body["mode"], body["grace_ends_on"], body["ledger_entries_deleted"]) == ("transfer", grace.isoformat(), 0)
    assert (body["client"]["grace_ends_on"], body["client"]["ended_reason"]) == (grace.isoformat(), "transferred")
    assert _licences(client) == [("accountant", today, today + dt.timedelta(days=1)), ("client", grace, None)]
    [email] = _emails("client-transfer")
    assert email.to == ["ada@acme.test"]
    assert email.context["grace_ends_on"] == grace.isoformat()
    rendered = render_email(email)
    last_free = grace - dt.timedelta(days=1)  # day 29: the client's licence and any suspension start on day 30
    written = f"{last_free.day} {last_free:%B %Y}"  # as people write a date, in both parts
    assert f"free access up to and including {written}. From {grace.day} {grace:%B %Y} you pay" in rendered.body
    assert f"<strong>{written}</strong>" in str(rendered.alternatives[0][0])
    token = _token("ada@acme.test", "client-transfer")
    assert token not in response.content.decode()
    assert "token" not in body
    [event] = _events(Action.CLIENT_TRANSFER, client)
    assert (event.actor_id, event.data["grace_ends_on"]) == (admin.pk, grace.isoformat())

    # The client opens the link, signs in with that address and becomes the owner.
    ada = _http(UserFactory.create(email="ada@acme.test"))
    assert ada.get(f"{API}/activations/{token}").json()["purpose"] == "transfer"
    accepted = _post(ada, f"/activations/{token}/accept")
    assert accepted.status_code == 200, accepted.content
    assert Company.objects.get(pk=client.company_id).owner is not None
    _problem(_post(http, f"/practice/clients/{client.pk}/stop", {"mode": "transfer"}), 409, "client_already_ended")


def test_stop_transfer_needs_the_clients_email():
    practice, _, http = _practice()
    client = _managed(practice)
    _problem(_post(http, f"/practice/clients/{client.pk}/stop", {"mode": "transfer"}), 409, "client_email_missing")
    client.refresh_from_db()
    assert client.ended_at is None
    assert not OutboundEmail.objects.exists()


def test_stop_transfer_of_an_invited_client_kills_the_access_link():
    practice, _, http = _practice()
    client = _managed(practice)
    _invite(http, client)
    access_token = _token("ada@acme.test")
    response = _post(http, f"/practice/clients/{client.pk}/stop", {"mode": "transfer"})
    assert response.status_code == 200, response.content
    assert response.json()["client"]["access"] == "none"
    _problem(http.get(f"{API}/activations/{access_token}"), 410, "activation_link_closed")
    assert http.get(f"{API}/activations/{_token('ada@acme.test', 'client-transfer')}").status_code == 200


def test_stop_delete_hard_deletes_the_ledger_and_closes_the_licence():
    from partnerdesk.ledger.models import Entry

    practice, admin, http = _practice()
    client = _managed(practice, "Acme  Trading Ltd")
    other = _managed(practice, "Other Ltd")
    for company, n in ((client.company, 3), (other.company, 1)):
        for i in range(n):
            Entry.objects.create(company=company, date=_today(), description=f"Sale {i}", amount=Decimal("10.00"))
    url = f"/practice/clients/{client.pk}/stop"
    _problem(_post(http, url, {"mode": "delete"}), 422, "business_name_mismatch")
    _problem(_post(http, url, {"mode": "delete", "confirm_business_name": "Acme Ltd"}), 422, "business_name_mismatch")
    assert Entry.objects.filter(company=client.company).count() == 3

    response = _post(http, url, {"mode": "delete", "confirm_business_name": " acme trading   LTD "})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["mode"], body["grace_ends_on"], body["ledger_entries_deleted"]) == ("delete", None, 3)
    assert (body["client"]["ended_reason"], body["client"]["access"]) == ("deleted", "none")
    assert not Entry.objects.filter(company=client.company).exists()
    assert Entry.objects.filter(company=other.company).count() == 1
    today = _today()
    assert _licences(client) == [("accountant", today, today + dt.timedelta(days=1))]
    [event] = _events(Action.CLIENT_DELETE_DATA, client)
    assert (event.actor_id, event.data["ledger_entries_deleted"]) == (admin.pk, 3)
    assert "Sale" not in str(event.data)
    _problem(
        _post(http, url, {"mode": "delete", "confirm_business_name": "Acme Trading Ltd"}), 409, "client_already_ended"
    )


def test_stop_delete_is_refused_while_final_accounts_data_exists():
    from partnerdesk.compliance.models import AccountsPeriod
    from partnerdesk.ledger.models import Entry

    practice, _, http = _practice()
    client = _managed(practice)
    Entry.objects.create(company=client.company, date=_today(), description="Sale", amount=Decimal("5.00"))
    AccountsPeriod.objects.create(
        practice=practice, client=client, period_start=dt.date(2024, 4, 1), period_end=dt.date(2025, 3, 31)
    )
    response = _post(
        http, f"/practice/clients/{client.pk}/stop", {"mode": "delete", "confirm_business_name": "Acme Ltd"}
    )
    _problem(response, 409, "final_accounts_data_exists")
    assert Entry.objects.filter(company=client.company).count() == 1
    client.refresh_from_db()
    assert client.ended_at is None


# --- Former clients ------------------------------------------------------------------------------------


def test_former_clients_lists_ended_clients_with_final_accounts_data():
    from partnerdesk.compliance.models import AccountsPeriod

    practice, _, http = _practice()
    kept, _ = _participating(practice, "Kept Ltd", "kept@kept.test")
    gone, _ = _participating(practice, "Gone Ltd", "gone@gone.test")
    current = _managed(practice, "Current Ltd")
    for client in (kept, current):
        AccountsPeriod.objects.create(
            practice=practice, client=client, period_start=dt.date(2024, 4, 1), period_end=dt.date(2025, 3, 31)
        )
    assert http.get(f"{API}/practice/former-clients").json() == []
    for client in (kept, gone):
        assert _post(http, f"/practice/clients/{client.pk}/stop", {"mode": "participating"}).status_code == 200
    response = http.get(f"{API}/practice/former-clients")
    assert response.status_code == 200, response.content
    [former] = response.json()
    assert (former["id"], former["business_name"], former["ended_reason"]) == (kept.pk, "Kept Ltd", "transferred")
    assert former["ended_at"] is not None

    # Another practice sees none of them; a restricted staff member only the ones assigned to them.
    _, _, theirs = _practice("Theirs LLP", "them@theirs.test")
    assert theirs.get(f"{API}/practice/former-clients").json() == []
    staff = add_member(practice, "restricted@hartley.test", sees_all_clients=False)
    staff_http = _http(staff.user)
    assert staff_http.get(f"{API}/practice/former-clients").json() == []
    ClientAssignment.objects.create(member=staff, client=kept)
    assert [c["id"] for c in staff_http.get(f"{API}/practice/former-clients").json()] == [kept.pk]
    _problem(_http(UserFactory.create()).get(f"{API}/practice/former-clients"), 404, "not_found")


# --- The client removes the practice ------------------------------------------------------------------


def test_owner_removes_their_accountant():
    practice, admin, http = _practice()
    client, owner = _participating(practice)
    owner_http = _http(owner)
    number = client.company.customer_number
    response = _post(owner_http, f"/companies/{number}/accountant/remove")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["customer_number"], body["business_name"], body["practice_name"]) == (
        number,
        "Owned Ltd",
        "Hartley LLP",
    )
    today = _today()
    tomorrow = today + dt.timedelta(days=1)
    assert _licences(client) == [("accountant", today, tomorrow), ("client", tomorrow, None)]
    [event] = _events(Action.CLIENT_REVOKED, client)
    assert (event.actor_id, event.data["was_accountant"]) == (owner.pk, True)
    [email] = _emails("practice-client-left")
    assert email.to == [admin.email]
    client.refresh_from_db()
    assert (client.ended_reason, client.payer) == ("revoked_by_client", "client")
    assert http.get(f"{API}/practice/clients/{client.pk}").status_code == 404
    _problem(_post(owner_http, f"/companies/{number}/accountant/remove"), 409, "no_accountant")


def test_only_the_owner_can_remove_the_accountant():
    practice, _, http = _practice()
    client, owner = _participating(practice)
    number = client.company.customer_number
    colleague = UserFactory.create(email="colleague@owned.test")
    CompanyMembership.objects.create(user=colleague, company=client.company, role=CompanyMembership.Role.USER)
    _problem(_post(_http(colleague), f"/companies/{number}/accountant/remove"), 404, "not_found")
    _problem(_post(_http(UserFactory.create()), f"/companies/{number}/accountant/remove"), 404, "not_found")
    _problem(_post(http, f"/companies/{number}/accountant/remove"), 404, "not_found")  # the practice admin
    _problem(_post(_http(owner), "/companies/99999999/accountant/remove"), 404, "not_found")
    client.refresh_from_db()
    assert client.ended_at is None


def test_owner_without_an_accountant_gets_no_accountant():
    owner = UserFactory.create(email="solo@solo.test")
    company = company_create(business_name="Solo Ltd", owner_email=owner.email, owner=owner)
    CompanyMembership.objects.create(user=owner, company=company, role=CompanyMembership.Role.OWNER)
    _problem(_post(_http(owner), f"/companies/{company.customer_number}/accountant/remove"), 409, "no_accountant")


# --- Who may act ---------------------------------------------------------------------------------------


def _client_endpoints(client_id: int) -> list[tuple[str, str, dict[str, Any] | None]]:
    base = f"/practice/clients/{client_id}"
    return [
        ("post", f"{base}/access-invitation", {"email": "ada@acme.test", "email_confirm": "ada@acme.test"}),
        ("post", f"{base}/access-invitation/resend", None),
        ("delete", f"{base}/access-invitation", None),
        ("post", f"{base}/disable", None),
        ("post", f"{base}/enable", None),
        ("post", f"{base}/stop", {"mode": "participating"}),
        ("post", f"{base}/stop", {"mode": "transfer"}),
        ("post", f"{base}/stop", {"mode": "delete", "confirm_business_name": "Acme Ltd"}),
    ]


def _call(http: HttpClient, method: str, path: str, body: dict[str, Any] | None) -> Any:
    if method == "delete":
        return http.delete(f"{API}{path}")
    return _post(http, path, body)


def test_another_practices_client_is_404_on_every_endpoint():
    theirs, _, their_http = _practice("Theirs LLP", "them@theirs.test")
    invited = _managed(theirs, "Acme Ltd")
    _invite(their_http, invited)
    owned, _ = _participating(theirs, "Owned Ltd", "owner@owned.test")
    invited.refresh_from_db()
    _, _, mine = _practice()
    for client in (invited, owned):
        for method, path, body in _client_endpoints(client.pk):
            _problem(_call(mine, method, path, body), 404, "not_found")
    # Someone outside any practice too.
    stranger = _http(UserFactory.create())
    for method, path, body in _client_endpoints(owned.pk):
        _problem(_call(stranger, method, path, body), 404, "not_found")
    _problem(_call(mine, "post", "/practice/clients/999999/disable", None), 404, "not_found")
    for client in (invited, owned):
        before = client.access
        client.refresh_from_db()
        assert (client.access, client.ended_at) == (before, None)
    assert [e.to for e in _emails("client-activation")] == [["ada@acme.test"]]


def test_a_restricted_staff_member_gets_404_unless_the_client_is_assigned():
    practice, _, _ = _practice()
    invited = _managed(practice, "Acme Ltd", access=Client.Access.INVITED, email="ada@acme.test")
    owned, _ = _participating(practice)
    staff = add_member(practice, "restricted@hartley.test", sees_all_clients=False)
    http = _http(staff.user)
    for client in (invited, owned):
        for method, path, body in _client_endpoints(client.pk):
            _problem(_call(http, method, path, body), 404, "not_found")
    ClientAssignment.objects.create(member=staff, client=owned)
    assert _post(http, f"/practice/clients/{owned.pk}/disable").status_code == 200
    assert _post(http, f"/practice/clients/{owned.pk}/enable").status_code == 200
    # Stopping is an admin's decision, even for an assigned client.
    _problem(_post(http, f"/practice/clients/{owned.pk}/stop", {"mode": "participating"}), 403, "admin_only")
    assert not _events(Action.CLIENT_STOP, owned)


def test_only_admins_can_stop_managing_or_delete_a_client():
    practice, _, admin_http = _practice()
    plain = _managed(practice)
    owned, _ = _participating(practice)
    imported = make_client(practice, "Imported Ltd", tab=Client.Tab.IMPORTED)
    staff = add_member(practice, "staff@hartley.test", role=PracticeMember.Role.STAFF)  # sees every client
    http = _http(staff.user)
    for mode in ("transfer", "delete"):
        body = _problem(
            _post(http, f"/practice/clients/{plain.pk}/stop", {"mode": mode, "confirm_business_name": "Acme Ltd"}),
            403,
            "admin_only",
        )
        assert body["detail"] == "Only your practice's admins can stop managing a client."
    _problem(_post(http, f"/practice/clients/{owned.pk}/stop", {"mode": "participating"}), 403, "admin_only")
    _problem(http.delete(f"{API}/practice/clients/{imported.pk}"), 403, "admin_only")
    assert Client.objects.filter(pk__in=[plain.pk, owned.pk, imported.pk], ended_at__isnull=True).count() == 3
    # Disable and Enable stay open to staff; the admin can stop and delete.
    assert _post(http, f"/practice/clients/{owned.pk}/disable").status_code == 200
    assert _post(http, f"/practice/clients/{owned.pk}/enable").status_code == 200
    assert _post(admin_http, f"/practice/clients/{owned.pk}/stop", {"mode": "participating"}).status_code == 200
    assert admin_http.delete(f"{API}/practice/clients/{imported.pk}").status_code == 204


def test_a_staff_member_who_sees_all_clients_can_invite():
    practice, _, _ = _practice()
    client = _managed(practice)
    staff = add_member(practice, "staff@hartley.test", role=PracticeMember.Role.STAFF)
    assert _invite(_http(staff.user), client).status_code == 201


def test_unauthenticated_requests_are_401():
    practice, _, _ = _practice()
    client = _managed(practice)
    anonymous = HttpClient()
    for method, path, body in _client_endpoints(client.pk):
        _problem(_call(anonymous, method, path, body), 401, "not_authenticated")
    _problem(anonymous.get(f"{API}/practice/former-clients"), 401, "not_authenticated")
    _problem(
        _post(anonymous, f"/companies/{client.company.customer_number}/accountant/remove"), 401, "not_authenticated"
    )


def test_the_openapi_document_declares_410_for_the_activation_link():
    spec = HttpClient().get(f"{API}/openapi.json").json()
    paths = spec["paths"]
    assert "410" in paths["/api/v1/activations/{token}"]["get"]["responses"]
    assert "410" in paths["/api/v1/activations/{token}/accept"]["post"]["responses"]
    assert "201" in paths["/api/v1/practice/clients/{client_id}/access-invitation"]["post"]["responses"]
    stop = paths["/api/v1/practice/clients/{client_id}/stop"]["post"]
    assert "token" not in str(spec["components"]["schemas"]["StopOut"])
    assert "200" in stop["responses"]


def test_former_clients_query_count_does_not_grow_with_them(django_assert_max_num_queries):
    """Each former client's services in force come from one prefetch for them all, not a query each."""
    from partnerdesk.billing.models import Service, SubscriptionItem
    from partnerdesk.compliance.models import AccountsPeriod

    practice, _, http = _practice()
    payroll = Service.objects.get(code="payroll")
    for i in range(15):
        client = _managed(practice, f"Former {i:02d} Ltd")
        SubscriptionItem.objects.create(company=client.company, service=payroll, starts_on=dt.date(2026, 1, 1))
        AccountsPeriod.objects.create(
            practice=practice, client=client, period_start=dt.date(2024, 4, 1), period_end=dt.date(2025, 3, 31)
        )
    Client.objects.filter(practice=practice).update(ended_at=timezone.now(), ended_reason="transferred")
    http.get(f"{API}/practice/former-clients")  # the first request records the device (usersessions)
    with django_assert_max_num_queries(6):  # session, user, member, clients, services; 19 with a query each
        response = http.get(f"{API}/practice/former-clients")
    listed = response.json()
    assert [c["business_name"] for c in listed] == [f"Former {i:02d} Ltd" for i in range(15)]
    assert all(c["services"] == ["payroll"] for c in listed)
