"""Emails to a practice go to each of its admins on their own, greeted by name ("Hello Helen Hartley,"), or as
"Hello <practice> team," where no name can be trusted (no name, an unverified address, the contact address when
the practice has no admin): never a bare "Hello," to several people at once."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress

from partnerdesk.identity.services import company_create, company_link
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.notifications.models import OutboundEmail
from partnerdesk.notifications.tasks import render_email
from partnerdesk.practice import connect, lifecycle, services
from partnerdesk.practice.models import Client, Practice, PracticeMember
from partnerdesk.practice.selectors import admin_recipients
from partnerdesk.practice.tests.connect_factories import owned_company
from partnerdesk.practice.tests.lifecycle_factories import participating_client
from partnerdesk.practice.tests.staff_factories import add_member, make_practice

pytestmark = pytest.mark.django_db


@pytest.fixture
def practice():
    """Hartley LLP with two named admins (one of them the contact address) and a staff member."""
    practice, _helen = make_practice("Hartley LLP", "helen@hartley.test")
    raj = UserFactory.create(email="raj@hartley.test", full_name="Raj Patel")
    PracticeMember.objects.create(practice=practice, user=raj, role=PracticeMember.Role.ADMIN)
    add_member(practice, "staff@hartley.test")
    Practice.objects.filter(pk=practice.pk).update(contact_email="helen@hartley.test")
    practice.refresh_from_db()
    return practice


def _greetings(template: str) -> dict[str, str]:
    """Each email of this template: its one recipient -> the first line of its text and its HTML greeting."""
    found = {}
    for email in OutboundEmail.objects.filter(template=template):
        assert len(email.to) == 1, email.to
        message = render_email(email)
        [(html, _)] = message.alternatives
        first = message.body.splitlines()[0]
        assert f"<p>{first}</p>" in str(html)
        found[email.to[0]] = first
    return found


BY_NAME = {"helen@hartley.test": "Hello Helen Hartley,", "raj@hartley.test": "Hello Raj Patel,"}


def test_admin_recipients_are_each_admin_by_name_or_as_the_practices_team(practice):
    assert admin_recipients(practice=practice) == [
        ("helen@hartley.test", "Helen Hartley"),
        ("raj@hartley.test", "Raj Patel"),
    ]  # not the staff member
    nameless = UserFactory.create(email="anon@hartley.test", full_name="")
    PracticeMember.objects.create(practice=practice, user=nameless, role=PracticeMember.Role.ADMIN)
    EmailAddress.objects.filter(email="raj@hartley.test").update(verified=False)
    assert admin_recipients(practice=practice) == [
        ("anon@hartley.test", "Hartley LLP team"),
        ("helen@hartley.test", "Helen Hartley"),
        ("raj@hartley.test", "Hartley LLP team"),  # an unverified address never chooses a greeting
    ]
    PracticeMember.objects.filter(practice=practice, role=PracticeMember.Role.ADMIN).delete()
    assert admin_recipients(practice=practice) == [("helen@hartley.test", "Hartley LLP team")]  # its contact address
    Practice.objects.filter(pk=practice.pk).update(contact_email="")
    practice.refresh_from_db()
    assert admin_recipients(practice=practice) == []


def test_a_new_client_invitation_and_its_withdrawal_greet_each_admin_by_name(practice):
    company, owner = owned_company()
    services.accountant_invite(actor=owner, company=company, practice_email="helen@hartley.test")
    assert _greetings("practice-client-invitation") == BY_NAME
    services.accountant_invitation_withdraw(actor=owner, company=company)
    assert _greetings("practice-client-invitation-withdrawn") == BY_NAME


def test_connect_accepted_and_declined_greet_each_admin_by_name(practice):
    helen = PracticeMember.objects.get(user__email="helen@hartley.test")
    company, owner = owned_company()
    client = connect.connect_request_create(member=helen, number=company.customer_number, owner_email=owner.email)
    assert client is not None
    connect.connect_request_decline(actor=owner, company=company, client_id=client.pk)
    assert _greetings("practice-connect-declined") == BY_NAME
    client = connect.connect_request_create(member=helen, number=company.customer_number, owner_email=owner.email)
    assert client is not None
    connect.connect_request_accept(actor=owner, company=company, client_id=client.pk)
    assert _greetings("practice-connect-accepted") == BY_NAME


def test_a_client_leaving_greets_each_admin_by_name(practice):
    client, owner = participating_client(practice)
    lifecycle.accountant_remove(actor=owner, company=client.company)
    assert _greetings("practice-client-left") == BY_NAME


def test_an_access_request_for_a_managed_company_greets_each_admin_by_name(practice):
    company = company_create(business_name="Acme Ltd", owner_email="owner@acme.test")
    Client.objects.create(practice=practice, company=company, business_name="Acme Ltd")
    company_link(user=UserFactory.create(), number=company.customer_number, email="owner@acme.test")
    assert _greetings("access-request-approval") == BY_NAME


def test_a_practice_without_admins_is_greeted_as_a_team_at_its_contact_address(practice):
    PracticeMember.objects.filter(practice=practice, role=PracticeMember.Role.ADMIN).delete()
    client, owner = participating_client(practice)
    lifecycle.accountant_remove(actor=owner, company=client.company)
    assert _greetings("practice-client-left") == {"helen@hartley.test": "Hello Hartley LLP team,"}
