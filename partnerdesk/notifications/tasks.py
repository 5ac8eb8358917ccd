from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template import Context, engines
from django.template.loader import render_to_string
from django.utils import timezone
from django_tasks import task

from partnerdesk.lib.text import fit
from partnerdesk.notifications.models import DevMail, OutboundEmail

logger = logging.getLogger(__name__)
EMAIL_SUBJECT_LIMIT = min(
    OutboundEmail._meta.get_field("subject").max_length or 255, DevMail._meta.get_field("subject").max_length or 255
)


def _render_text(name: str, context: dict[str, object]) -> str:
    """A plain-text part (subject, text body): no HTML escaping, so "Hartley & Moss" stays as typed."""
    return engines["django"].engine.get_template(name).render(Context(context, autoescape=False))  # type: ignore[attr-defined]


def render_email(email: OutboundEmail) -> EmailMultiAlternatives:
    # Every email may name the Customer Services address (the one the My Details page gives).
    context = {
        **email.context,
        "BASE_URL": settings.BASE_URL,
        "CUSTOMER_SERVICES_EMAIL": settings.CUSTOMER_SERVICES_EMAIL,
    }
    name = f"emails/{email.template}"
    # Names people typed (up to 200 characters each) can make a subject longer than the outbox's and the developer
    # inbox's column: the longest are shortened with an ellipsis until it fits, the words around them kept.
    subject = fit(
        lambda values: " ".join(_render_text(f"{name}-subject.txt", dict(values)).split()), context, EMAIL_SUBJECT_LIMIT
    )
    body_text = _render_text(f"{name}-body.txt", context)
    body_html = render_to_string(f"{name}-body.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=list(email.to),
        headers={"Message-ID": email.message_id, "X-Partnerdesk-Idempotency-Key": str(email.id)},
    )
    message.attach_alternative(body_html, "text/html")
    return message


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff from one minute, capped, with jitter so a recovering server is not stampeded."""
    base = min(60 * 2 ** max(attempts - 1, 0), settings.EMAIL_RETRY_MAX_DELAY_SECONDS)
    return timedelta(seconds=base * random.uniform(0.8, 1.2))  # noqa: S311 - jitter, not security


def link_unusable(email: OutboundEmail) -> str:
    """Why the link this email carries no longer works ("superseded", "cancelled", "accepted", "expired",
    "deleted"), or "" when it still works or the email carries none."""
    if not email.about:
        return ""
    label, pk, token_hash_prefix = ([*email.about.split(":"), "", ""])[:3]
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return ""
    invitation = model._default_manager.filter(pk=pk).values("status", "expires_at", "token_hash").first()
    if invitation is None:
        return "deleted"
    if invitation["status"] != "pending":
        return str(invitation["status"])
    if token_hash_prefix and not invitation["token_hash"].startswith(token_hash_prefix):
        return "superseded"  # resent with a new link (a staff invitation keeps its row and changes its token)
    if invitation["expires_at"] <= timezone.now():
        return "expired"
    return ""


def _older_waiting(email: OutboundEmail, now: datetime) -> OutboundEmail | None:
    """An older message to the same recipients that is waiting for a retry (its retry window still open): this one
    waits behind it, so after an outage a person gets their emails in the order they were written."""
    window_start = now - timedelta(seconds=settings.EMAIL_RETRY_WINDOW_SECONDS)
    return (
        OutboundEmail.objects.filter(
            to=email.to,
            status=OutboundEmail.Status.QUEUED,
            next_attempt_at__isnull=False,
            created_at__lt=email.created_at,
            created_at__gt=window_start,
        )
        .exclude(pk=email.pk)
        .order_by("-next_attempt_at")
        .first()
    )


@task()
def deliver_email(email_id: str) -> str:
    """Send one outbox message at most once; on failure schedule a retry until the window closes."""
    with transaction.atomic():
        email = OutboundEmail.objects.select_for_update().filter(id=email_id).first()
        if email is None:
            logger.warning("outbox message %s no longer exists", email_id)
            return "missing"
        if email.status != OutboundEmail.Status.QUEUED:
            # Already delivered, failed for good or given up by customer services: a duplicate task must not send.
            return str(email.status)
        now = timezone.now()
        dead_link = link_unusable(email)
        if dead_link:
            # Late (a retry after an outage) and its link no longer works: a newer email has it, or none should.
            email.status = OutboundEmail.Status.SKIPPED
            email.last_error = f"skipped: {dead_link}"
            email.next_attempt_at = None
            email.context = {}
            email.save(update_fields=["status", "last_error", "next_attempt_at", "context"])
            logger.info("outbox message %s skipped: its link is %s", email.id, dead_link)
            return str(email.status)
        older = _older_waiting(email, now)
        if older is not None and older.next_attempt_at is not None:
            email.next_attempt_at = max(older.next_attempt_at, now) + timedelta(seconds=1)
            email.save(update_fields=["next_attempt_at"])
            deliver_email.using(run_after=email.next_attempt_at).enqueue(str(email.id))
            logger.info("outbox message %s waits behind the older message %s", email.id, older.id)
            return str(email.status)
        email.attempts += 1
        try:
            message = render_email(email)
            message.send(fail_silently=False)
        except Exception as exc:
            email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if now - email.created_at >= timedelta(seconds=settings.EMAIL_RETRY_WINDOW_SECONDS):
                email.status = OutboundEmail.Status.FAILED
                email.next_attempt_at = None
                logger.error("outbox message %s failed for good after %d attempts: %s", email.id, email.attempts, exc)
            else:
                email.next_attempt_at = now + retry_delay(email.attempts)
                deliver_email.using(run_after=email.next_attempt_at).enqueue(str(email.id))
                logger.warning(
                    "outbox message %s attempt %d failed, retrying at %s: %s",
                    email.id,
                    email.attempts,
                    email.next_attempt_at.isoformat(),
                    exc,
                )
            email.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
            return str(email.status)
        email.status = OutboundEmail.Status.SENT
        email.sent_at = now
        email.subject = str(message.subject)
        email.next_attempt_at = None
        # Codes and links live in the context: once delivered, the outbox keeps none of them.
        email.context = {}
        email.save(update_fields=["attempts", "status", "sent_at", "subject", "next_attempt_at", "context"])
        logger.info("outbox message %s sent to %s", email.id, ", ".join(email.to))
        return str(email.status)
