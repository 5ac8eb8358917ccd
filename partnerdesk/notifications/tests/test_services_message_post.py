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
