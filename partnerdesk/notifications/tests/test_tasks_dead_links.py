"""After an outage the worker retries late: an email whose invitation link no longer works is skipped (status
"skipped", the reason in the admin), not sent with a dead link; and a recipient's emails go out in order."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from partnerdesk.notifications.models import OutboundEmail
from partnerdesk.notifications.services import send_email
from partnerdesk.notifications.tasks import deliver_email
from partnerdesk.practice import lifecycle, staff_services
from partnerdesk.practice.models import ClientAccessInvitation, PracticeInvitation, PracticeMember
from partnerdesk.practice.tests.lifecycle_factories import managed_client
from partnerdesk.practice.tests.staff_factories import make_practice

pytestmark = pytest.mark.django_db


@pytest.fixture
def practice_admin():
    practice, admin = make_practice()
    return practice, PracticeMember.objects.get(user=admin)


def _deliver(email: OutboundEmail) -> OutboundEmail:
    deliver_email.call(str(email.id))
    email.refresh_from_db()
    return email


def _activation_emails() -> list[OutboundEmail]:
    return list(OutboundEmail.objects.filter(template="client-activation").order_by("created_at"))


def test_a_superseded_activation_email_is_skipped_and_the_newer_one_sent(practice_admin):
    practice, member = practice_admin
    client = managed_client(practice)
    lifecycle.client_access_invite(member=member, client_id=client.pk, email="c@acme.test", email_confirm="c@acme.test")
    lifecycle.client_access_resend(member=member, client_id=client.pk)
    older, newer = _activation_emails()
    assert older.about.startswith("practice.ClientAccessInvitation:")
    assert _deliver(newer).status == "sent"
    older = _deliver(older)  # the late retry of the first email
    assert (older.status, older.last_error, older.context) == ("skipped", "skipped: superseded", {})
    assert len(mail.outbox) == 1
    assert newer.context == {}  # sent rows forget their context (decision 18)


def test_a_cancelled_invitations_email_is_not_sent(practice_admin):
    practice, member = practice_admin
    client = managed_client(practice)
    lifecycle.client_access_invite(member=member, client_id=client.pk, email="c@acme.test", email_confirm="c@acme.test")
    lifecycle.client_access_cancel(member=member, client_id=client.pk)
    [email] = _activation_emails()
    assert _deliver(email).status == "skipped"
    assert email.last_error == "skipped: cancelled"
    assert mail.outbox == []


def test_an_expired_activation_link_is_not_sent(practice_admin):
    practice, member = practice_admin
    client = managed_client(practice)
    lifecycle.client_access_invite(member=member, client_id=client.pk, email="c@acme.test", email_confirm="c@acme.test")
    ClientAccessInvitation.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    [email] = _activation_emails()
    assert _deliver(email).last_error == "skipped: expired"


def test_a_resent_staff_invitation_skips_the_email_with_the_old_link_and_a_revoked_one_sends_nothing(
    practice_admin,
):
    practice, member = practice_admin
    invitation = staff_services.invitation_create(
        actor=member.user, practice=practice, email="new@hartley.test", role="staff"
    )
    staff_services.invitation_resend(actor=member.user, practice=practice, invitation_id=invitation.pk)
    older, newer = OutboundEmail.objects.filter(template="practice-staff-invitation").order_by("created_at")
    assert _deliver(older).last_error == "skipped: superseded"
    assert _deliver(newer).status == "sent"
    again = staff_services.invitation_create(
        actor=member.user, practice=practice, email="other@hartley.test", role="staff"
    )
    staff_services.invitation_revoke(actor=member.user, practice=practice, invitation_id=again.pk)
    revoked = OutboundEmail.objects.filter(template="practice-staff-invitation", to=["other@hartley.test"]).get()
    assert _deliver(revoked).last_error == "skipped: revoked"
    assert PracticeInvitation.objects.get(pk=again.pk).status == "revoked"
    assert len(mail.outbox) == 1


def test_an_email_without_a_link_reference_is_sent_as_before():
    email = send_email(template="practice-member-removed", to="x@example.test", context={"practice_name": "P"})
    assert email.about == ""
    assert _deliver(email).status == "sent"


def test_a_newer_email_waits_behind_an_older_one_to_the_same_person_that_is_waiting_for_a_retry():
    context = {"practice_name": "P"}
    older = send_email(template="practice-member-removed", to="x@example.test", context=context)
    newer = send_email(template="practice-member-removed", to="x@example.test", context=context)
    other = send_email(template="practice-member-removed", to="y@example.test", context=context)
    retry_at = timezone.now() + dt.timedelta(minutes=5)
    OutboundEmail.objects.filter(pk=older.pk).update(attempts=1, next_attempt_at=retry_at)  # failed once
    newer = _deliver(newer)
    assert (newer.status, newer.attempts) == ("queued", 0)
    assert newer.next_attempt_at is not None
    assert newer.next_attempt_at > retry_at
    assert _deliver(other).status == "sent"  # someone else's email does not wait
    assert _deliver(older).status == "sent"
    assert _deliver(newer).status == "sent"  # the older one is out: the newer one goes
    assert [m.to for m in mail.outbox] == [["y@example.test"], ["x@example.test"], ["x@example.test"]]
