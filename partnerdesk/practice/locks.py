"""The one lock order for a client's rows: its company first, then the client, then the client's links.

The owner's side starts from the company (``FOR UPDATE``), the practice's side from a client id, and the
licence triggers lock the company (``FOR NO KEY UPDATE``) halfway through a change. Taking the company first
everywhere means two of them never wait for each other in a circle (a deadlock, which PostgreSQL answers by
killing one: a 500): the later one waits, then sees what the first did and gets its clear error."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from partnerdesk.identity.models import Company
from partnerdesk.practice.models import Client, Practice


def lock_companies(company_ids: Iterable[int]) -> None:
    """Lock these companies in id order (``FOR NO KEY UPDATE``: it waits for, and holds off, the owner's
    ``FOR UPDATE`` and another practice-side change, but not other tables' foreign-key checks)."""
    ids = sorted(set(company_ids))
    if ids:
        list(Company.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk").values_list("pk"))


def lock_company_of(clients: QuerySet[Client], client_id: int) -> None:
    """Before locking the client ``client_id`` of ``clients``, lock its company (nothing if it is not there:
    the caller's own lookup then says why)."""
    lock_companies(clients.filter(pk=client_id).values_list("company_id", flat=True)[:1])


def lock_practice(practice_id: int) -> None:
    """Serialise the practice's client additions (Add client, import) so that the duplicate check of one sees
    the clients the other added (``FOR NO KEY UPDATE``: new rows pointing at the practice are not held up)."""
    list(Practice.objects.select_for_update(no_key=True).filter(pk=practice_id).values_list("pk"))
