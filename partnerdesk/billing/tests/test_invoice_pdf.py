"""The invoice as a PDF (WeasyPrint, the printable page and its print stylesheet): for the practice's admins and
the company's owner only; WeasyPrint fetches nothing but our own stylesheets; a very large invoice is sent back
to its page with a message instead of holding a worker."""

from __future__ import annotations

import datetime as dt
import re
import zlib

import pytest

from partnerdesk.billing import invoice_views
from partnerdesk.billing.invoice_pdf import _fetcher, invoice_document
from partnerdesk.billing.invoicing import invoice_run
from partnerdesk.billing.models import Invoice, Service
from partnerdesk.billing.tests.conftest import NOV
from partnerdesk.billing.tests.invoice_factories import accountant_pays, make_company, subscribe
from partnerdesk.billing.tests.test_invoice_views import _as
from partnerdesk.identity.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _pdf_text(data: bytes) -> bytes:
    """The PDF's bytes with its compressed streams inflated (outline titles, page counts, fonts)."""
    inflated = []
    for match in re.finditer(rb"stream\r?\n", data):
        try:
            inflated.append(zlib.decompressobj().decompress(data[match.end() : match.end() + 500_000]))
        except zlib.error:
            continue
    return data + b"".join(inflated)


def test_practice_admin_downloads_the_invoice_as_a_pdf(billed):
    invoice = billed["practice_invoice"]
    admin = _as(billed["admin"])
    page = admin.get(f"/partner/invoices/{invoice.number}/").content.decode()
    assert f'href="/partner/invoices/{invoice.number}/invoice.pdf" download>Download PDF</a>' in page

    response = admin.get(f"/partner/invoices/{invoice.number}/invoice.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{invoice.number}.pdf"'
    assert response.content.startswith(b"%PDF-")
    text = _pdf_text(response.content)
    # The headings become the PDF's outline: the invoice and its per-client breakdown are in it.
    assert f"/Title (Invoice {invoice.number})".encode() in text
    assert b"/Title (Breakdown by client)" in text
    assert re.search(rb"/Type /Pages[^>]*/Count [1-9]|/Count [1-9]\d*[^>]*/Type /Pages", text)
    assert b"/BaseFont" in text  # text was laid out with a font


def test_owner_downloads_the_company_invoice_and_others_get_404(billed):
    own, invoice = billed["own"], billed["own_invoice"]
    path = f"/companies/{own.customer_number}/invoices/{invoice.number}/invoice.pdf"
    response = _as(billed["owner"]).get(path)
    assert (response.status_code, response["Content-Type"]) == (200, "application/pdf")
    assert f"/Title (Invoice {invoice.number})".encode() in _pdf_text(response.content)
    for user in (billed["user"], billed["other_owner"], UserFactory.create()):
        assert _as(user).get(path).status_code == 404
    practice_path = f"/partner/invoices/{billed['practice_invoice'].number}/invoice.pdf"
    for user in (billed["other_admin"], billed["owner"]):
        assert _as(user).get(practice_path).status_code == 404
    assert _as(billed["staff"]).get(practice_path).status_code == 403  # the practice's own: for its admins
    assert _as(billed["admin"]).get("/partner/invoices/INV-000000-00000000/invoice.pdf").status_code == 404


def test_a_very_large_invoice_is_not_rendered_as_a_pdf(billed, monkeypatch):
    monkeypatch.setattr(invoice_views, "PDF_MAX_LINES", 1)
    invoice = billed["practice_invoice"]
    admin = _as(billed["admin"])
    assert "Download PDF" not in admin.get(f"/partner/invoices/{invoice.number}/").content.decode()
    response = admin.get(f"/partner/invoices/{invoice.number}/invoice.pdf", follow=True)
    assert response.redirect_chain == [(f"/partner/invoices/{invoice.number}/", 302)]
    assert "lines: too many for a PDF. Use Export CSV" in response.content.decode()


def test_weasyprint_fetches_only_our_stylesheets():
    fetcher = _fetcher()
    css = fetcher.fetch("https://partnerdesk.invalid/static/css/invoice.css")
    assert b"@media print" in css.read()
    for url in (
        "https://example.com/static/css/invoice.css",
        "http://127.0.0.1:8000/static/css/invoice.css",
        "file:///etc/passwd",
        "https://partnerdesk.invalid/static/../partnerdesk/settings.py",
        "https://partnerdesk.invalid/static/css/missing.css",
        "https://partnerdesk.invalid/media/anything.css",
        "https://partnerdesk.invalid/static/js/htmx.min.js",
        "data:text/css,body{}",
    ):
        with pytest.raises(ValueError, match="not fetched"):
            fetcher.fetch(url)


def test_without_weasyprint_the_pdf_link_explains_instead_of_failing(billed, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pango(name, *args, **kwargs):
        if name == "weasyprint":
            raise OSError("cannot load library 'libpango-1.0-0'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pango)
    invoice = billed["practice_invoice"]
    response = _as(billed["admin"]).get(f"/partner/invoices/{invoice.number}/invoice.pdf", follow=True)
    assert response.redirect_chain == [(f"/partner/invoices/{invoice.number}/", 302)]
    assert "PDFs cannot be made at the moment" in response.content.decode()


def _pages_text(invoice, **scope) -> list[str]:
    """Each PDF page's text, in reading order, as WeasyPrint laid it out (what the PDF shows)."""
    from weasyprint.formatting_structure import boxes  # type: ignore[import-untyped]

    def texts(box):
        if isinstance(box, boxes.TextBox):
            yield box.text
        for child in getattr(box, "children", ()):
            yield from texts(child)

    document = invoice_document({"scope": "practice", **scope, **invoice_views._detail_context(invoice)})
    return [" ".join(" ".join(texts(page._page_box)).split()) for page in document.pages]


def test_a_long_invoice_gives_its_totals_once_after_the_last_line(billed):
    """The totals are the invoice's, not a page's: once, after the last line (a page may repeat the column
    headers); no stray caption."""
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
    whole = " ".join(pages)
    for label in ("Subtotal (RRP)", "Practice discount", "VAT at 20%", "Total due"):
        assert whole.count(label) == 1, label
    last = pages[-1]
    assert last.index("Subtotal for Client 44 Ltd") < last.index("Total due £")
    assert all("Total due" not in page for page in pages[:-1])
    assert all(page.count("Monthly price") == 1 for page in pages)  # column headers on every page
    assert "Invoice lines" not in whole

    own = billed["own_invoice"]
    company_pages = _pages_text(own, scope="company", company=billed["own"])
    assert "Invoice lines" not in " ".join(company_pages)
    assert company_pages[-1].count("Total due") == 1
