from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Model

from partnerdesk.notifications.models import Message, OutboundEmail

if TYPE_CHECKING:
    from partnerdesk.identity.models import Company
    from partnerdesk.practice.models import Practice


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


def message_post(
    *,
    subject: str,
    body: str,
    company: Company | None = None,
    practice: Practice | None = None,
    link: str = "",
    owner_only: bool = False,
) -> Message:
    """Post an in-app message to a company's service or to a practice. ``owner_only``: what only the Subscription
    Owner acts on (payment, services, who manages the company); the company's other users don't see it."""
    if (company is None) == (practice is None):
        raise ValueError("a message goes to exactly one of company or practice")
    return Message.objects.create(
        company=company, practice=practice, subject=subject, body=body, link=link, owner_only=owner_only
    )
