"""Invoice pages: practice admins see their practice's invoices with the per-client breakdown; owners see their
company's own; everyone else gets a 404. CSV export and the printable invoice."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.test import Client as HttpClient

from partnerdesk.billing.models import Invoice
from partnerdesk.billing.tests.invoice_factories import (
    make_company,
)
from partnerdesk.identity.models import CompanyMembership
from partnerdesk.identity.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _as(user):  # untyped: the test client's streaming responses are read as Any
    client = HttpClient()
    client.force_login(user)
    return client


def test_practice_admin_sees_the_list_and_the_breakdown_by_client(billed):
    invoice = billed["practice_invoice"]
    admin = _as(billed["admin"])
    listing = admin.get("/partner/invoices/").content.decode()
    assert invoice.number in listing
    assert billed["other_practice_invoice"].number not in listing

    body = admin.get(f"/partner/invoices/{invoice.number}/").content.decode()
    assert invoice.customer_number in body
    assert "Subtotal for Bakery Ltd" in body
    assert "Subtotal for =Joinery Ltd" in body
    assert "12 of 30 days" in body  # the 19th to the 30th
    assert "Prorated" in body
    assert "whole month" in body
    # Bakery: 30 + 10 = 40.00, less 20% = 32.00; Joinery: 12.00 + 4.00 = 16.00, less 3.20 = 12.80
    assert "£32.00" in body
    assert "£12.80" in body
    assert f"£{invoice.total}" in body
    assert invoice.total == (invoice.net_total * 6 / 5).quantize(invoice.total)


def test_practice_invoices_are_403_for_staff_and_404_for_other_practices_and_outsiders(billed):
    invoice = billed["practice_invoice"]
    for user, status in (
        (billed["staff"], 403),
        (billed["other_admin"], 404),
        (billed["owner"], 404),
        (UserFactory.create(), 404),
    ):
        client = _as(user)
        for path in (
            f"/partner/invoices/{invoice.number}/",
            f"/partner/invoices/{invoice.number}/export.csv",
            f"/partner/invoices/{invoice.number}/print/",
        ):
            assert client.get(path).status_code == status, (user, path)
    assert _as(billed["staff"]).get("/partner/invoices/").status_code == 403
    # an admin asking for another practice's invoice number
    other = billed["other_practice_invoice"]
    assert _as(billed["admin"]).get(f"/partner/invoices/{other.number}/").status_code == 404


def test_owner_sees_own_invoices_and_another_company_is_404(billed):
    own, invoice = billed["own"], billed["own_invoice"]
    owner = _as(billed["owner"])
    listing = owner.get(f"/companies/{own.customer_number}/invoices/").content.decode()
    assert invoice.number in listing
    assert own.customer_number in listing
    body = owner.get(f"/companies/{own.customer_number}/invoices/{invoice.number}/").content.decode()
    assert f"Invoice {invoice.number}" in body
    assert own.customer_number in body
    assert "£36.00" in body  # 30.00 + 20% VAT, no discount
    assert "Practice discount" not in body  # a client's own invoice has none to show

    other = billed["other_company_invoice"]
    assert owner.get(f"/companies/{own.customer_number}/invoices/{other.number}/").status_code == 404
    assert owner.get(f"/companies/{billed['other_company'].customer_number}/invoices/").status_code == 404
    assert (
        owner.get(f"/companies/{billed['other_company'].customer_number}/invoices/{other.number}/").status_code == 404
    )
    # a company's plain user is not its owner
    user = _as(billed["user"])
    assert user.get(f"/companies/{own.customer_number}/invoices/").status_code == 404
    assert user.get(f"/companies/{own.customer_number}/invoices/{invoice.number}/").status_code == 404


def test_the_invoice_says_how_it_is_paid(billed):
    """ "Paid by Direct Debit" only when the account has one; otherwise where to set it up."""
    from partnerdesk.billing import services

    own, invoice = billed["own"], billed["own_invoice"]
    owner = _as(billed["owner"])
    url = f"/companies/{own.customer_number}/invoices/{invoice.number}/"
    without = owner.get(url).content.decode()
    assert "No Direct Debit is set up for this account" in without
    assert "Collected by Direct Debit" not in without
    mandate = services.mandate_create(
        actor=billed["owner"],
        company=own,
        account_holder="Ada Lovelace",
        sort_code="12-34-56",
        account_number="12345678",
        declaration=True,
    )
    with_mandate = owner.get(url).content.decode()
    assert f"Collected by Direct Debit (reference {mandate.reference}, account ******78)" in with_mandate
    assert "Collected by Direct Debit" in owner.get(f"{url}print/").content.decode()


def test_company_with_no_invoices_says_so_with_its_customer_number(billed):
    owner = UserFactory.create()
    company = make_company("New Ltd")
    CompanyMembership.objects.create(user=owner, company=company, role="owner")
    body = _as(owner).get(f"/companies/{company.customer_number}/invoices/").content.decode()
    assert "No invoices yet" in body
    assert company.customer_number in body


def test_csv_export_has_one_row_per_line(billed):
    invoice = billed["practice_invoice"]
    response = _as(billed["admin"]).get(f"/partner/invoices/{invoice.number}/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f'filename="{invoice.number}.csv"' in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Invoice number", "Period", "Account customer number"]
    assert len(body) == 4
    by_name = {(r[3], r[5]): dict(zip(header, r, strict=True)) for r in body}
    joinery = by_name[("'=Joinery Ltd", "Test inv-accounting")]  # formula neutralised
    assert joinery["From"] == "2026-11-19"
    assert joinery["To"] == "2026-11-30"
    assert (joinery["Days active"], joinery["Days in month"]) == ("12", "30")
    assert (joinery["Amount"], joinery["Discount rate %"], joinery["Discount"], joinery["Net"]) == (
        "12.00",
        "20.00",
        "2.40",
        "9.60",
    )
    assert all(r[2] == invoice.customer_number for r in body)


def test_owner_csv_and_printable_invoice(billed):
    own, invoice = billed["own"], billed["own_invoice"]
    owner = _as(billed["owner"])
    response = owner.get(f"/companies/{own.customer_number}/invoices/{invoice.number}/export.csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode().lstrip("\ufeff"))))
    assert len(rows) == 2
    assert rows[1][6] == "Client paying"
    printable = owner.get(f"/companies/{own.customer_number}/invoices/{invoice.number}/print/").content.decode()
    assert "css/invoice.css" in printable
    assert own.customer_number in printable
    assert "site-header" not in printable
    assert (
        _as(billed["other_owner"]).get(f"/companies/{own.customer_number}/invoices/{invoice.number}/print/").status_code
        == 404
    )


def test_practice_printable_invoice(billed):
    invoice = billed["practice_invoice"]
    body = _as(billed["admin"]).get(f"/partner/invoices/{invoice.number}/print/").content.decode()
    assert "Breakdown by client" in body
    assert invoice.customer_number in body


def test_print_stylesheet_hides_the_site_chrome():
    from django.conf import settings

    css = (settings.BASE_DIR / "static" / "css" / "invoice.css").read_text()
    assert "@media print" in css
    assert ".sidebar" in css.split("@media print", 1)[1]


def test_amounts_of_a_thousand_pounds_and_more_are_grouped(billed):
    """£1,346.40, as on any UK invoice, in the list and on the invoice itself (the PDF renders the same body)."""
    invoice = billed["practice_invoice"]
    Invoice.objects.filter(pk=invoice.pk).update(
        net_total="1122.00", vat_total="224.40", total="1346.40", subtotal="1402.50", discount_total="280.50"
    )
    admin = _as(billed["admin"])
    listing = admin.get("/partner/invoices/").content.decode()
    assert "£1,122.00" in listing
    assert "£1,346.40" in listing
    assert "£224.40" in listing
    detail = admin.get(f"/partner/invoices/{invoice.number}/").content.decode()
    assert "£1,402.50" in detail
    assert "\u2212£280.50" in detail  # a minus sign
    assert "£1,346.40" in detail


def test_a_practice_renamed_in_settings_keeps_its_issued_invoices_and_is_billed_under_its_new_name_next(billed):
    from partnerdesk.billing.invoicing import invoice_run
    from partnerdesk.practice.staff_services import practice_update_settings

    practice, invoice = billed["practice"], billed["practice_invoice"]
    practice_update_settings(actor=billed["admin"], practice=practice, name="Hartley & Moss LLP")
    admin = _as(billed["admin"])
    body = admin.get(f"/partner/invoices/{invoice.number}/").content.decode()
    assert '<dt>Billed to</dt><dd class="billed-to">Hartley LLP</dd>' in body  # as issued
    invoice.refresh_from_db()
    assert invoice.account.business_name == "Hartley & Moss LLP"  # the billed company, as customer services see it
    invoice_run(period=dt.date(2026, 12, 1))
    december = Invoice.objects.get(account=invoice.account, period=dt.date(2026, 12, 1))
    body = admin.get(f"/partner/invoices/{december.number}/").content.decode()
    assert '<dt>Billed to</dt><dd class="billed-to">Hartley &amp; Moss LLP</dd>' in body


def test_a_one_day_line_reads_as_one_day_on_the_page_and_the_printable_page(billed):
    import datetime as dt

    from partnerdesk.billing.invoicing import billed_days_text
    from partnerdesk.billing.models import InvoiceLine

    assert billed_days_text(dt.date(2026, 12, 2), dt.date(2026, 12, 2)) == "2 Dec 2026"
    assert billed_days_text(dt.date(2026, 12, 2), dt.date(2026, 12, 5)) == "2 Dec \u2013 5 Dec 2026"
    invoice = billed["practice_invoice"]
    line = InvoiceLine.objects.filter(invoice=invoice).order_by("pk")[0]
    InvoiceLine.objects.filter(pk=line.pk).update(ends_on=line.starts_on + dt.timedelta(days=1))
    day = f"{line.starts_on.day} {line.starts_on:%b}"
    admin = _as(billed["admin"])
    for path in (f"/partner/invoices/{invoice.number}/", f"/partner/invoices/{invoice.number}/print/"):
        body = admin.get(path).content.decode()
        assert f"{day} {line.starts_on:%Y}" in body, path
        assert f"{day} \u2013 {day}" not in body, path
