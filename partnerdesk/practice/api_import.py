"""JSON API for CSV import, in two steps: upload -> preview batch (fix or drop rows) -> commit.
Another practice's batch is a 404."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import StrictBool

from partnerdesk.api.auth import api_user
from partnerdesk.api.pagination import page_field, pages_field, paginate
from partnerdesk.api.schemas import PathId, problems
from partnerdesk.practice import import_services, imports
from partnerdesk.practice.models import ImportBatch, PracticeMember
from partnerdesk.practice.selectors import member_for_user

router = Router(tags=["practice import"])
ERRORS = problems(400, 401, 404, 409, 413, 422)
ROWS_PER_PAGE = 1000


class ProblemOut(Schema):
    field: str
    code: str
    message: str


class RowValues(Schema):
    business_name: str = ""
    contact_name: str = ""
    email: str = ""
    phone: str = ""
    address: str = ""
    postcode: str = ""
    vat_number: str = ""
    company_number: str = ""


class RowOut(Schema):
    index: int
    values: RowValues
    problems: list[ProblemOut]
    dropped: bool
    ready: bool


class Counts(Schema):
    total: int
    ready: int
    problems: int
    dropped: int


class BatchOut(Schema):
    id: int
    filename: str
    status: Literal["draft", "imported", "discarded"]
    created_at: datetime
    imported_at: datetime | None
    imported_count: int
    ignored_columns: list[str]
    counts: Counts
    page: int = page_field()
    pages: int = pages_field()
    rows: list[RowOut]


class RowsQuery(Schema):
    show: Literal["all", "problems", "ready", "dropped"] = "all"
    page: int = Field(1, ge=1, le=1_000_000)


class ValuesPatch(Schema):
    business_name: str | None = Field(None, max_length=1000)
    contact_name: str | None = Field(None, max_length=1000)
    email: str | None = Field(None, max_length=1000)
    phone: str | None = Field(None, max_length=1000)
    address: str | None = Field(None, max_length=5000)
    postcode: str | None = Field(None, max_length=1000)
    vat_number: str | None = Field(None, max_length=1000)
    company_number: str | None = Field(None, max_length=1000)


class RowPatch(Schema):
    values: ValuesPatch | None = Field(None, description="Only the values given change; the row is re-validated")
    dropped: StrictBool | None = Field(None, description="Drop the row from the import, or bring it back")


class CommitOut(Schema):
    imported: int = Field(description="Clients imported by this request (0 when the batch was already imported)")
    skipped: int = Field(description="Rows not imported: dropped or with problems")
    already_imported: bool
    batch: BatchOut


def _member(request: HttpRequest) -> PracticeMember:
    return member_for_user(user=api_user(request))


def _row_out(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "ready": imports.is_ready(row)}


def _batch_out(batch: ImportBatch, show: str = "all", page: int = 1) -> dict[str, Any]:
    rows = batch.rows
    if show == "problems":
        rows = [r for r in rows if r["problems"] and not r["dropped"]]
    elif show == "ready":
        rows = [r for r in rows if imports.is_ready(r)]
    elif show == "dropped":
        rows = [r for r in rows if r["dropped"]]
    found = paginate(rows, page=page, per_page=ROWS_PER_PAGE)
    return {
        "id": batch.pk,
        "filename": batch.filename,
        "status": batch.status,
        "created_at": batch.created_at,
        "imported_at": batch.imported_at,
        "imported_count": batch.imported_count,
        "ignored_columns": batch.ignored_columns,
        "counts": imports.counts(batch.rows).__dict__,
        "page": found.page,
        "pages": found.pages,
        "rows": [_row_out(r) for r in found.items],
    }


@router.post(
    "/practice/imports",
    response={201: BatchOut, **ERRORS},
    summary="Upload a CSV file (multipart, field 'file'): returns the preview with each row's problems",
)
def import_upload(request: HttpRequest, file: File[UploadedFile]) -> Any:
    member = _member(request)
    imports.check_upload(name=file.name or "", size=file.size, content_type=file.content_type or "")
    batch = import_services.import_preview_create(member=member, filename=file.name or "", data=file.read())
    return Status(201, _batch_out(batch))


@router.get("/practice/imports/{int:batch_id}", response={200: BatchOut, **ERRORS}, summary="An import's preview")
def import_detail(request: HttpRequest, batch_id: PathId, query: Query[RowsQuery]) -> Any:
    batch = import_services.import_batch_for_member(member=_member(request), batch_id=batch_id)
    return _batch_out(batch, query.show, query.page)


@router.patch(
    "/practice/imports/{int:batch_id}/rows/{int:row_index}",
    response={200: RowOut, **ERRORS},
    summary="Fix a row's values, or drop it (or bring it back)",
)
def import_row_update(request: HttpRequest, batch_id: PathId, row_index: PathId, payload: RowPatch) -> Any:
    member = _member(request)
    import_services.import_batch_for_member(member=member, batch_id=batch_id)
    values = None if payload.values is None else payload.values.model_dump(exclude_none=True)
    row = import_services.import_row_update(
        member=member, batch_id=batch_id, index=row_index, values=values, dropped=payload.dropped
    )
    return _row_out(row)


@router.post(
    "/practice/imports/{int:batch_id}/commit",
    response={200: CommitOut, **ERRORS},
    summary="Import the rows that are ready onto the Imported tab (again: does nothing)",
)
def import_commit(request: HttpRequest, batch_id: PathId) -> Any:
    result = import_services.import_commit(member=_member(request), batch_id=batch_id, request=request)
    return {
        "imported": result.imported,
        "skipped": result.skipped,
        "already_imported": result.already_imported,
        "batch": _batch_out(result.batch),
    }


@router.delete(
    "/practice/imports/{int:batch_id}", response={204: None, **ERRORS}, summary="Discard an import's preview"
)
def import_discard(request: HttpRequest, batch_id: PathId) -> Any:
    import_services.import_discard(member=_member(request), batch_id=batch_id)
    return Status(204, None)
