"""Writes to a company's bookkeeping entries: add one, import a CSV file, and (inside the practice's
"Delete this data and cancel the subscription") delete them all.

Who may write is decided in one place, ``partnerdesk.practice.access``: the company's own people while the
company is not disabled or suspended, and the members of the practice managing it. Anyone else gets NotFound."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from partnerdesk.audit.models import Action
from partnerdesk.audit.services import record_event
from partnerdesk.identity.models import Company, User
from partnerdesk.ledger import imports, values
from partnerdesk.ledger.models import Entry
from partnerdesk.practice.access import Side, company_access, practice_client_for

BULK_BATCH = 1000


def _require_atomic() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger_delete_for_company must run inside the calling service's transaction")


def _scope(*, user: User, company: Company, side: Side) -> dict[str, Any]:
    """Audit scope: a practice member's change also shows in that client's History."""
    if side == "practice":
        client = practice_client_for(user=user, company=company)
        if client is not None:
            return {"practice": client.practice, "client": client}
    return {}


def entry_add(
    *,
    user: User,
    company: Company,
    date: dt.date,
    description: str,
    amount: Decimal,
    request: HttpRequest | None = None,
) -> Entry:
    """Add one entry (positive amount: income, negative: expense). NotFound for anyone without access."""
    side = company_access(user=user, company=company)
    checked = values.clean(date=date, description=description, amount=amount)
    scope = _scope(user=user, company=company, side=side)
    with transaction.atomic():
        entry = Entry.objects.create(
            company=company,
            date=checked.date,
            description=checked.description,
            amount=checked.amount,
            created_by=user,
        )
        record_event(
            action=Action.LEDGER_ENTRY_ADD,
            actor=user,
            request=request,
            company=company,
            data={"entry_id": entry.pk, "date": checked.date.isoformat(), "amount": str(checked.amount)},
            **scope,
        )
    return entry


def entries_import_csv(*, user: User, company: Company, file: Any, request: HttpRequest | None = None) -> int:
    """Import a CSV file (header ``date,description,amount``; UTF-8, BOM or not; at most 5 MB): every row or none.

    Raises LedgerImportTooLarge, or LedgerImportInvalid naming each bad row ("Row 3: amount 'abc' is not a
    number"). Returns how many entries were added. Set-based: one insert per thousand rows."""
    side = company_access(user=user, company=company)
    if hasattr(file, "seek"):
        file.seek(0)
    rows = imports.parse(imports.read_limited(file, size=getattr(file, "size", None)))
    scope = _scope(user=user, company=company, side=side)
    now = timezone.now()
    with transaction.atomic():
        for start in range(0, len(rows), BULK_BATCH):
            Entry.objects.bulk_create(
                [
                    Entry(
                        company=company,
                        date=row.date,
                        description=row.description,
                        amount=row.amount,
                        created_by=user,
                        created_at=now,
                    )
                    for row in rows[start : start + BULK_BATCH]
                ]
            )
        record_event(
            action=Action.LEDGER_IMPORT,
            actor=user,
            request=request,
            company=company,
            data={"count": len(rows), "filename": str(getattr(file, "name", "") or "")[:255]},
            **scope,
        )
    return len(rows)


def ledger_delete_for_company(*, company: Company) -> int:
    """Hard-delete every entry of the company (one DELETE) and return how many there were.

    No transaction and no audit event of its own: it is one step of the practice's "Delete this data and
    cancel the subscription", which holds the transaction and records the event. Raises RuntimeError when
    called outside an atomic block, so a caller cannot delete the data without its audit trail."""
    _require_atomic()
    deleted, _ = Entry.objects.filter(company=company).delete()
    return deleted
