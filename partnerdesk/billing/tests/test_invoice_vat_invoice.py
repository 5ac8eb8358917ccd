"""An invoice is a valid UK VAT invoice: the supplier's name, address and VAT registration number, the invoice
number and date (the tax point), the VAT rate, on the page, the printable page and the PDF (numbered "Page X of Y")."""

from __future__ import annotations

import datetime as dt

import pytest

from partnerdesk.billing.checks import supplier_details
from partnerdesk.billing.invoicing import invoice_run
from partnerdesk.billing.models import Invoice, Service
from partnerdesk.billing.tests.conftest import NOV
from partnerdesk.billing.tests.invoice_factories import accountant_pays, make_company, subscribe
from partnerdesk.billing.tests.test_invoice_pdf import _pages_text
from partnerdesk.billing.tests.test_invoice_views import _as

pytestmark = pytest.mark.django_db

SUPPLIER = ("Partnerdesk Trading Ltd", ["7 Supplier Row", "Leeds", "LS1 4AP"], "GB 123 4567 89")


@pytest.fixture
def supplier(settings):
    name, address, vat_number = SUPPLIER
    settings.INVOICE_SUPPLIER_NAME = name
    settings.INVOICE_SUPPLIER_ADDRESS = address
    settings.INVOICE_SUPPLIER_VAT_NUMBER = vat_number


def _expected(invoice: Invoice, *, html: bool = False) -> list[str]:
    name, address, vat_number = SUPPLIER
    return [
        name,
        *address,
        f'VAT registration number <span class="vat-number">{vat_number}</span>'
        if html
        else f"VAT registration number {vat_number}",
        "Invoice date (tax point)",
        f"{invoice.issued_at:%-d %B %Y}",
        invoice.number,
        "VAT at 20% (standard rate)",
        "Every service is standard-rated for VAT (20%).",
    ]


def test_the_page_and_printable_page_give_what_a_uk_vat_invoice_needs(billed, supplier):
    invoice, own_invoice = billed["practice_invoice"], billed["own_invoice"]
    admin, owner = _as(billed["admin"]), _as(billed["owner"])
    pages = [
        (admin, f"/partner/invoices/{invoice.number}/", invoice),
        (admin, f"/partner/invoices/{invoice.number}/print/", invoice),
        (owner, f"/companies/{billed['own'].customer_number}/invoices/{own_invoice.number}/", own_invoice),
        (owner, f"/companies/{billed['own'].customer_number}/invoices/{own_invoice.number}/print/", own_invoice),
    ]
    for client, path, shown in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        body = response.content.decode()
        for text in _expected(shown, html=True):
            assert text in body, (path, text)


def test_the_pdf_gives_them_and_numbers_its_pages(billed, supplier):
    accounting = Service.objects.get(code="inv-accounting")
    practice = billed["practice"]
    for i in range(45):
        company = make_company(f"Client {i:02d} Ltd")
        subscribe(company, accounting, dt.date(2026, 1, 1))
        accountant_pays(company, practice)
    Invoice.objects.filter(account=practice.company).delete()
    invoice_run(period=NOV)
    invoice = Invoice.objects.get(account=practice.company)

    pages = _pages_text(invoice)

    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
    for text in _expected(invoice):
        assert text in pages[0] or text in " ".join(pages), text


def test_the_system_check_wants_every_supplier_detail(settings, supplier):
    assert supplier_details() == []
    settings.INVOICE_SUPPLIER_ADDRESS = []
    settings.INVOICE_SUPPLIER_VAT_NUMBER = ""
    (error,) = supplier_details()
    assert error.id == "billing.E001"
    assert "INVOICE_SUPPLIER_ADDRESS, INVOICE_SUPPLIER_VAT_NUMBER not set" in error.msg
