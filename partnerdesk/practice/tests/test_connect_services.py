"""Connect existing client, services: the practice asks, the owner accepts or declines, the practice withdraws,
requests expire; nothing is created (and nobody is told anything) when the details do not lead to a request."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.test import RequestFactory
from django.utils import timezone

from partnerdesk.audit.models import Action, Event
from partnerdesk.backoffice.periodic import SCHEDULE
from partnerdesk.billing.licences import licence_current, licence_open
from partnerdesk.billing.models import Licence
from partnerdesk.identity.models import CompanyMembership
from partnerdesk.identity.selectors import pending_accountant_invitation
from partnerdesk.identity.services import InvalidSubscriptionNumber, company_create
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.lib.errors import NotFound, RateLimited
from partnerdesk.notifications.models import Message, OutboundEmail
from partnerdesk.practice import connect, services
from partnerdesk.practice.access import company_access
from partnerdesk.practice.models import Client
from partnerdesk.practice.tasks import expire_connect_requests
from partnerdesk.practice.tests.connect_factories import owned_company, practice_admin_member
from partnerdesk.practice.tests.lifecycle_factories import managed_client
from partnerdesk.practice.tests.staff_factories import add_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def member():
    return practice_admin_member()


@pytest.fixture
def owned():
    return owned_company()


def _ask(member, company, email="olive@acme.test", number=None, ip="192.0.2.1"):
    request = RequestFactory().post("/partner/clients/connect/", REMOTE_ADDR=ip)
    return connect.connect_request_create(
        member=member, number=number or company.customer_number, owner_email=email, request=request
    )


# --- Asking ---------------------------------------------------------------------------------------------


def test_matching_details_put_a_request_awaiting_client_approval_on_the_pending_tab(member, owned):
    company, owner = owned
    before = timezone.now()
    client = _ask(member, company, email="  OLIVE@Acme.test ")

    assert client is not None
    client.refresh_from_db()
    assert (client.tab, client.requested_by, client.payer, client.practice_id) == (
        "pending",
        "practice",
        "client",
        member.practice_id,
    )
    assert client.awaiting_client_approval
    # Until the owner accepts, the row shows what the practice typed, not the company's name.
    assert client.business_name == f"Customer Number {company.customer_number}"
    assert client.email == "olive@acme.test"
    assert client.request_expires_at is not None
    expected = before + dt.timedelta(days=14)
    assert abs((client.request_expires_at - expected).total_seconds()) < 60

    event = Event.objects.get(action=Action.CLIENT_CONNECT_REQUEST)
    assert (event.actor_id, event.practice_id, event.company_id, event.client_id) == (
        member.user_id,
        member.practice_id,
        company.pk,
        client.pk,
    )
    path = f"/companies/{company.customer_number}/accountant/requests/{client.pk}/"
    email = OutboundEmail.objects.get(template="practice-connect-request")
    assert email.to == [owner.email]
    assert email.context["request_path"] == path
    assert email.context["practice_name"] == "Hartley LLP"
    assert email.context["requester_email"] == "admin@hartley.test"
    message = Message.objects.get(company=company)
    assert (message.subject, message.link) == ("Hartley LLP asks to be your accountant", path)
    # Pending is not managing: the practice cannot reach the company's data yet.
    with pytest.raises(NotFound):
        company_access(user=member.user, company=company)


def test_registration_id_in_full_or_its_last_six_digits_and_the_owner_login_email_match(member):
    company, _owner = owned_company("Bramble Ltd", "bea@bramble.test")
    client = _ask(member, company, email="bea@bramble.test", number=company.registration_id.lower())
    assert client is not None
    assert client.business_name == f"Registration ID {company.registration_id}"
    services.client_delete(member=member, client_id=client.pk)

    suffix = company.registration_id[-6:]
    client = _ask(member, company, email="bea@bramble.test", number=suffix)
    assert client is not None
    assert client.business_name == f"Registration ID ending {suffix}"
    services.client_delete(member=member, client_id=client.pk)

    # The recorded owner email may differ from the owner's login: either is the owner's email.
    company.owner_email = "accounts@bramble.test"
    company.save(update_fields=["owner_email"])
    assert _ask(member, company, email="bea@bramble.test") is not None


def _not_requested(member, company, email, number=None):
    before = (Client.all_objects.count(), OutboundEmail.objects.count(), Message.objects.count())
    result = _ask(member, company, email=email, number=number)
    assert result is None
    assert (Client.all_objects.count(), OutboundEmail.objects.count(), Message.objects.count()) == before
    return Event.objects.filter(action=Action.CONNECT_REQUEST_UNMATCHED).latest("id")


def test_wrong_email_or_number_creates_nothing_and_tells_nobody(member, owned):
    company, _ = owned
    _other, _ = owned_company("Other Ltd", "otto@other.test")
    assert _not_requested(member, company, "someone@else.test").data == {
        "reason": "no_match",
        "number_kind": "customer_number",
    }
    # A real number with another company's owner email.
    assert _not_requested(member, company, "otto@other.test").data["reason"] == "no_match"
    assert _not_requested(member, company, "olive@acme.test", number="00000000").data["reason"] == "no_match"


def test_a_company_without_an_owner_who_signs_in_is_not_asked(member):
    no_owner = company_create(business_name="Ghost Ltd", owner_email="ghost@ghost.test")
    assert _not_requested(member, no_owner, "ghost@ghost.test").data["reason"] == "no_owner"
    company, owner = owned_company("Dormant Ltd", "dora@dormant.test")
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    assert _not_requested(member, company, "dora@dormant.test").data["reason"] == "no_owner"


def test_a_company_already_managed_or_connecting_gets_the_same_answer_and_nothing_is_created(member, owned):
    company, owner = owned
    other = practice_admin_member("Other LLP", "admin@other.test")
    # Managed (Active) by another practice.
    managed = Client.objects.create(practice=other.practice, company=company, business_name="Acme Ltd")
    assert _not_requested(member, company, owner.email).data["reason"] == "already_connected"
    # Managed by this practice already.
    managed.practice = member.practice
    managed.save(update_fields=["practice"])
    assert _not_requested(member, company, owner.email).data["reason"] == "already_connected"
    managed.delete()
    # The owner's invitation waits on another practice's Pending tab.
    services.accountant_invite(actor=owner, company=company, practice_email="admin@other.test")
    assert _not_requested(member, company, owner.email).data["reason"] == "already_connected"
    # Another practice's own request waits for the owner.
    Client.objects.filter(company=company).delete()
    assert _ask(other, company) is not None
    assert _not_requested(member, company, owner.email).data["reason"] == "already_connected"
    assert Client.objects.filter(company=company).count() == 1


def test_the_practice_cannot_ask_to_manage_itself(member):
    practice_company = member.practice.company
    practice_company.owner = member.user
    practice_company.owner_email = member.user.email
    practice_company.save(update_fields=["owner", "owner_email"])
    assert _not_requested(member, practice_company, member.user.email).data["reason"] == "own_practice"


def test_an_ambiguous_registration_suffix_matches_nothing(member):
    first, _ = owned_company("One Ltd", "same@owner.test")
    second = company_create(business_name="Two Ltd", owner_email="same@owner.test", owner=first.owner)
    # Give both the same last six digits (random ids would almost never clash).
    suffix = first.registration_id[-6:]
    second.registration_id = f"MBR{(int(first.registration_id[3:5]) + 1) % 100:02d}{suffix}"
    second.save(update_fields=["registration_id"])
    assert _not_requested(member, first, "same@owner.test", number=suffix).data["reason"] == "no_match"


def test_malformed_input_is_refused_as_such(member, owned):
    company, _ = owned
    with pytest.raises(InvalidSubscriptionNumber):
        _ask(member, company, number="1234")
    with pytest.raises(connect.ConnectEmailInvalid):
        _ask(member, company, email="not-an-email")
    assert not Client.objects.exists()


def test_restricted_staff_cannot_ask(member, owned):
    company, _ = owned
    restricted = add_member(member.practice, "rita@hartley.test", sees_all_clients=False)
    with pytest.raises(NotFound):
        _ask(restricted, company)
    unrestricted = add_member(member.practice, "uma@hartley.test")
    assert _ask(unrestricted, company) is not None


def test_lookups_are_rate_limited_per_person(member, owned):
    company, _ = owned
    for _ in range(connect.CONNECT_PER_USER.limit):
        _ask(member, company, email="wrong@acme.test")
    with pytest.raises(RateLimited) as refused:
        _ask(member, company)  # the right details, but over the limit: nothing is looked up
    assert refused.value.resets_in > 0
    assert not Client.objects.exists()
    # Someone else in the practice still may.
    colleague = add_member(member.practice, "sam@hartley.test")
    assert _ask(colleague, company) is not None


def test_lookups_are_rate_limited_per_practice(member, owned):
    company, _ = owned
    staff = [add_member(member.practice, f"s{i}@hartley.test") for i in range(3)]
    for i, person in enumerate(staff):  # each from their own address: only the practice's allowance runs out
        for _ in range(connect.CONNECT_PER_USER.limit):
            _ask(person, company, email="wrong@acme.test", ip=f"198.51.100.{i}")
    assert connect.CONNECT_PER_PRACTICE.limit == 3 * connect.CONNECT_PER_USER.limit
    with pytest.raises(RateLimited):
        _ask(member, company, ip="198.51.100.9")  # this person's first attempt, but the practice's allowance is used
    other = practice_admin_member("Other LLP", "admin@other.test")
    assert _ask(other, company, ip="198.51.100.10") is not None


def test_lookups_are_rate_limited_per_address(member, owned):
    company, _ = owned
    practices = [practice_admin_member(f"P{i} LLP", f"admin@p{i}.test") for i in range(3)]
    for other in practices:  # three practices, one address
        for _ in range(connect.CONNECT_PER_USER.limit):
            _ask(other, company, email="wrong@acme.test", ip="203.0.113.7")
    assert connect.CONNECT_PER_IP.limit == 3 * connect.CONNECT_PER_USER.limit
    with pytest.raises(RateLimited):
        _ask(member, company, ip="203.0.113.7")
    assert _ask(member, company, ip="203.0.113.8") is not None


# --- The owner decides ------------------------------------------------------------------------------------


def test_accept_moves_the_client_to_active_with_both_having_access_and_the_client_paying(member, owned):
    company, owner = owned
    client = _ask(member, company)
    assert client is not None
    assert licence_current(company=company) is None

    accepted = connect.connect_request_accept(actor=owner, company=company, client_id=client.pk)

    client.refresh_from_db()
    assert (client.tab, client.access, client.payer, client.request_expires_at) == ("active", "both", "client", None)
    assert (client.business_name, client.contact_name, client.email) == ("Acme Ltd", "Olive Owner", owner.email)
    assert accepted.pk == client.pk
    assert client.version == 2
    licence = licence_current(company=company)
    assert licence is not None
    assert (licence.payer, licence.practice_id, licence.discounted) == ("client", None, False)
    event = Event.objects.get(action=Action.CLIENT_CONNECT_ACCEPT)
    assert (event.actor_id, event.client_id, event.practice_id) == (owner.pk, client.pk, member.practice_id)
    sent = OutboundEmail.objects.get(template="practice-connect-accepted")
    assert sent.to == ["admin@hartley.test"]
    assert sent.context["business_name"] == "Acme Ltd"
    assert Message.objects.filter(practice=member.practice, subject="Acme Ltd accepted your request").exists()
    # The practice now manages the company, and the owner keeps their access.
    assert company_access(user=member.user, company=company) == "practice"
    assert company_access(user=owner, company=company) == "client"


def test_accept_keeps_an_existing_client_paying_licence(member, owned):
    company, owner = owned
    with transaction.atomic():
        existing = licence_open(company=company, payer=Licence.Payer.CLIENT, starts_on=dt.date(2026, 1, 1))
    client = _ask(member, company)
    assert client is not None
    connect.connect_request_accept(actor=owner, company=company, client_id=client.pk)
    assert list(Licence.objects.filter(company=company)) == [existing]


def test_decline_removes_the_request_and_tells_the_practice_without_naming_the_company(member, owned):
    company, owner = owned
    client = _ask(member, company)
    assert client is not None
    connect.connect_request_decline(actor=owner, company=company, client_id=client.pk)

    assert not Client.all_objects.filter(pk=client.pk).exists()
    event = Event.objects.get(action=Action.CLIENT_CONNECT_DECLINE)
    assert (event.actor_id, event.client_id, event.company_id) == (owner.pk, client.pk, company.pk)
    sent = OutboundEmail.objects.get(template="practice-connect-declined")
    assert sent.to == ["admin@hartley.test"]
    assert sent.context["request_label"] == f"Customer Number {company.customer_number}"
    assert "Acme" not in str(sent.context)
    message = Message.objects.get(practice=member.practice)
    assert "declined" in message.body
    assert "Acme" not in message.body
    assert licence_current(company=company) is None
    # The practice may ask again, and the owner may invite someone.
    assert _ask(member, company) is not None


def test_only_the_owner_of_that_company_decides(member, owned):
    company, _owner = owned
    client = _ask(member, company)
    assert client is not None
    user = UserFactory.create(email="ursula@acme.test")
    CompanyMembership.objects.create(user=user, company=company, role=CompanyMembership.Role.USER)
    other_company, other_owner = owned_company("Other Ltd", "otto@other.test")
    for actor, target in (
        (user, company),
        (other_owner, other_company),
        (other_owner, company),
        (member.user, company),
    ):
        for decide in (connect.connect_request_accept, connect.connect_request_decline):
            with pytest.raises(NotFound):
                decide(actor=actor, company=target, client_id=client.pk)
    client.refresh_from_db()
    assert client.awaiting_client_approval


def test_a_decided_request_cannot_be_decided_again(member, owned):
    company, owner = owned
    client = _ask(member, company)
    assert client is not None
    connect.connect_request_accept(actor=owner, company=company, client_id=client.pk)
    with pytest.raises(NotFound):
        connect.connect_request_decline(actor=owner, company=company, client_id=client.pk)
    assert Client.objects.get(pk=client.pk).tab == "active"


def test_only_practice_requests_are_decided_by_the_owner(member, owned):
    company, owner = owned
    services.accountant_invite(actor=owner, company=company, practice_email="admin@hartley.test")
    invitation = Client.objects.get(company=company)
    assert invitation.requested_by == "client"
    with pytest.raises(NotFound):
        connect.connect_request_accept(actor=owner, company=company, client_id=invitation.pk)
    waiting = pending_accountant_invitation(company=company)
    assert waiting is not None
    assert waiting.client == invitation


def test_accepting_a_practices_request_ends_the_owners_waiting_invitation(member, owned, client):
    company, owner = owned
    services.accountant_invite(actor=owner, company=company, practice_email="someone@unknownfirm.test")
    asked = _ask(member, company)
    assert asked is not None
    client.force_login(owner)
    page = client.get(f"/companies/{company.customer_number}/accountant/").content.decode()
    assert "You invited <strong>someone@unknownfirm.test</strong>" in page
    assert "Review request" in page  # the practice's request is not hidden behind the invitation
    connect.connect_request_accept(actor=owner, company=company, client_id=asked.pk)
    assert pending_accountant_invitation(company=company) is None
    from partnerdesk.practice import lifecycle

    lifecycle.accountant_remove(actor=owner, company=company)
    after = client.get(f"/companies/{company.customer_number}/accountant/").content.decode()
    assert "someone@unknownfirm.test" not in after
    assert "Invite your accountant" in after


def test_the_practice_cannot_accept_or_amend_its_own_request(member, owned):
    company, owner = owned
    client = _ask(member, company)
    assert client is not None
    with pytest.raises(connect.ConnectRequestAwaitingClient):
        services.client_invitation_decide(member=member, client_id=client.pk, accept=True)
    with pytest.raises(connect.ConnectRequestAwaitingClient):
        services.client_update_details(
            member=member, client_id=client.pk, version=client.version, details={"business_name": "Acme Ltd"}
        )
    client.refresh_from_db()
    assert client.awaiting_client_approval
    assert client.business_name.startswith("Customer Number")
    # Nor does the owner's portal treat it as the owner's own invitation.
    assert pending_accountant_invitation(company=company) is None
    with pytest.raises(services.AccountantAlreadyConnected) as refused:
        services.accountant_invite(actor=owner, company=company, practice_email="admin@hartley.test")
    assert refused.value.title == (
        "An accountant already manages this subscription, or a practice's request to manage it is waiting for you "
        "on your My accountant page."
    )


# --- Withdrawal and expiry ----------------------------------------------------------------------------


def test_delete_client_withdraws_the_request_and_the_owner_is_told(member, owned):
    company, _ = owned
    client = _ask(member, company)
    assert client is not None
    services.client_delete(member=member, client_id=client.pk)
    assert not Client.all_objects.filter(pk=client.pk).exists()
    event = Event.objects.get(action=Action.CLIENT_DELETE)
    assert event.data["requested_by"] == "practice"
    assert Message.objects.filter(company=company, subject="Hartley LLP withdrew its request").exists()
    assert list(connect.connect_requests_for_company(company=company)) == []


def test_another_practice_cannot_withdraw_it(member, owned):
    company, _ = owned
    client = _ask(member, company)
    assert client is not None
    other = practice_admin_member("Other LLP", "admin@other.test")
    with pytest.raises(NotFound):
        services.client_delete(member=other, client_id=client.pk)
    assert Client.objects.filter(pk=client.pk).exists()


def test_requests_expire_after_fourteen_days(member, owned):
    company, owner = owned
    due = _ask(member, company)
    fresh_company, _ = owned_company("Fresh Ltd", "fay@fresh.test")
    fresh = _ask(member, fresh_company, email="fay@fresh.test")
    assert due is not None
    assert fresh is not None
    # Managed clients are never touched by the job.
    managed = managed_client(member.practice, "Managed Ltd")
    now = timezone.now()
    assert connect.connect_requests_expire(now=now + dt.timedelta(days=13, hours=23)) == 0

    Client.objects.filter(pk=due.pk).update(request_expires_at=now - dt.timedelta(seconds=1))
    # Not yet swept: the owner cannot accept it any more, and no longer sees it.
    with pytest.raises(connect.ConnectRequestExpired):
        connect.connect_request_accept(actor=owner, company=company, client_id=due.pk)
    assert list(connect.connect_requests_for_company(company=company)) == []

    assert expire_connect_requests.call() == 1
    assert not Client.all_objects.filter(pk=due.pk).exists()
    assert Client.objects.filter(pk__in=[fresh.pk, managed.pk]).count() == 2
    event = Event.objects.get(action=Action.CLIENT_CONNECT_EXPIRE)
    assert (event.client_id, event.practice_id, event.actor_id) == (due.pk, member.practice_id, None)
    message = Message.objects.get(practice=member.practice, subject="Your request to manage a client expired")
    assert f"Customer Number {company.customer_number}" in message.body
    assert connect.connect_requests_expire() == 0  # idempotent
    assert "practice.expire_connect_requests" in {p.name for p in SCHEDULE}
    # Expired, the practice may ask again.
    assert _ask(member, company) is not None


def test_the_database_requires_an_expiry_on_a_pending_practice_request(member, owned):
    from django.db import IntegrityError

    company, _ = owned
    with pytest.raises(IntegrityError), transaction.atomic():
        Client.objects.create(
            practice=member.practice, company=company, business_name="X", tab="pending", requested_by="practice"
        )
