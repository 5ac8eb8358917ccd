"""The 30-day grace period after a practice transfers a non-participating client, and suspension.

Day 0 is the transfer. Reminders go on day 23 and day 29; on day 30 (``Client.grace_ends_on``) a company
with no active Direct Debit mandate is suspended: its users cannot reach it (data kept) until someone
enters payment details, which lifts the suspension (``company_unsuspend``, called by the mandate service).
"""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest

from partnerdesk.audit.models import Action
from partnerdesk.audit.services import record_event
from partnerdesk.identity.models import Company, User
from partnerdesk.notifications.services import message_post


def company_unsuspend(*, company: Company, actor: User | None = None, request: HttpRequest | None = None) -> bool:
    """Lift a suspension because payment details were entered. Runs inside the caller's transaction;
    returns whether the company was suspended."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("company_unsuspend must run inside the calling service's transaction")
    lifted = Company.objects.filter(pk=company.pk, suspended_at__isnull=False).update(suspended_at=None)
    if not lifted:
        return False
    company.suspended_at = None
    record_event(action=Action.COMPANY_UNSUSPEND, actor=actor, request=request, company=company)
    message_post(
        company=company,
        subject="Access restored",
        body=f"Payment details are in place for {company.business_name}: everyone can use the service again.",
    )
    return True
