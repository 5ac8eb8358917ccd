from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from partnerdesk.notifications.models import OutboundEmail
from partnerdesk.notifications.services import send_email
from partnerdesk.notifications.tasks import deliver_email, retry_delay

CONTEXT = {
    "email": "sam@example.test",
    "full_name": "Sam Jones",
    "token_name": "CI",
    "token_hint": "pdt_abc123",
    "created_at": "1 May 2026",
    "expires_at": "1 June 2026",
}


def _queue(**overrides) -> OutboundEmail:
    with transaction.atomic():
        return send_email(
            template=overrides.get("template", "api-token-created"), to="sam@example.test", context=CONTEXT
        )


def _make_retries_due() -> None:
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now() - timedelta(seconds=1))


@pytest.mark.django_db(transaction=True)
def test_rolled_back_transaction_sends_nothing(smtp_sink, run_worker):
    def service_that_fails_after_queueing() -> None:
        with transaction.atomic():
            send_email(template="api-token-created", to="sam@example.test", context=CONTEXT)
            raise RuntimeError("the business action failed after queueing its email")

    with pytest.raises(RuntimeError):
        service_that_fails_after_queueing()
    run_worker()
    assert not OutboundEmail.objects.exists()
    assert not DBTaskResult.objects.exists()
    assert smtp_sink.messages == []


@pytest.mark.django_db(transaction=True)
def test_worker_renders_three_templates_and_sends(smtp_sink, run_worker):
    email = _queue()
    run_worker()
    [message] = smtp_sink.messages
    assert message["Subject"] == "A new API token was added to your Partnerdesk account"
    assert message["To"] == "sam@example.test"
    assert message["Message-ID"] == f"<{email.id}@partnerdesk>"
    parts = {p.get_content_type(): p.get_payload(decode=True).decode() for p in message.walk() if not p.is_multipart()}
    assert 'named "CI"' in parts["text/plain"]
    assert "<strong>CI</strong>" in parts["text/html"]
    email.refresh_from_db()
    assert (email.status, email.attempts, email.sent_at is not None) == ("sent", 1, True)
    assert email.context == {}  # secrets in the context (codes, links) are not kept after delivery


@pytest.mark.django_db(transaction=True)
def test_failing_smtp_then_working_smtp_delivers_exactly_once(smtp_sink, run_worker):
    smtp_sink.fail = True
    email = _queue()

    run_worker()
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("queued", 1)
    assert "451" in email.last_error
    assert email.next_attempt_at is not None
    assert email.next_attempt_at > timezone.now()
    assert smtp_sink.messages == []

    run_worker()  # the retry is not due yet: nothing happens
    email.refresh_from_db()
    assert email.attempts == 1

    smtp_sink.fail = False
    _make_retries_due()
    run_worker()
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("sent", 2)
    assert len(smtp_sink.messages) == 1

    # A duplicate task for the same message (e.g. a re-enqueue) must not send it again.
    deliver_email.enqueue(str(email.id))
    run_worker()
    assert len(smtp_sink.messages) == 1
    assert smtp_sink.refused == 1


@pytest.mark.django_db(transaction=True)
def test_unreachable_smtp_server_is_retried(settings, run_worker):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens on 9
    email = _queue()
    run_worker()
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("queued", 1)
    assert "ConnectionRefusedError" in email.last_error
    assert DBTaskResult.objects.filter(status="READY").count() == 1


@pytest.mark.django_db(transaction=True)
def test_template_error_is_logged_with_message_id_and_retried(smtp_sink, run_worker, caplog):
    email = _queue(template="no-such-email")
    run_worker()
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("queued", 1)
    assert "TemplateDoesNotExist" in email.last_error
    assert any(str(email.id) in record.getMessage() for record in caplog.records if record.levelname == "WARNING")
    assert smtp_sink.messages == []


@pytest.mark.django_db(transaction=True)
def test_message_still_failing_after_the_retry_window_is_marked_failed(smtp_sink, run_worker, settings, caplog):
    smtp_sink.fail = True
    email = _queue()
    OutboundEmail.objects.filter(pk=email.pk).update(
        created_at=timezone.now() - timedelta(seconds=settings.EMAIL_RETRY_WINDOW_SECONDS + 1)
    )
    run_worker()
    email.refresh_from_db()
    assert email.status == "failed"
    assert email.next_attempt_at is None
    assert not DBTaskResult.objects.filter(status="READY").exists()
    assert any(str(email.id) in r.getMessage() for r in caplog.records if r.levelname == "ERROR")


def test_retry_window_exceeds_a_day_and_backoff_is_capped(settings):
    assert settings.EMAIL_RETRY_WINDOW_SECONDS >= 24 * 3600
    assert 48 <= retry_delay(1).total_seconds() <= 72
    assert 96 <= retry_delay(2).total_seconds() <= 144
    assert retry_delay(30).total_seconds() <= settings.EMAIL_RETRY_MAX_DELAY_SECONDS * 1.2


@pytest.mark.django_db
def test_send_email_rejects_empty_recipients_and_unserialisable_context():
    with pytest.raises(ValueError, match="recipient"):
        send_email(template="api-token-created", to=[], context={})
    with pytest.raises(TypeError):
        send_email(template="api-token-created", to="a@example.test", context={"x": object()})
    assert not OutboundEmail.objects.exists()


@pytest.mark.django_db
def test_plain_text_parts_are_not_html_escaped_and_the_html_part_is():
    from partnerdesk.notifications.tasks import render_email

    context = {
        "business_name": "O'Brien & Sons <Ltd>",
        "practice_name": "Hartley & Moss",
        "requester_name": "Helen",
        "requester_email": "helen@hartley.test",
        "request_path": "/companies/12345678/accountant/requests/1/",
        "expires_on": "15 December 2026",
    }
    email = OutboundEmail(template="practice-connect-request", to=["owner@example.test"], context=context)
    message = render_email(email)
    assert message.subject == "Hartley & Moss asks to manage O'Brien & Sons <Ltd>"
    assert "Hartley & Moss" in message.body
    assert "O'Brien & Sons <Ltd>" in message.body
    [(html, _mimetype)] = message.alternatives
    assert isinstance(html, str)
    assert "Hartley &amp; Moss" in html
    assert "O&#x27;Brien &amp; Sons &lt;Ltd&gt;" in html
