"""Telling whoever pays that an invoice was issued: one email per person and one in-app message per invoice, queued
in the invoice run's transaction by a fixed number of statements whatever the number of invoices.

Whom: a practice's invoice goes to each of its admins (greeted by name, as ``practice.selectors.admin_recipients``
does, with the practice's contact email when it has no admin) and to the practice's Messages; a client-paying
company's invoice goes to its Subscription Owner (or the owner's address on record before one is linked, as the
Direct Debit confirmation does) and to the company's owner-only messages.

What: the month, number and total with VAT, and either the day it will be collected by Direct Debit "on or after"
(``DIRECT_DEBIT_NOTICE_DAYS`` after the invoice date: the advance notice the mandate's Guarantee promises) or, with
no Direct Debit, that one should be set up under Payment details; a link to the invoice page.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef
from django.utils import timezone

from partnerdesk.billing.models import DirectDebitMandate, Invoice
from partnerdesk.notifications.models import Message
from partnerdesk.notifications.services import MESSAGE_SUBJECT_LIMIT, send_emails_bulk
from partnerdesk.practice.models import PracticeMember

TEMPLATE = "invoice-issued"
# Collection "on or after" this many days after the invoice date: at least 10 working days (Bacs' standard advance
# notice) whenever no more than two bank holidays fall in the fortnight.
DIRECT_DEBIT_NOTICE_DAYS = 14


def collection_date(issued_on: dt.date) -> dt.date:
    return issued_on + dt.timedelta(days=DIRECT_DEBIT_NOTICE_DAYS)


def _verified(user_ref: str) -> Exists:
    from allauth.account.models import EmailAddress

    return Exists(
        EmailAddress.objects.filter(
            user=OuterRef(user_ref), email__iexact=OuterRef(f"{user_ref}__email"), verified=True
        )
    )


def notify_issued(*, period: dt.date, run: uuid.UUID) -> int:
    """Queue the emails and messages for the invoices the run ``run`` issued for ``period`` (call it inside the
    run's transaction, after the totals are written). Three reads and four bulk inserts. Returns emails queued."""
    mandate = DirectDebitMandate.objects.filter(company=OuterRef("account_id"), status=DirectDebitMandate.Status.ACTIVE)
    invoices = list(
        Invoice.objects.filter(period=period, run=run)
        .annotate(direct_debit=Exists(mandate), owner_verified=_verified("account__owner"))
        .values(
            "id",
            "account_id",
            "number",
            "kind",
            "practice_id",
            "practice__name",
            "practice__contact_email",
            "account__customer_number",
            "account__owner_email",
            "account__owner__email",
            "account__owner__full_name",
            "owner_verified",
            "billed_to_name",
            "issued_at",
            "total",
            "direct_debit",
        )
        .order_by("number")
    )
    if not invoices:
        return 0
    admins: dict[int, list[tuple[str, str]]] = defaultdict(list)
    rows = (
        PracticeMember.objects.filter(
            role=PracticeMember.Role.ADMIN,
            practice_id__in=Invoice.objects.filter(period=period, run=run, kind=Invoice.Kind.PRACTICE).values(
                "practice_id"
            ),
        )
        .annotate(verified=_verified("user"))
        .order_by("practice_id", "user__email")
        .values_list("practice_id", "user__email", "user__full_name", "verified")
    )
    for practice_id, address, name, verified in rows:
        admins[practice_id].append((address, name if verified and name else ""))

    emails: list[tuple[str, list[str], dict[str, Any]]] = []
    messages: list[Message] = []
    now = timezone.now()
    for inv in invoices:
        practice = inv["kind"] == Invoice.Kind.PRACTICE
        issued_on = timezone.localtime(inv["issued_at"]).date()
        month = f"{period:%B %Y}"
        total = Decimal(inv["total"]).quantize(Decimal("0.01"))
        if practice:
            invoice_path = f"/partner/invoices/{inv['number']}/"
            payment_path = "/partner/payment/"
            team = f"{inv['practice__name']} team"
            recipients = [(address, name or team) for address, name in admins.get(inv["practice_id"], [])]
            if not recipients and inv["practice__contact_email"]:
                recipients = [(inv["practice__contact_email"], team)]
        else:
            number = inv["account__customer_number"]
            invoice_path = f"/companies/{number}/invoices/{inv['number']}/"
            payment_path = f"/companies/{number}/payment/"
            if inv["account__owner__email"]:
                name = inv["account__owner__full_name"] if inv["owner_verified"] else ""
                recipients = [(inv["account__owner__email"], name or "")]
            else:
                recipients = [(inv["account__owner_email"], "")] if inv["account__owner_email"] else []
        collected_on = collection_date(issued_on)
        context = {
            "number": inv["number"],
            "month": month,
            "billed_to_name": inv["billed_to_name"],
            "customer_number": inv["account__customer_number"],
            "total": f"{total:,.2f}",
            "issued_on": issued_on.isoformat(),
            "direct_debit": inv["direct_debit"],
            "collected_on": collected_on.isoformat(),
            "invoice_path": invoice_path,
            "payment_path": payment_path,
        }
        emails.extend(
            (TEMPLATE, [address], {**context, "recipient_name": name}) for address, name in recipients if address
        )
        if inv["direct_debit"]:
            how = (
                f"£{total:,.2f} (including VAT) will be collected by Direct Debit on or after {collected_on:%-d %B %Y}."
            )
        else:
            how = (
                f"Total £{total:,.2f} (including VAT). No Direct Debit is set up: enter your Direct Debit details "
                "under Payment details so that it can be collected."
            )
        messages.append(
            Message(
                practice_id=inv["practice_id"] if practice else None,
                company_id=None if practice else inv["account_id"],
                subject=f"Your {month} invoice {inv['number']} is ready"[:MESSAGE_SUBJECT_LIMIT],
                body=f"Your {month} invoice {inv['number']} is ready. {how}",
                link=invoice_path,
                owner_only=not practice,
                created_at=now,
            )
        )
    Message.objects.bulk_create(messages)
    return len(send_emails_bulk(emails))
