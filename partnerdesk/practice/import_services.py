"""CSV import of clients (Imported tab): preview, fix or drop rows, then import in one set-based transaction.

Every function is one transaction scoped to the member's practice: another practice's batch is NotFound."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from partnerdesk.audit.models import Action, Event
from partnerdesk.audit.services import record_event
from partnerdesk.identity.models import Company, _new_customer_number, _new_registration_id
from partnerdesk.lib.errors import InvalidTransition, NotFound
from partnerdesk.lib.request import client_ip
from partnerdesk.practice import imports
from partnerdesk.practice.locks import lock_practice
from partnerdesk.practice.models import Client, ImportBatch, PracticeMember
from partnerdesk.practice.selectors import sees_every_client

LOOKUP_CHUNK = 900  # under SQLite's 999 variables per statement
INSERT_BATCH = 1000  # Django lowers it further on SQLite


class ImportNotDraft(InvalidTransition):
    code = "import_not_draft"
    title = "This import has already been imported or discarded."


def _existing(member: PracticeMember) -> imports.Existing:
    """Every current client of the practice (all tabs, hidden or not): lower-cased names and emails, one query."""
    names: set[str] = set()
    emails: set[str] = set()
    for name, email in Client.objects.filter(practice_id=member.practice_id).values_list("business_name", "email"):
        names.add(imports.normalise_name(name))
        if email:
            emails.add(imports.normalise_email(email))
    return imports.Existing(names=frozenset(names), emails=frozenset(emails))


def _require_importer(member: PracticeMember) -> None:
    """Importing is for admins and staff who see every client: a restricted staff member would not see the
    imported clients, and duplicate checks would reveal clients not assigned to them."""
    if not sees_every_client(member):
        raise NotFound("No such page")


def _lock_batch(member: PracticeMember, batch_id: int) -> ImportBatch:
    _require_importer(member)
    batch = ImportBatch.objects.select_for_update().filter(pk=batch_id, practice_id=member.practice_id).first()
    if batch is None:
        raise NotFound("No such import")
    return batch


def import_batch_for_member(*, member: PracticeMember, batch_id: int) -> ImportBatch:
    _require_importer(member)
    batch = ImportBatch.objects.filter(pk=batch_id, practice_id=member.practice_id).first()
    if batch is None:
        raise NotFound("No such import")
    return batch


def import_preview_create(*, member: PracticeMember, filename: str, data: bytes) -> ImportBatch:
    """Parse and validate the file; the preview is stored until it is imported or discarded."""
    _require_importer(member)
    parsed = imports.parse(data)
    with transaction.atomic():
        rows = imports.validate_rows(imports.new_rows(parsed), _existing(member))
        return ImportBatch.objects.create(
            practice_id=member.practice_id,
            created_by=member.user,
            filename=imports.safe_filename(filename),
            rows=rows,
            ignored_columns=parsed.ignored_columns,
        )


def _row_position(batch: ImportBatch, index: int) -> int:
    if not 1 <= index <= len(batch.rows):
        raise NotFound("No such row")
    return index - 1


def _revalidate_and_save(member: PracticeMember, batch: ImportBatch) -> None:
    batch.rows = imports.validate_rows(batch.rows, _existing(member))
    batch.save(update_fields=["rows"])


def import_row_update(
    *,
    member: PracticeMember,
    batch_id: int,
    index: int,
    values: dict[str, Any] | None = None,
    dropped: bool | None = None,
) -> dict[str, Any]:
    """Fix a row (the given values replace the row's; the others stay) and/or drop it or bring it back. Every
    row is re-validated, since changing one row can make or unmake a duplicate of another. Returns the row."""
    with transaction.atomic():
        batch = _lock_batch(member, batch_id)
        if batch.status != ImportBatch.Status.DRAFT:
            raise ImportNotDraft()
        position = _row_position(batch, index)
        row = batch.rows[position]
        if values is not None:
            row["values"] = {
                name: str(values[name]) if name in values else row["values"].get(name, "") for name in imports.FIELDS
            }
        if dropped is not None:
            row["dropped"] = dropped
        _revalidate_and_save(member, batch)
        return dict(batch.rows[position])


def import_row_drop(*, member: PracticeMember, batch_id: int, index: int, dropped: bool = True) -> dict[str, Any]:
    """Drop a row from the import (or bring it back)."""
    return import_row_update(member=member, batch_id=batch_id, index=index, dropped=dropped)


def import_discard(*, member: PracticeMember, batch_id: int) -> ImportBatch:
    with transaction.atomic():
        batch = _lock_batch(member, batch_id)
        if batch.status == ImportBatch.Status.IMPORTED:
            raise ImportNotDraft("This import has already been imported; delete the clients from the Imported tab.")
        if batch.status == ImportBatch.Status.DRAFT:
            batch.status = ImportBatch.Status.DISCARDED
            batch.rows = []  # nothing to keep: the rows were never imported
            batch.save(update_fields=["status", "rows"])
        return batch


IMPORT_DRAFT_DAYS = 7


def import_drafts_discard_stale(*, now: datetime | None = None) -> int:
    """Periodic: previews left unimported for a week are discarded and their rows (personal data from the
    uploaded file) erased. Returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=IMPORT_DRAFT_DAYS)
    with transaction.atomic():
        stale = list(
            ImportBatch.objects.select_for_update(skip_locked=True)
            .filter(status=ImportBatch.Status.DRAFT, created_at__lt=cutoff)
            .values_list("pk", flat=True)[:1000]
        )
        ImportBatch.objects.filter(pk__in=stale).update(status=ImportBatch.Status.DISCARDED, rows=[])
    return len(stale)


@dataclass(frozen=True)
class ImportResult:
    batch: ImportBatch
    imported: int
    skipped: int
    already_imported: bool = False


def _unused(column: str, make: Any, count: int) -> list[str]:
    """``count`` fresh random values of a unique Company column, none already taken (checked in bulk)."""
    chosen: set[str] = set()
    while len(chosen) < count:
        candidates = {make() for _ in range(count - len(chosen))} - chosen
        ordered = sorted(candidates)
        taken: set[str] = set()
        for start in range(0, len(ordered), LOOKUP_CHUNK):
            chunk = ordered[start : start + LOOKUP_CHUNK]
            taken.update(Company.objects.filter(**{f"{column}__in": chunk}).values_list(column, flat=True))
        chosen |= candidates - taken
    return list(chosen)


def import_commit(*, member: PracticeMember, batch_id: int, request: HttpRequest | None = None) -> ImportResult:
    """Import the rows that are ready (no problems, not dropped) onto the Imported tab: one transaction,
    set-based (bulk inserts of companies, clients and audit events). Importing the same batch again does
    nothing. Rows are re-validated first, so a client added since the preview is not imported twice."""
    for attempt in range(3):
        try:
            return _import_commit(member=member, batch_id=batch_id, request=request)
        except IntegrityError:
            # A company created meanwhile took one of the numbers: try again with fresh numbers.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _import_commit(*, member: PracticeMember, batch_id: int, request: HttpRequest | None) -> ImportResult:
    with transaction.atomic():
        batch = _lock_batch(member, batch_id)
        if batch.status == ImportBatch.Status.IMPORTED:
            return ImportResult(batch=batch, imported=0, skipped=0, already_imported=True)
        if batch.status != ImportBatch.Status.DRAFT:
            raise ImportNotDraft()
        # One addition at a time per practice (as Add client): two batches of the same file committed at the same
        # moment must not both import every row. The second sees the first's clients as duplicates.
        lock_practice(member.practice_id)
        batch.rows = imports.validate_rows(batch.rows, _existing(member))
        ready = [row["values"] for row in batch.rows if imports.is_ready(row)]
        now = timezone.now()
        customer_numbers = _unused("customer_number", _new_customer_number, len(ready))
        registration_ids = _unused("registration_id", _new_registration_id, len(ready))
        companies = Company.objects.bulk_create(
            [
                Company(
                    business_name=values["business_name"],
                    owner_email=values["email"],
                    customer_number=customer_number,
                    registration_id=registration_id,
                    created_at=now,
                )
                for values, customer_number, registration_id in zip(
                    ready, customer_numbers, registration_ids, strict=True
                )
            ],
            batch_size=INSERT_BATCH,
        )
        company_ids = _ids(companies, Company, "customer_number", customer_numbers)
        clients = Client.objects.bulk_create(
            [
                Client(
                    practice_id=member.practice_id,
                    company_id=company_id,
                    tab=Client.Tab.IMPORTED,
                    access=Client.Access.NONE,
                    payer=Client.Payer.ACCOUNTANT,
                    created_at=now,
                    updated_at=now,
                    **{name: values[name] for name in imports.FIELDS},
                )
                for values, company_id in zip(ready, company_ids, strict=True)
            ],
            batch_size=INSERT_BATCH,
        )
        client_ids = _client_ids(clients, member, company_ids)
        ip = client_ip(request)
        Event.objects.bulk_create(
            [
                Event(
                    at=now,
                    action=Action.CLIENT_IMPORT,
                    actor=member.user,
                    actor_email=member.user.email,
                    ip=ip,
                    practice_id=member.practice_id,
                    company_id=company_id,
                    client_id=client_id,
                    data={"business_name": values["business_name"], "import": batch.pk},
                )
                for values, company_id, client_id in zip(ready, company_ids, client_ids, strict=True)
            ],
            batch_size=INSERT_BATCH,
        )
        skipped = len(batch.rows) - len(ready)
        record_event(
            action=Action.IMPORT_COMMIT,
            actor=member.user,
            request=request,
            practice=member.practice,
            data={"import": batch.pk, "filename": batch.filename, "imported": len(ready), "skipped": skipped},
        )
        batch.status = ImportBatch.Status.IMPORTED
        batch.imported_count = len(ready)
        batch.imported_at = now
        batch.save(update_fields=["rows", "status", "imported_count", "imported_at"])
        return ImportResult(batch=batch, imported=len(ready), skipped=skipped)


def _ids(objs: list[Company], model: type[Company], key: str, keys: list[str]) -> list[int]:
    """Primary keys in the order of ``keys`` (bulk_create returns them on PostgreSQL and SQLite >= 3.35;
    otherwise they are read back by the unique key)."""
    if all(obj.pk is not None for obj in objs):
        return [obj.pk for obj in objs]
    by_key: dict[str, int] = {}
    for start in range(0, len(keys), LOOKUP_CHUNK):
        chunk = keys[start : start + LOOKUP_CHUNK]
        by_key.update(model.objects.filter(**{f"{key}__in": chunk}).values_list(key, "pk"))
    return [by_key[k] for k in keys]


def _client_ids(clients: list[Client], member: PracticeMember, company_ids: list[int]) -> list[int]:
    if all(client.pk is not None for client in clients):
        return [client.pk for client in clients]
    by_company: dict[int, int] = {}
    for start in range(0, len(company_ids), LOOKUP_CHUNK):
        chunk = company_ids[start : start + LOOKUP_CHUNK]
        by_company.update(
            Client.objects.filter(practice_id=member.practice_id, company_id__in=chunk).values_list("company_id", "pk")
        )
    return [by_company[c] for c in company_ids]


def recent_imports(*, member: PracticeMember, limit: int = 10) -> list[ImportBatch]:
    _require_importer(member)
    return list(
        ImportBatch.objects.filter(practice_id=member.practice_id).defer("rows").order_by("-created_at", "-id")[:limit]
    )
