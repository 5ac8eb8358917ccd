"""Greetings: an email to one person we know (a verified address with a name) says "Hello <name>,"; "Hello,"
only where no name is known (no account, unverified, or several recipients)."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress

from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.notifications.models import OutboundEmail
from partnerdesk.notifications.services import send_email
from partnerdesk.notifications.tasks import render_email
from partnerdesk.practice import lifecycle
from partnerdesk.practice.models import PracticeMember
from partnerdesk.practice.tests.lifecycle_factories import participating_client
from partnerdesk.practice.tests.staff_factories import make_practice

pytestmark = pytest.mark.django_db


def _first_lines(email) -> tuple[str, str]:
    message = render_email(email)
    [(html, _)] = message.alternatives
    return message.body.splitlines()[0], str(html)


@pytest.mark.parametrize(
    ("template", "context"),
    [
        ("practice-member-removed", {"practice_name": "Hartley LLP", "remover_name": "Helen"}),
        ("mfa-totp_activated", {"timestamp": "1 May 2026 at 10:00 BST", "ip": "203.0.113.7", "user_agent": "x"}),
        ("account-password_changed", {"timestamp": "1 May 2026 at 10:00 BST", "ip": "203.0.113.7", "user_agent": "x"}),
        (
            "access-request-approval",
            {
                "requester_name": "Sam",
                "requester_email": "sam@example.test",
                "business_name": "Acme Ltd",
                "request_path": "/account/requests/x/",
                "expires_on": "1 May 2026",
            },
        ),
    ],
)
def test_a_known_person_is_greeted_by_name(template, context):
    UserFactory.create(email="Ana@Example.test", full_name="Ana Lopes")
    email = send_email(template=template, to="ana@example.test", context=context)
    first, html = _first_lines(email)
    assert first == "Hello Ana Lopes,"
    assert "<p>Hello Ana Lopes,</p>" in html


def test_no_name_is_known_for_an_unknown_or_unverified_address_or_several_recipients():
    unverified = UserFactory.create(email="mallory@example.test", full_name="Someone Else", verified=False)
    assert not EmailAddress.objects.filter(user=unverified, verified=True).exists()
    UserFactory.create(email="ana@example.test", full_name="Ana Lopes")
    context = {"practice_name": "Hartley LLP", "remover_name": "Helen"}
    for to in ("nobody@example.test", "mallory@example.test", ["ana@example.test", "nobody@example.test"]):
        first, html = _first_lines(send_email(template="practice-member-removed", to=to, context=context))
        assert first == "Hello,", to
        assert "<p>Hello,</p>" in html


def test_the_owner_is_greeted_by_name_when_their_accountant_disables_access():
    practice, admin = make_practice()
    client, owner = participating_client(practice)
    lifecycle.client_access_disable(member=PracticeMember.objects.get(user=admin), client_id=client.pk)
    first, _ = _first_lines(OutboundEmail.objects.get(template="client-access-disabled"))
    assert owner.full_name
    assert first == f"Hello {owner.full_name},"
