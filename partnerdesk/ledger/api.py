"""JSON API for a company's bookkeeping entries: list (newest first, in pages) and add. Reachable by the company's
own people and by the managing practice's members (``practice.access``); anyone else gets a 404."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema, Status

from partnerdesk.api.auth import api_user
from partnerdesk.api.pagination import page_field, pages_field, paginate
from partnerdesk.api.schemas import problems
from partnerdesk.identity.models import Company
from partnerdesk.ledger import services, values
from partnerdesk.ledger.selectors import entries_for_company
from partnerdesk.practice.access import company_for_user

router = Router(tags=["ledger"])
ERRORS = problems(400, 401, 403, 404, 409, 422)
PAGE_SIZE = 50
CustomerNumber = Annotated[str, Path(pattern=r"^[0-9]{8}$", description="The company's 8-digit customer number")]


class EntryOut(Schema):
    id: int
    date: dt.date
    description: str
    amount: Decimal = Field(description="GBP; positive is income, negative an expense")
    created_at: dt.datetime


class EntryPage(Schema):
    count: int
    page: int = page_field()
    pages: int = pages_field()
    results: list[EntryOut]


class PageQuery(Schema):
    page: int = Field(1, ge=1, le=1_000_000)


class EntryIn(Schema):
    date: dt.date = Field(ge=values.MIN_DATE, le=values.MAX_DATE)
    description: str = Field(min_length=1, max_length=values.MAX_DESCRIPTION)
    amount: Decimal = Field(
        max_digits=12, decimal_places=2, description="GBP; positive is income, negative an expense; not zero"
    )


def _company(request: HttpRequest, customer_number: str) -> Company:
    company, _ = company_for_user(user=api_user(request), customer_number=customer_number)
    return company


@router.get("/companies/{customer_number}/ledger", response={200: EntryPage, **ERRORS}, summary="Bookkeeping entries")
def entry_list(request: HttpRequest, customer_number: CustomerNumber, query: Query[PageQuery]) -> Any:
    page = paginate(
        entries_for_company(company=_company(request, customer_number)), page=query.page, per_page=PAGE_SIZE
    )
    return {"count": page.count, "page": page.page, "pages": page.pages, "results": page.items}


@router.post(
    "/companies/{customer_number}/ledger", response={201: EntryOut, **ERRORS}, summary="Add a bookkeeping entry"
)
def entry_add(request: HttpRequest, customer_number: CustomerNumber, payload: EntryIn) -> Any:
    entry = services.entry_add(
        user=api_user(request),
        company=_company(request, customer_number),
        date=payload.date,
        description=payload.description,
        amount=payload.amount,
        request=request,
    )
    return Status(201, entry)
