from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from partnerdesk.lib.text import fill, shorten
from partnerdesk.notifications.models import Message, OutboundEmail

if TYPE_CHECKING:
    from django.http import HttpRequest

    from partnerdesk.identity.models import Company, User
    from partnerdesk.practice.models import Client, Practice


# An in-app message's subject column; a name alone can fill it (business and practice names hold 200 characters).
MESSAGE_SUBJECT_LIMIT = Message._meta.get_field("subject").max_length or 200


def message_subject(template: str, **names: str) -> str:
    """A message's subject made from names people typed, e.g. ``message_subject("{practice} no longer manages
    {business}", practice=..., business=...)``: it fits the column, long names shortened with an ellipsis so the
    words saying what happened stay (``lib.text.fill``)."""
    return fill(template, limit=MESSAGE_SUBJECT_LIMIT, **names)


def known_name(address: str) -> str:
    """The full name of the person whose verified address this is, or "" (no account, not verified, no name)."""
    from allauth.account.models import EmailAddress

    name = (
        EmailAddress.objects.filter(email__iexact=address, verified=True)
        .values_list("user__full_name", flat=True)
        .first()
    )
    return str(name or "")


def send_email(
    *, template: str, to: str | Sequence[str], context: dict[str, Any] | None = None, about: Model | None = None
) -> OutboundEmail:
    """Queue an email in the outbox, inside the caller's transaction.

    Nothing is sent here: the worker renders ``templates/emails/<template>-subject.txt``,
    ``-body.txt`` and ``-body.html`` and sends after the transaction commits. A rolled-back
    transaction therefore sends nothing. Sent to one address, the context gets ``recipient_name`` (unless the caller
    gave one): the templates greet a known person by name. ``context`` must be JSON-serialisable (pass ids and
    strings, not model instances). ``about``: the invitation whose link the email carries (a model with
    ``status``, ``expires_at`` and ``token_hash``): the worker skips the email once that link no longer works
    (not pending, expired, or its token replaced by a resend; a prefix of the token's hash tells which link).
    """
    from partnerdesk.notifications.tasks import deliver_email

    recipients = [to] if isinstance(to, str) else list(to)
    if not recipients or any(not address for address in recipients):
        raise ValueError("send_email needs at least one non-empty recipient")
    # Round-trip through JSON now so a bad context fails in the caller, not in the worker.
    safe_context = json.loads(json.dumps(context or {}, cls=DjangoJSONEncoder))
    if len(recipients) == 1 and not safe_context.get("recipient_name"):
        # "Hello <name>," whenever the one recipient is a person we know; "Hello," otherwise.
        safe_context["recipient_name"] = known_name(recipients[0])
    reference = f"{about._meta.label}:{about.pk}:{getattr(about, 'token_hash', '')[:16]}" if about is not None else ""
    email = OutboundEmail.objects.create(template=template, to=recipients, context=safe_context, about=reference)
    deliver_email.enqueue(str(email.id))
    return email


def send_emails_bulk(emails: Sequence[tuple[str, Sequence[str], dict[str, Any]]]) -> list[OutboundEmail]:
    """Queue many emails at once, inside the caller's transaction: ``emails`` are (template, recipients, context)
    with the context complete (``recipient_name`` included: nothing is looked up per email). The outbox rows are
    written by one bulk insert and their delivery tasks by another (one ``deliver_email`` task per email, as
    ``send_email`` queues it), so a run issuing thousands of invoices makes a fixed number of statements.
    Delivery is exactly as for ``send_email``: the worker renders and sends each after the transaction commits."""
    from partnerdesk.notifications.tasks import deliver_email

    rows = []
    for template, recipients, context in emails:
        if not recipients or any(not address for address in recipients):
            raise ValueError("send_emails_bulk needs at least one non-empty recipient per email")
        safe_context = json.loads(json.dumps(context, cls=DjangoJSONEncoder))
        rows.append(OutboundEmail(template=template, to=list(recipients), context=safe_context))
    if not rows:
        return []
    OutboundEmail.objects.bulk_create(rows)
    enqueue_bulk(deliver_email, [(str(row.id),) for row in rows])
    return rows


def enqueue_bulk(task: Any, args_list: Sequence[tuple[Any, ...]]) -> None:
    """``task.enqueue(*args)`` for each args, in one insert when the backend is django-tasks' database backend (the
    worker picks the rows up exactly as if each had been enqueued alone: same columns, ``run_after`` set as its
    pre_save handler sets it); any other backend (tests' immediate or dummy ones) gets one ``enqueue`` each."""
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.compat import normalize_json
    from django_tasks_db.models import DBTaskResult, get_date_max

    backend = task.get_backend()
    if not isinstance(backend, DatabaseBackend):
        for args in args_list:
            task.enqueue(*args)
        return
    backend.validate_task(task)
    run_after = task.run_after if task.run_after is not None else get_date_max()
    DBTaskResult.objects.bulk_create(
        [
            DBTaskResult(
                id=backend._get_id(),
                args_kwargs=normalize_json({"args": args, "kwargs": {}}),
                priority=task.priority,
                task_path=task.module_path,
                queue_name=task.queue_name,
                run_after=run_after,
                backend_name=backend.alias,
            )
            for args in args_list
        ]
    )


def send_email_each(
    *, template: str, recipients: Sequence[tuple[str, str]], context: dict[str, Any] | None = None
) -> list[OutboundEmail]:
    """One email per recipient, each greeting its own person: ``recipients`` are (address, name) pairs (a blank
    name: the one ``send_email`` knows for the address, if any). For emails to a group, such as a practice's admins
    (``practice.selectors.admin_recipients``), so that nobody is greeted with a bare "Hello,"."""
    return [
        send_email(template=template, to=address, context={**(context or {}), "recipient_name": name})
        for address, name in recipients
        if address
    ]


def message_post(
    *,
    subject: str,
    body: str,
    company: Company | None = None,
    practice: Practice | None = None,
    link: str = "",
    owner_only: bool = False,
    client: Client | None = None,
) -> Message:
    """Post an in-app message to a company's service or to a practice. A subject made from names: build it with
    ``message_subject`` (a longer one is cut at the end, with an ellipsis). ``owner_only``: what only the Subscription
    Owner acts on (payment, services, who manages the company); the company's other users don't see it.
    ``client``: the practice's client the message is about; the restricted staff assigned to it see the message
    too (``practice.selectors.practice_messages``), even once the client is gone. Call it before deleting the
    client."""
    if (company is None) == (practice is None):
        raise ValueError("a message goes to exactly one of company or practice")
    if client is not None and (practice is None or client.practice_id != practice.pk):
        raise ValueError("a message about a client goes to that client's practice")
    message = Message.objects.create(
        company=company,
        practice=practice,
        # Whatever the caller built, it fits the column (on PostgreSQL a longer one is a DataError, a 500).
        subject=shorten(subject, MESSAGE_SUBJECT_LIMIT),
        body=body,
        link=link,
        owner_only=owner_only,
        client=client,
    )
    if client is not None:
        from partnerdesk.practice.models import ClientAssignment, PracticeMember

        restricted = ClientAssignment.objects.filter(
            client=client, member__role=PracticeMember.Role.STAFF, member__sees_all_clients=False
        ).values_list("member_id", flat=True)
        message.visible_to.add(*restricted)
    return message


# What customer services may still do to an outbox row: a sent or given-up one is final.
OUTBOX_OPEN = [OutboundEmail.Status.QUEUED, OutboundEmail.Status.FAILED]


def outbox_send_again(*, actor: User, ids: Sequence[uuid.UUID | str], request: HttpRequest | None = None) -> int:
    """Customer services: try these queued or failed emails again now, through the delivery task (one more
    attempt; a failure leaves it failed again, with the new error). Sent and given-up rows are left as they are.
    Returns how many were queued again."""
    from partnerdesk.audit.models import Action
    from partnerdesk.audit.services import record_event
    from partnerdesk.notifications.tasks import deliver_email

    with transaction.atomic():
        rows = list(OutboundEmail.objects.select_for_update().filter(pk__in=ids, status__in=OUTBOX_OPEN))
        now = timezone.now()
        for email in rows:
            previous = email.status
            email.status = OutboundEmail.Status.QUEUED
            email.next_attempt_at = now
            email.save(update_fields=["status", "next_attempt_at"])
            deliver_email.enqueue(str(email.id))
            record_event(
                action=Action.OUTBOX_SEND_AGAIN,
                actor=actor,
                request=request,
                data={"email": str(email.id), "template": email.template, "was": previous},
            )
    return len(rows)


def outbox_give_up(*, actor: User, ids: Sequence[uuid.UUID | str], request: HttpRequest | None = None) -> int:
    """Customer services: never send these queued or failed emails (a final state; a queued retry finds it given up
    and sends nothing). Like a sent one, it keeps none of its codes and links. Returns how many were given up."""
    from partnerdesk.audit.models import Action
    from partnerdesk.audit.services import record_event

    with transaction.atomic():
        rows = list(OutboundEmail.objects.select_for_update().filter(pk__in=ids, status__in=OUTBOX_OPEN))
        for email in rows:
            previous = email.status
            email.status = OutboundEmail.Status.GIVEN_UP
            email.next_attempt_at = None
            email.context = {}
            email.save(update_fields=["status", "next_attempt_at", "context"])
            record_event(
                action=Action.OUTBOX_GIVE_UP,
                actor=actor,
                request=request,
                data={"email": str(email.id), "template": email.template, "was": previous},
            )
    return len(rows)
