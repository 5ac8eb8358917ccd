"""Customer services' outbox actions: send again now (through the delivery task) and give up (final), audited."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.test import Client as HttpClient
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from partnerdesk.audit.models import Event
from partnerdesk.identity.models import User
from partnerdesk.notifications.models import OutboundEmail
from partnerdesk.notifications.tasks import deliver_email

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/notifications/outboundemail/"


@pytest.fixture
def customer_services():
    user = User.objects.create_user(email="cs@partnerdesk.test", password="x" * 16, is_staff=True)
    user.groups.add(Group.objects.get(name="Customer services"))
    http = HttpClient()
    http.force_login(user)
    return http, user


def _row(status: str, **fields) -> OutboundEmail:
    if status == OutboundEmail.Status.SENT:
        fields.setdefault("sent_at", timezone.now())
    return OutboundEmail.objects.create(
        template="api-token-created",
        to=["sam@example.test"],
        context={"email": "sam@example.test", "full_name": "Sam", "token_name": "CI", "token_hint": "pdt_x"},
        status=status,
        **fields,
    )


def _deliveries(email: OutboundEmail) -> int:
    return DBTaskResult.objects.filter(
        task_path="partnerdesk.notifications.tasks.deliver_email", args_kwargs__args=[str(email.id)]
    ).count()


def test_send_again_requeues_failed_and_queued_rows_through_the_delivery_task(customer_services):
    http, user = customer_services
    failed = _row("failed", attempts=9, last_error="SMTPServerDisconnected")
    queued = _row("queued", attempts=2)
    sent = _row("sent")
    assert "send_again" in http.get(CHANGELIST).content.decode()
    response = http.post(
        CHANGELIST,
        {"action": "send_again", "_selected_action": [str(failed.pk), str(queued.pk), str(sent.pk)]},
        follow=True,
    )
    text = response.content.decode()
    assert "2 emails queued to send again now." in text
    assert "1 already sent or given up: left as they are." in text
    for row in (failed, queued):
        row.refresh_from_db()
        assert row.status == "queued"
        assert _deliveries(row) == 1  # the outbox's own task, not a send from the admin
    sent.refresh_from_db()
    assert sent.status == "sent"
    assert _deliveries(sent) == 0
    events = Event.objects.filter(action="notifications.email.send_again")
    assert sorted(e.data["email"] for e in events) == sorted([str(failed.id), str(queued.id)])
    assert {e.actor for e in events} == {user}
    # The task then sends it, once.
    assert deliver_email.call(str(failed.id)) == "sent"
    assert len(mail.outbox) == 1


def test_give_up_is_final_and_a_pending_retry_sends_nothing(customer_services):
    http, user = customer_services
    queued = _row("queued", attempts=3)
    sent = _row("sent")
    http.post(CHANGELIST, {"action": "give_up", "_selected_action": [str(queued.pk), str(sent.pk)]}, follow=True)
    queued.refresh_from_db()
    assert (queued.status, queued.context, queued.next_attempt_at) == ("given_up", {}, None)
    given_up = Event.objects.get(action="notifications.email.give_up")
    assert (given_up.actor, given_up.data["email"], given_up.data["was"]) == (user, str(queued.id), "queued")
    assert deliver_email.call(str(queued.id)) == "given_up"
    assert mail.outbox == []
    # Final: sending a given-up row again does nothing.
    http.post(CHANGELIST, {"action": "send_again", "_selected_action": [str(queued.pk)]}, follow=True)
    queued.refresh_from_db()
    assert queued.status == "given_up"
    assert not Event.objects.filter(action="notifications.email.send_again").exists()


def test_a_waiting_emails_code_or_link_is_not_shown_to_customer_services(customer_services):
    http, _ = customer_services
    email = OutboundEmail.objects.create(
        template="account-password_reset_key",
        to=["sam@example.test"],
        context={"password_reset_url": "http://x.test/accounts/password/reset/key/SECRET-KEY-123/", "code": "98765432"},
    )
    page = http.get(f"{CHANGELIST}{email.pk}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "SECRET-KEY-123" not in body
    assert "98765432" not in body
    assert "holds code, password_reset_url (values not shown)" in body
