"""JSON API for invoices: a practice's (its admins only) and a company's own (its owner only), each with its lines.
Another tenant's invoice is a 404."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from partnerdesk.api.auth import api_user
from partnerdesk.api.pagination import page_field, pages_field, paginate
from partnerdesk.api.schemas import problems
from partnerdesk.billing.invoicing import invoice_for_account, invoice_lines, invoices_for_account
from partnerdesk.billing.models import Invoice
from partnerdesk.identity import selectors as identity_selectors
from partnerdesk.identity.models import Company, CompanyMembership
from partnerdesk.lib.errors import PermissionDenied
from partnerdesk.practice.permissions import practice_admin

router = Router(tags=["invoices"])
ERRORS = problems(400, 401, 403, 404, 422)
PAGE_SIZE = 50


class InvoiceOut(Schema):
    number: str
    kind: str = Field(description="'practice' (a practice's clients) or 'company' (a client-paying company)")
    customer_number: str = Field(description="The billed account's Customer Number")
    billed_to_name: str = Field(
        description="Whom the invoice is billed to, as issued: the practice's name, or the company's business name. "
        "A later rename does not change an issued invoice."
    )
    period: date = Field(description="First day of the invoiced month")
    issued_at: datetime
    subtotal: Decimal
    discount_total: Decimal
    net_total: Decimal
    vat_total: Decimal
    total: Decimal


class InvoiceLineOut(Schema):
    customer_number: str = Field(description="The client company's Customer Number")
    business_name: str = Field(description="The client company's business name, as on the day the invoice was issued")
    service: str = Field(alias="service.code")
    service_name: str = Field(alias="service.name")
    payer: str
    starts_on: date = Field(description="First billed day")
    ends_on: date = Field(description="First day after the billed days (exclusive)")
    days_active: int
    days_in_period: int
    prorated: bool
    monthly_rrp: Decimal
    amount: Decimal
    discount_rate: Decimal
    discount: Decimal
    net: Decimal


class InvoiceDetailOut(InvoiceOut):
    lines: list[InvoiceLineOut]


class InvoicePage(Schema):
    count: int
    page: int = page_field()
    pages: int = pages_field()
    results: list[InvoiceOut]


class PageIn(Schema):
    page: int = Field(1, ge=1, le=1_000_000)


def _practice_account(request: HttpRequest) -> Company:
    return practice_admin(user=api_user(request), page="its invoices").practice.company


def _company_account(request: HttpRequest, customer_number: str) -> Company:
    membership = identity_selectors.membership_for_company(user=api_user(request), customer_number=customer_number)
    if identity_selectors.is_access_disabled(membership):
        raise identity_selectors.CompanyAccessDisabled(identity_selectors.CompanyAccessDisabled.default_message)
    if membership.role != CompanyMembership.Role.OWNER:
        raise PermissionDenied("Only the Subscription Owner can see the company's invoices.")
    return membership.company


def _page(account: Company, page: int) -> dict[str, Any]:
    found = paginate(invoices_for_account(account=account), page=page, per_page=PAGE_SIZE)
    return {"count": found.count, "page": found.page, "pages": found.pages, "results": found.items}


def _detail(invoice: Invoice) -> dict[str, Any]:
    return {**InvoiceOut.model_validate(invoice).model_dump(), "lines": list(invoice_lines(invoice=invoice))}


@router.get("/practice/invoices", response={200: InvoicePage, **ERRORS}, summary="Your practice's invoices (admins)")
def practice_invoice_list(request: HttpRequest, params: Query[PageIn]) -> Any:
    return _page(_practice_account(request), params.page)


@router.get(
    "/practice/invoices/{number}",
    response={200: InvoiceDetailOut, **ERRORS},
    summary="One practice invoice with its lines (admins)",
)
def practice_invoice_detail(request: HttpRequest, number: str) -> Any:
    return _detail(invoice_for_account(account=_practice_account(request), number=number))


@router.get(
    "/companies/{customer_number}/invoices",
    response={200: InvoicePage, **ERRORS},
    summary="A company's own invoices (owner only)",
)
def company_invoice_list(request: HttpRequest, customer_number: str, params: Query[PageIn]) -> Any:
    return _page(_company_account(request, customer_number), params.page)


@router.get(
    "/companies/{customer_number}/invoices/{number}",
    response={200: InvoiceDetailOut, **ERRORS},
    summary="One of a company's invoices with its lines (owner only)",
)
def company_invoice_detail(request: HttpRequest, customer_number: str, number: str) -> Any:
    return _detail(invoice_for_account(account=_company_account(request, customer_number), number=number))
