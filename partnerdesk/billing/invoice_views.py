"""Invoice pages: a practice's invoices (its admins only) and a company's own invoices (its owner only): list,
detail with the per-client breakdown, CSV export (streamed, one row per line) and a printable page. Another
tenant's invoice is a 404."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse

from partnerdesk.billing.invoice_pdf import PDF_MAX_LINES, PdfUnavailable, invoice_pdf
from partnerdesk.billing.invoicing import (
    VAT_RATE_PERCENT,
    invoice_breakdown,
    invoice_csv,
    invoice_for_account,
    invoice_lines,
    invoices_for_account,
    next_month,
)
from partnerdesk.billing.models import DirectDebitMandate, Invoice
from partnerdesk.identity import selectors as identity_selectors
from partnerdesk.identity.disabled import company_disabled_page
from partnerdesk.identity.models import Company, CompanyMembership, User
from partnerdesk.lib.errors import NotFound
from partnerdesk.practice.models import PracticeMember
from partnerdesk.practice.permissions import practice_admin_page

INVOICES_PER_PAGE = 24
logger = logging.getLogger(__name__)


def _admin(request: HttpRequest) -> PracticeMember:
    """The signed-in practice admin; the practice's staff get the 403 page, everyone else a 404 (invoices are the
    admins' business)."""
    return practice_admin_page(request, page="its invoices")


def _owner(request: HttpRequest, customer_number: str) -> CompanyMembership | HttpResponse:
    """The owner's membership of the company (the same rule as the portal's other owner pages): others get a 404,
    and a company whose access its accountant disabled gets the clear 'access disabled' page."""
    user = request.user
    assert isinstance(user, User)  # @login_required
    try:
        membership = identity_selectors.membership_for_company(user=user, customer_number=customer_number)
    except NotFound:
        raise Http404("No such company") from None
    if identity_selectors.is_access_disabled(membership):
        return company_disabled_page(request, membership)
    if membership.role != CompanyMembership.Role.OWNER:
        raise Http404("No such page")
    return membership


def _invoice(account: Company, number: str) -> Invoice:
    try:
        return invoice_for_account(account=account, number=number)
    except NotFound:
        raise Http404("No such invoice") from None


def _csv_response(invoice: Invoice) -> StreamingHttpResponse:
    lines = invoice_lines(invoice=invoice).iterator(chunk_size=2000)
    response = StreamingHttpResponse(invoice_csv(invoice, lines), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{invoice.number}.csv"'
    return response


def supplier() -> dict[str, Any]:
    """Who issues every invoice (a UK VAT invoice names the supplier, its address and VAT registration number)."""
    return {
        "name": settings.INVOICE_SUPPLIER_NAME,
        "address": settings.INVOICE_SUPPLIER_ADDRESS,
        "vat_number": settings.INVOICE_SUPPLIER_VAT_NUMBER,
    }


def _detail_context(invoice: Invoice) -> dict[str, Any]:
    groups = invoice_breakdown(invoice=invoice)
    line_count = sum(len(g.rows) for g in groups)
    return {
        "invoice": invoice,
        "period_last_day": next_month(invoice.period) - dt.timedelta(days=1),
        "groups": groups,
        "line_count": line_count,
        "prorated_count": sum(1 for g in groups for row in g.rows if row.line.prorated),
        "pdf_available": line_count <= PDF_MAX_LINES,
        "supplier": supplier(),
        "vat_rate": VAT_RATE_PERCENT,
        # How this invoice is paid: by the billing account's Direct Debit, if it has one.
        "mandate": DirectDebitMandate.objects.filter(
            company_id=invoice.account_id, status=DirectDebitMandate.Status.ACTIVE
        ).first(),
    }


def _pdf_response(request: HttpRequest, context: dict[str, Any], detail_url: str) -> HttpResponse:
    """The printable invoice as a PDF download; a very large invoice goes back to its page with a message."""
    invoice: Invoice = context["invoice"]
    if not context["pdf_available"]:
        messages.error(
            request,
            f"Invoice {invoice.number} has {context['line_count']} lines: too many for a PDF. "
            "Use Export CSV, or the printable invoice and your browser's Print command.",
        )
        return redirect(detail_url)
    try:
        pdf = invoice_pdf(context)
    except PdfUnavailable:
        logger.exception("invoice PDF unavailable")
        messages.error(
            request, "PDFs cannot be made at the moment. Use the printable invoice and your browser's Print command."
        )
        return redirect(detail_url)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice.number}.pdf"'
    return response


# ---- practice (admins)


@login_required
def practice_invoice_list(request: HttpRequest) -> HttpResponse:
    member = _admin(request)
    page = Paginator(invoices_for_account(account=member.practice.company), INVOICES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "billing/invoice_list.html",
        {"member": member, "page": page, "account": member.practice.company, "scope": "practice"},
    )


@login_required
def practice_invoice_detail(request: HttpRequest, number: str) -> HttpResponse:
    member = _admin(request)
    invoice = _invoice(member.practice.company, number)
    context = {"member": member, "scope": "practice", **_detail_context(invoice)}
    return render(request, "billing/invoice_detail.html", context)


@login_required
def practice_invoice_print(request: HttpRequest, number: str) -> HttpResponse:
    member = _admin(request)
    invoice = _invoice(member.practice.company, number)
    return render(request, "billing/invoice_print.html", {"scope": "practice", **_detail_context(invoice)})


@login_required
def practice_invoice_pdf(request: HttpRequest, number: str) -> HttpResponse:
    member = _admin(request)
    invoice = _invoice(member.practice.company, number)
    return _pdf_response(
        request,
        {"scope": "practice", **_detail_context(invoice)},
        reverse("invoices:practice_detail", args=[invoice.number]),
    )


@login_required
def practice_invoice_export(request: HttpRequest, number: str) -> StreamingHttpResponse:
    member = _admin(request)
    return _csv_response(_invoice(member.practice.company, number))


# ---- company (owner)


@login_required
def company_invoice_list(request: HttpRequest, customer_number: str) -> HttpResponse:
    """Portal > a company > Invoices (URL name identity:company_invoices)."""
    membership = _owner(request, customer_number)
    if isinstance(membership, HttpResponse):
        return membership
    company = membership.company
    page = Paginator(invoices_for_account(account=company), INVOICES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "identity/company_invoices.html",
        {
            "membership": membership,
            "company": company,
            "is_owner": True,
            "page": page,
            "account": company,
            "scope": "company",
        },
    )


@login_required
def company_invoice_detail(request: HttpRequest, customer_number: str, number: str) -> HttpResponse:
    membership = _owner(request, customer_number)
    if isinstance(membership, HttpResponse):
        return membership
    invoice = _invoice(membership.company, number)
    context = {
        "membership": membership,
        "company": membership.company,
        "is_owner": True,
        "scope": "company",
        **_detail_context(invoice),
    }
    return render(request, "billing/invoice_detail.html", context)


@login_required
def company_invoice_print(request: HttpRequest, customer_number: str, number: str) -> HttpResponse:
    membership = _owner(request, customer_number)
    if isinstance(membership, HttpResponse):
        return membership
    invoice = _invoice(membership.company, number)
    return render(
        request,
        "billing/invoice_print.html",
        {"scope": "company", "company": membership.company, **_detail_context(invoice)},
    )


@login_required
def company_invoice_pdf(request: HttpRequest, customer_number: str, number: str) -> HttpResponse:
    membership = _owner(request, customer_number)
    if isinstance(membership, HttpResponse):
        return membership
    company = membership.company
    invoice = _invoice(company, number)
    return _pdf_response(
        request,
        {"scope": "company", "company": company, **_detail_context(invoice)},
        reverse("invoices:company_detail", args=[company.customer_number, invoice.number]),
    )


@login_required
def company_invoice_export(request: HttpRequest, customer_number: str, number: str) -> HttpResponseBase:
    membership = _owner(request, customer_number)
    if isinstance(membership, HttpResponse):
        return membership
    return _csv_response(_invoice(membership.company, number))
