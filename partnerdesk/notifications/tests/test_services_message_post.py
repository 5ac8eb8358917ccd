import pytest
from django.db import IntegrityError, transaction

from partnerdesk.identity.services import company_create
from partnerdesk.notifications.models import Message
from partnerdesk.notifications.services import message_post

pytestmark = pytest.mark.django_db


def test_message_goes_to_a_company_service():
    company = company_create(business_name="Acme Ltd")
    message = message_post(company=company, subject="Your accountant changed", body="...")
    assert list(company.messages.all()) == [message]


def test_message_needs_exactly_one_recipient():
    with pytest.raises(ValueError, match="exactly one"):
        message_post(subject="x", body="y")


def test_database_forbids_a_message_without_recipient():
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(subject="x", body="y")


def test_a_message_about_a_client_remembers_the_restricted_staff_assigned_to_it():
    from partnerdesk.practice.models import ClientAssignment
    from partnerdesk.practice.tests.staff_factories import add_member, make_client, make_practice

    practice, _ = make_practice()
    other, _ = make_practice("Other LLP", "admin@other.test")
    client = make_client(practice, "Acme Ltd")
    assigned = add_member(practice, "rita@hartley.test", sees_all_clients=False)
    add_member(practice, "tom@hartley.test", sees_all_clients=False)
    everyone = add_member(practice, "sam@hartley.test")  # sees every client anyway
    ClientAssignment.objects.create(member=assigned, client=client)
    ClientAssignment.objects.create(member=everyone, client=client)
    message = message_post(practice=practice, client=client, subject="Acme Ltd removed your practice", body="...")
    assert list(message.visible_to.all()) == [assigned]
    with pytest.raises(ValueError, match="that client's practice"):
        message_post(practice=other, client=client, subject="x", body="y")
    with pytest.raises(ValueError, match="that client's practice"):
        message_post(company=client.company, client=client, subject="x", body="y")
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(company=client.company, client=client, subject="x", body="y")
