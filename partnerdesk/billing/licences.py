"""Who pays: opening and moving licences. Called inside the caller's transaction (every caller is a
service that also writes the audit event and the notifications).

Ranges are half-open ``[starts_on, ends_on)``. The database refuses an accountant-paying licence for a
company that has ever been client-paying, and any change of payer or discount on a written licence.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from partnerdesk.billing.models import Licence
from partnerdesk.identity.models import Company
from partnerdesk.practice.models import Practice


def _require_atomic() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("licence changes must run inside the calling service's transaction")


def licence_current(*, company: Company) -> Licence | None:
    """The open licence (no end date), if any."""
    return Licence.objects.filter(company=company, ends_on__isnull=True).select_related("practice").first()


def licence_open(*, company: Company, payer: str, starts_on: dt.date, practice: Practice | None = None) -> Licence:
    """Start a licence on ``starts_on``, closing the open one (if any) that day."""
    _require_atomic()
    licence_close(company=company, ends_on=starts_on)
    accountant = payer == Licence.Payer.ACCOUNTANT
    return Licence.objects.create(
        company=company,
        payer=payer,
        practice=practice if accountant else None,
        discounted=accountant,
        starts_on=starts_on,
    )


def licence_close(*, company: Company, ends_on: dt.date) -> Licence | None:
    """End the open licence on ``ends_on`` (exclusive). A licence that had not started yet is cut to nothing."""
    _require_atomic()
    open_licence = Licence.objects.select_for_update().filter(company=company, ends_on__isnull=True).first()
    if open_licence is None:
        return None
    open_licence.ends_on = max(ends_on, open_licence.starts_on)
    open_licence.save(update_fields=["ends_on"])
    return open_licence


def licence_move_to_client(*, company: Company, stopped_on: dt.date, client_pays_from: dt.date) -> Licence:
    """The practice stops paying: its licence covers up to and including ``stopped_on``; the client pays
    full RRP from ``client_pays_from`` (the day after, or the end of a transfer's grace period). One-way."""
    _require_atomic()
    if client_pays_from <= stopped_on:
        raise ValueError("the client starts paying after the practice stops")
    licence_close(company=company, ends_on=stopped_on + dt.timedelta(days=1))
    return Licence.objects.create(
        company=company, payer=Licence.Payer.CLIENT, practice=None, discounted=False, starts_on=client_pays_from
    )
