import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from partnerdesk.audit.models import Event
from partnerdesk.identity import services
from partnerdesk.identity.models import AccessRequest, CompanyMembership
from partnerdesk.identity.services import company_create, company_link
from partnerdesk.identity.tests.factories import UserFactory, requested
from partnerdesk.lib.errors import InvalidTransition, NotFound, RateLimited
from partnerdesk.notifications.models import OutboundEmail
from partnerdesk.notifications.tasks import render_email
from partnerdesk.practice.models import Client, Practice, PracticeMember

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return UserFactory.create(email="owner@acme.test", full_name="Olive Owner")


@pytest.fixture
def company():
    return company_create(business_name="Acme Ltd", owner_email="owner@acme.test")


def _owned(company, owner):
    company.owner = owner
    company.save()
    CompanyMembership.objects.create(user=owner, company=company, role="owner")
    return company


def test_owner_with_own_verified_email_is_linked_at_once(owner, company):
    result = company_link(user=owner, number=company.customer_number, email="OWNER@acme.test ")
    assert result.outcome == "owner"
    company.refresh_from_db()
    assert company.owner == owner
    assert CompanyMembership.objects.get(user=owner, company=company).role == "owner"
    assert Event.objects.filter(action="identity.company.link_owner", company=company, actor=owner).exists()


@pytest.mark.parametrize("number", ["full_registration_id", "last_six", "lower_mbr"])
def test_registration_id_in_full_or_last_six_digits(owner, company, number):
    value = {
        "full_registration_id": company.registration_id,
        "last_six": company.registration_id[-6:],
        "lower_mbr": company.registration_id.lower(),
    }[number]
    assert company_link(user=owner, number=value, email=owner.email).outcome == "owner"


def test_unverified_own_email_does_not_make_an_owner(company):
    person = UserFactory.create(email="owner@acme.test", verified=False)
    EmailAddress.objects.create(user=person, email=person.email, verified=False, primary=True)
    assert not EmailAddress.objects.filter(user=person, verified=True).exists()
    result = company_link(user=person, number=company.customer_number, email=person.email)
    assert result.outcome == "requested"
    company.refresh_from_db()
    assert company.owner is None


def test_someone_else_gets_a_request_and_the_owner_an_approval_email(owner, company):
    _owned(company, owner)
    requester = UserFactory.create(email="bob@example.test", full_name="Bob Book")
    result = company_link(user=requester, number=company.customer_number, email=owner.email)
    assert result.outcome == "requested"
    ar = requested(result)
    assert ar.status == "pending"
    assert ar.expires_at - ar.created_at == timedelta(days=14)
    email = OutboundEmail.objects.get(template="access-request-approval")
    assert email.to == ["owner@acme.test"]
    assert email.context["request_path"] == f"/account/requests/{ar.public_id}/"
    assert Event.objects.filter(action="identity.access_request.create", actor=requester).exists()
    # Approve and Decline links, each to the request page with that choice to confirm (a link decides nothing).
    html = str(render_email(email).alternatives[0][0])
    assert re.findall(r"<a [^>]*>([^<]+)</a>", html) == ["Approve", "Decline"]
    assert f'/account/requests/{ar.public_id}/?decision=approve"' in html
    assert f'/account/requests/{ar.public_id}/?decision=decline"' in html


def test_one_open_request_per_person_and_company(owner, company):
    _owned(company, owner)
    requester = UserFactory.create()
    company_link(user=requester, number=company.customer_number, email=owner.email)
    with pytest.raises(services.RequestAlreadyOpen):
        company_link(user=requester, number=company.customer_number, email=owner.email)
    assert AccessRequest.objects.count() == 1


@pytest.mark.parametrize("number", ["ABCDEFGH", "12345", "123456789", "MBR1234567", "MBR123456789", "12-34", ""])
def test_malformed_numbers_get_a_specific_format_error(owner, number):
    with pytest.raises(services.InvalidSubscriptionNumber) as excinfo:
        company_link(user=owner, number=number, email=owner.email)
    assert "8-digit Customer Number" in excinfo.value.message


def test_unknown_number_and_wrong_email_get_the_same_neutral_message(owner, company):
    messages = set()
    for number, email in [
        ("99999999", owner.email),
        (company.customer_number, "someone@else.test"),
        ("MBR00000000", owner.email),
    ]:
        with pytest.raises(services.NoMatch) as excinfo:
            company_link(user=owner, number=number, email=email)
        messages.add(excinfo.value.message)
    assert messages == {services.NO_MATCH_MESSAGE}


def test_lookups_are_rate_limited_per_person(owner):
    for _ in range(10):
        with pytest.raises(services.NoMatch):
            company_link(user=owner, number="99999999", email=owner.email)
    with pytest.raises(RateLimited) as excinfo:
        company_link(user=owner, number="99999999", email=owner.email)
    assert excinfo.value.message.startswith("Too many attempts, try again in ")
    assert excinfo.value.resets_in > 0


def test_only_lookups_that_match_nothing_use_up_the_allowance(owner):
    """Linking one's companies, or asking again after Back, is no guess: matches are given back."""
    companies = [company_create(business_name=f"Co {n} Ltd", owner_email=owner.email) for n in range(12)]
    for company in companies:  # 12 matches: more than the allowance of 10
        assert company_link(user=owner, number=company.customer_number, email=owner.email).outcome == "owner"
    with pytest.raises(services.AlreadyLinked):
        company_link(user=owner, number=companies[0].customer_number, email=owner.email)
    for _ in range(10):  # the whole allowance is still there for misses
        with pytest.raises(services.NoMatch):
            company_link(user=owner, number="99999999", email=owner.email)
    with pytest.raises(RateLimited):
        company_link(user=owner, number="99999999", email=owner.email)


def test_already_linked_is_a_clear_conflict(owner, company):
    _owned(company, owner)
    with pytest.raises(services.AlreadyLinked):
        company_link(user=owner, number=company.customer_number, email=owner.email)


def _request(owner, company):
    _owned(company, owner)
    requester = UserFactory.create(email="req@example.test")
    return requested(company_link(user=requester, number=company.customer_number, email=owner.email))


def test_owner_approves_and_requester_becomes_a_user(owner, company):
    ar = _request(owner, company)
    services.access_request_approve(actor=owner, public_id=ar.public_id)
    assert CompanyMembership.objects.get(user=ar.requester, company=company).role == "user"
    ar.refresh_from_db()
    assert (ar.status, ar.decided_by) == ("approved", owner)
    assert OutboundEmail.objects.filter(template="access-request-approved", to=["req@example.test"]).exists()
    # approving twice is harmless
    services.access_request_approve(actor=owner, public_id=ar.public_id)
    assert CompanyMembership.objects.filter(company=company).count() == 2
    assert Event.objects.filter(action="identity.access_request.approve").count() == 1


def test_a_non_owner_cannot_approve(owner, company):
    ar = _request(owner, company)
    stranger = UserFactory.create()
    with pytest.raises(NotFound):
        services.access_request_approve(actor=stranger, public_id=ar.public_id)
    with pytest.raises(NotFound):
        services.access_request_approve(actor=ar.requester, public_id=ar.public_id)
    ar.refresh_from_db()
    assert ar.status == "pending"


def test_decline_emails_the_requester(owner, company):
    ar = _request(owner, company)
    services.access_request_decline(actor=owner, public_id=ar.public_id)
    ar.refresh_from_db()
    assert ar.status == "declined"
    assert not CompanyMembership.objects.filter(user=ar.requester, company=company).exists()
    assert OutboundEmail.objects.filter(template="access-request-declined", to=["req@example.test"]).exists()
    with pytest.raises(InvalidTransition):
        services.access_request_approve(actor=owner, public_id=ar.public_id)


def test_an_expired_request_cannot_be_approved(owner, company):
    ar = _request(owner, company)
    AccessRequest.objects.filter(pk=ar.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(InvalidTransition, match="expired"):
        services.access_request_approve(actor=owner, public_id=ar.public_id)
    ar.refresh_from_db()
    assert ar.status == "expired"  # the expiry itself is recorded
    assert Event.objects.filter(action="identity.access_request.expire").count() == 1
    assert not CompanyMembership.objects.filter(user=ar.requester, company=company).exists()


def test_periodic_expiry_marks_old_requests_only(owner, company):
    ar = _request(owner, company)
    fresh = requested(company_link(user=UserFactory.create(), number=company.customer_number, email=owner.email))
    AccessRequest.objects.filter(pk=ar.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert services.access_requests_expire() == 1
    ar.refresh_from_db()
    fresh.refresh_from_db()
    assert (ar.status, fresh.status) == ("expired", "pending")
    assert services.access_requests_expire() == 0


def test_requester_can_cancel_but_nobody_else(owner, company):
    ar = _request(owner, company)
    with pytest.raises(NotFound):
        services.access_request_cancel(actor=owner, public_id=ar.public_id)
    services.access_request_cancel(actor=ar.requester, public_id=ar.public_id)
    ar.refresh_from_db()
    assert ar.status == "cancelled"
    assert Event.objects.filter(action="identity.access_request.cancel").exists()


def test_owner_without_an_account_decides_after_signing_up_and_becomes_owner(company):
    requester = UserFactory.create()
    ar = requested(company_link(user=requester, number=company.customer_number, email="owner@acme.test"))
    assert OutboundEmail.objects.get(template="access-request-approval").to == ["owner@acme.test"]
    late_owner = UserFactory.create(email="owner@acme.test")  # signs up later with the owner email
    services.access_request_approve(actor=late_owner, public_id=ar.public_id)
    company.refresh_from_db()
    assert company.owner == late_owner
    assert CompanyMembership.objects.get(user=requester, company=company).role == "user"


def test_ownerless_company_managed_by_a_practice_goes_to_its_admins(company):
    practice = Practice.objects.create(company=company_create(business_name="Ledger LLP"), name="Ledger LLP")
    admin = UserFactory.create(email="admin@ledger.test")
    staff = UserFactory.create(email="staff@ledger.test")
    PracticeMember.objects.create(practice=practice, user=admin, role="admin")
    PracticeMember.objects.create(practice=practice, user=staff, role="staff")
    client = Client.objects.create(
        practice=practice,
        company=company,
        business_name=company.business_name,
        contact_name="Olive Owner",
        address="1 High Street",
        postcode="AB1 2CD",
    )
    # Even the holder of the owner email asks: the practice keeps this client's data.
    holder = UserFactory.create(email="owner@acme.test")
    result = company_link(user=holder, number=company.customer_number, email="owner@acme.test")
    assert (result.outcome, result.decided_by) == ("requested", "accountant")
    assert OutboundEmail.objects.get(template="access-request-approval").to == ["admin@ledger.test"]
    with pytest.raises(NotFound):
        services.access_request_approve(actor=staff, public_id=requested(result).public_id)
    services.access_request_approve(actor=admin, public_id=requested(result).public_id)
    # Approving gives the client a login: the requester is the owner and the client has access (participating).
    assert CompanyMembership.objects.get(user=holder, company=company).role == "owner"
    company.refresh_from_db()
    assert company.owner == holder
    client.refresh_from_db()
    assert (client.access, client.email) == (Client.Access.BOTH, "owner@acme.test")


def test_a_managed_company_whose_practice_has_no_admin_login_asks_its_contact_address_or_waits(company):
    """The practice is written to as everywhere else (admins, else its contact address); with neither, the request
    is still recorded for the portal rather than failing."""
    practice = Practice.objects.create(
        company=company_create(business_name="Ledger LLP"), name="Ledger LLP", contact_email="office@ledger.test"
    )
    Client.objects.create(practice=practice, company=company, business_name=company.business_name)
    first = company_link(user=UserFactory.create(), number=company.customer_number, email="owner@acme.test")
    assert first.decided_by == "accountant"
    assert OutboundEmail.objects.get(template="access-request-approval").to == ["office@ledger.test"]
    Practice.objects.filter(pk=practice.pk).update(contact_email="")
    second = company_link(user=UserFactory.create(), number=company.customer_number, email="owner@acme.test")
    assert second.outcome == "requested"
    assert AccessRequest.objects.filter(company=company, status="pending").count() == 2
    assert OutboundEmail.objects.filter(template="access-request-approval").count() == 1


def test_owner_removes_a_user_but_not_themself(owner, company):
    ar = _request(owner, company)
    services.access_request_approve(actor=owner, public_id=ar.public_id)
    with pytest.raises(InvalidTransition):
        services.company_member_remove(actor=owner, company=company, user_id=owner.pk)
    from allauth.idp.oidc.models import Client as OIDCClient
    from allauth.idp.oidc.models import Token

    product = OIDCClient.objects.create(name="Payroll", id="payroll-test")
    Token.objects.create(client=product, user=ar.requester, type=Token.Type.REFRESH_TOKEN, hash="r" * 64)
    services.company_member_remove(actor=owner, company=company, user_id=ar.requester_id)
    assert not CompanyMembership.objects.filter(user=ar.requester, company=company).exists()
    assert not Token.objects.filter(user=ar.requester).exists()  # the product signs them in again, without it
    assert Event.objects.filter(action="identity.company.member_remove", company=company).exists()
    with pytest.raises(NotFound):
        services.company_member_remove(actor=ar.requester, company=company, user_id=owner.pk)
