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
    assert f"Contact {practice.name} if you have questions." in message.body  # no contact email yet


def test_disable_email_gives_the_practices_contact_email(practice_admin):
    practice, member = practice_admin
    practice.contact_email = "hello@practice.test"
    practice.save(update_fields=["contact_email"])
    client, _owner = participating_client(practice)
    lifecycle.client_access_disable(member=member, client_id=client.pk)
    [message] = _rendered("client-access-disabled")
    assert f"Contact {practice.name} at hello@practice.test if you have questions." in message.body
    assert '<a href="mailto:hello@practice.test">hello@practice.test</a>' in _html(message)


def test_a_client_who_pays_is_told_the_full_price_services_and_the_direct_debit_to_come(practice_admin):
    from django.db import transaction

    from partnerdesk.billing.licences import licence_open
    from partnerdesk.billing.models import Licence, SubscriptionItem
    from partnerdesk.billing.tests.invoice_factories import make_service
    from partnerdesk.practice.tests.staff_factories import make_client

    practice, member = practice_admin
    pays = make_client(
        practice, "Self Pay Ltd", contact_name="Ada", address="1 High Street", postcode="AB1 2CD", payer="client"
    )
    with transaction.atomic():
        licence_open(company=pays.company, payer=Licence.Payer.CLIENT, practice=None, starts_on=timezone.localdate())
    for code in ("wording-a", "wording-b"):
        SubscriptionItem.objects.create(
            company=pays.company, service=make_service(code), starts_on=timezone.localdate()
        )
    accountant_pays = managed_client(practice)
    lifecycle.client_access_invite(member=member, client_id=pays.pk, email="c@self.test", email_confirm="c@self.test")
    lifecycle.client_access_invite(
        member=member, client_id=accountant_pays.pk, email="c@acme.test", email_confirm="c@acme.test"
    )
    self_pay, other = _rendered("client-activation")
    said = "You pay for Self Pay Ltd's subscription yourself, at the full price, for these services: Test wording-a, "
    assert said + "Test wording-b." in self_pay.body
    assert "<li>Test wording-a</li><li>Test wording-b</li>" in _html(self_pay)
    for text in (self_pay.body, _html(self_pay)):
        assert "After you activate your access you will be asked to set up a Direct Debit to pay for it." in text
    assert "You pay" not in other.body + _html(other)
    assert "Direct Debit" not in other.body + _html(other)
