"""Who pays: opening and moving licences. Called inside the caller's transaction (every caller is a
service that also writes the audit event and the notifications).

Ranges are half-open ``[starts_on, ends_on)``. The database refuses an accountant-paying licence for a
company that has ever been client-paying, any change of payer or discount on a written licence (migration 0002),
and two licences of one company that overlap (migration 0003). A new licence therefore never starts before the
end of an earlier one: when the previous payer's licence runs to the end of today (a practice that stopped
today pays for today), the new payer starts tomorrow rather than both paying for one day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import IntegrityError, transaction
from django.db.models import Q

from partnerdesk.billing.models import Licence
from partnerdesk.identity.models import Company
from partnerdesk.lib.errors import Conflict
from partnerdesk.practice.models import Practice

# The markers in the triggers' messages (migration 0003).
_OVERLAP_MARKERS = ("billing_licence_overlap", "billing_subscriptionitem_overlap")


class DatesOverlap(Conflict):
    code = "dates_overlap"
    title = "These dates overlap a period that is already recorded: reload the page and try again"


@contextmanager
def overlap_refused(message: str | None = None) -> Iterator[None]:
    """Turn the database's refusal of overlapping ranges into ``DatesOverlap`` (a 409 with a clear message, never
    a 500). Other integrity errors are not ours to explain: re-raised. No savepoint: the enclosing transaction is
    marked for rollback, as the error ends the caller's change anyway."""
    try:
        with transaction.atomic(savepoint=False):
            yield
    except IntegrityError as exc:
        if any(marker in str(exc) for marker in _OVERLAP_MARKERS):
            raise DatesOverlap(message) from exc
        raise


def _require_atomic() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("licence changes must run inside the calling service's transaction")


def licence_current(*, company: Company) -> Licence | None:
    """The open licence (no end date), if any."""
    return Licence.objects.filter(company=company, ends_on__isnull=True).select_related("practice").first()


def _close_open_licence(*, company: Company, ends_on: dt.date, next_starts_on: dt.date) -> dt.date:
    """End the open licence on ``ends_on`` and return the day a next licence may start: ``next_starts_on``, or
    the end of an ended licence that still runs then (never two payers on one day). One locking read, at most
    one update."""
    start = next_starts_on
    for licence in Licence.objects.select_for_update().filter(
        Q(ends_on__isnull=True) | Q(ends_on__gt=next_starts_on), company=company
    ):
        if licence.ends_on is None:
            licence.ends_on = max(ends_on, licence.starts_on)  # one that had not started is cut to nothing
            licence.save(update_fields=["ends_on"])
        if licence.ends_on > licence.starts_on:
            start = max(start, licence.ends_on)
    return start


def licence_open(*, company: Company, payer: str, starts_on: dt.date, practice: Practice | None = None) -> Licence:
    """Start a licence on ``starts_on`` (or, when an ended licence still runs then, the day it ends), closing the
    open one (if any) that day."""
    _require_atomic()
    start = _close_open_licence(company=company, ends_on=starts_on, next_starts_on=starts_on)
    accountant = payer == Licence.Payer.ACCOUNTANT
    with overlap_refused():
        return Licence.objects.create(
            company=company,
            payer=payer,
            practice=practice if accountant else None,
            discounted=accountant,
            starts_on=start,
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
    start = _close_open_licence(
        company=company, ends_on=stopped_on + dt.timedelta(days=1), next_starts_on=client_pays_from
    )
    with overlap_refused():
        return Licence.objects.create(
            company=company, payer=Licence.Payer.CLIENT, practice=None, discounted=False, starts_on=start
        )
