"""What the practice's emails to clients say (QA's wording defects), rendered as the worker renders them."""

from __future__ import annotations

import pytest
from django.utils import timezone

from partnerdesk.notifications.models import OutboundEmail
from partnerdesk.notifications.tasks import render_email
from partnerdesk.practice import lifecycle
from partnerdesk.practice.models import ClientAccessInvitation, PracticeMember
from partnerdesk.practice.tests.lifecycle_factories import managed_client, participating_client
from partnerdesk.practice.tests.staff_factories import make_practice

pytestmark = pytest.mark.django_db


@pytest.fixture
def practice_admin():
    practice, admin = make_practice()
    return practice, PracticeMember.objects.get(user=admin)


def _rendered(template: str):
    return [render_email(email) for email in OutboundEmail.objects.filter(template=template).order_by("created_at")]


def _html(message) -> str:
    [(html, _)] = message.alternatives
    return str(html)


def test_activation_email_gives_the_expiry_date_and_a_resend_says_the_earlier_link_is_dead(practice_admin):
    practice, member = practice_admin
    client = managed_client(practice)
    lifecycle.client_access_invite(member=member, client_id=client.pk, email="c@acme.test", email_confirm="c@acme.test")
    lifecycle.client_access_resend(member=member, client_id=client.pk)
    first, resent = _rendered("client-activation")
    pending = ClientAccessInvitation.objects.get(client=client, status="pending")
    expires = timezone.localtime(pending.expires_at)
    date = f"{expires.day} {expires:%B %Y}"
    assert f"works once and expires on {date}" in resent.body
    assert f"works once and expires on {date}" in _html(resent)
    assert "for 14 days" not in first.body + _html(first)
    assert "no longer works" in resent.body
    assert "no longer works" in _html(resent)
    assert "no longer works" not in first.body


def test_transfer_email_gives_the_link_expiry_date(practice_admin):
    practice, member = practice_admin
    client = managed_client(practice, email="new@acme.test")
    lifecycle.client_stop_managing(member=member, client_id=client.pk, mode="transfer")
    [message] = _rendered("client-transfer")
    invitation = ClientAccessInvitation.objects.get(client=client, status="pending")
    expires = timezone.localtime(invitation.expires_at)
    assert f"the link works once and expires on {expires.day} {expires:%B %Y}" in message.body


def test_disable_email_names_who_can_enable_it_again(practice_admin):
    practice, member = practice_admin
    client, _owner = participating_client(practice)
    lifecycle.client_access_disable(member=member, client_id=client.pk)
    [message] = _rendered("client-access-disabled")
    assert f"cannot use it until {practice.name} enables it again" in message.body
    assert f"cannot use it until {practice.name} enables it again" in _html(message)
    assert "until they enable" not in message.body
