"""Subjects made from names people typed fit their columns: an in-app message's (200 characters) and an email's
(the outbox's and the developer inbox's, 255). Business and practice names hold 200 characters each, so a subject
with one or two of them was longer; on PostgreSQL that was a DataError (a 500 for whoever caused the message)."""

from __future__ import annotations

import pytest
from django.core import mail

from partnerdesk.identity.services import company_create
from partnerdesk.lib.text import ELLIPSIS
from partnerdesk.notifications.backends import DevInboxBackend
from partnerdesk.notifications.models import DevMail, Message, OutboundEmail
from partnerdesk.notifications.services import MESSAGE_SUBJECT_LIMIT, message_post, message_subject
from partnerdesk.notifications.tasks import EMAIL_SUBJECT_LIMIT, render_email

pytestmark = pytest.mark.django_db

LONGEST_BUSINESS = ("Northgate Florists and Garden Centre " * 6)[:200]
LONGEST_PRACTICE = ("Hartley Moss Chartered Accountants " * 6)[:200]


def test_message_post_cuts_any_subject_longer_than_its_column():
    company = company_create(business_name=LONGEST_BUSINESS)
    message = message_post(company=company, subject=f"About {LONGEST_BUSINESS} and {LONGEST_BUSINESS}", body="...")
    message.refresh_from_db()
    assert len(message.subject) <= MESSAGE_SUBJECT_LIMIT == 200
    assert message.subject.startswith("About Northgate")
    assert message.subject.endswith(ELLIPSIS)


def test_a_subject_with_two_of_the_longest_names_keeps_what_happened():
    company = company_create(business_name=LONGEST_BUSINESS)
    subject = message_subject(
        "{practice} transferred {business} to you", practice=LONGEST_PRACTICE, business=LONGEST_BUSINESS
    )
    message = message_post(company=company, subject=subject, body="...")
    stored = Message.objects.get(pk=message.pk).subject
    assert stored == subject
    assert len(stored) <= 200
    assert stored.startswith("Hartley Moss Chartered")
    assert f"{ELLIPSIS} transferred Northgate" in stored
    assert stored.endswith(f"{ELLIPSIS} to you")


def test_an_email_subject_with_two_of_the_longest_names_fits_the_outbox_and_the_developer_inbox(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    email = OutboundEmail.objects.create(
        template="client-practice-stopped",
        to=["owner@northgate.test"],
        context={
            "practice_name": LONGEST_PRACTICE,
            "business_name": LONGEST_BUSINESS,
            "recipient_name": "",
            "payment_path": "/companies/12345678/payment/",
        },
    )
    message = render_email(email)
    assert len(message.subject) <= EMAIL_SUBJECT_LIMIT == 255
    assert " no longer manages Northgate" in message.subject
    assert message.subject.endswith(ELLIPSIS)
    assert LONGEST_BUSINESS in message.body  # only the subject is shortened
    DevInboxBackend().send_messages([message])  # its column holds 255 characters too
    assert DevMail.objects.get().subject == message.subject
    mail.outbox.clear()


def test_an_email_subject_that_fits_is_unchanged():
    email = OutboundEmail.objects.create(
        template="client-practice-stopped",
        to=["owner@acme.test"],
        context={
            "practice_name": "Hartley LLP",
            "business_name": "Acme Ltd",
            "recipient_name": "",
            "payment_path": "/",
        },
    )
    assert render_email(email).subject == "Hartley LLP no longer manages Acme Ltd"
