"""The invoice as a PDF (WeasyPrint, the printable page and its print stylesheet): for the practice's admins and
the company's owner only; WeasyPrint fetches nothing but our own stylesheets; a very large invoice is sent back
to its page with a message instead of holding a worker."""

from __future__ import annotations

import re
import zlib

import pytest

from partnerdesk.billing import invoice_views
from partnerdesk.billing.invoice_pdf import _fetcher
from partnerdesk.billing.tests.test_invoice_views import _as, billed  # noqa: F401 (the fixture)
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


def test_practice_admin_downloads_the_invoice_as_a_pdf(billed):  # noqa: F811
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


def test_owner_downloads_the_company_invoice_and_others_get_404(billed):  # noqa: F811
    own, invoice = billed["own"], billed["own_invoice"]
    path = f"/companies/{own.customer_number}/invoices/{invoice.number}/invoice.pdf"
    response = _as(billed["owner"]).get(path)
    assert (response.status_code, response["Content-Type"]) == (200, "application/pdf")
    assert f"/Title (Invoice {invoice.number})".encode() in _pdf_text(response.content)
    for user in (billed["user"], billed["other_owner"], UserFactory.create()):
        assert _as(user).get(path).status_code == 404
    practice_path = f"/partner/invoices/{billed['practice_invoice'].number}/invoice.pdf"
    for user in (billed["staff"], billed["other_admin"], billed["owner"]):
        assert _as(user).get(practice_path).status_code == 404
    assert _as(billed["admin"]).get("/partner/invoices/INV-000000-00000000/invoice.pdf").status_code == 404


def test_a_very_large_invoice_is_not_rendered_as_a_pdf(billed, monkeypatch):  # noqa: F811
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


def test_without_weasyprint_the_pdf_link_explains_instead_of_failing(billed, monkeypatch):  # noqa: F811
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
