"""An issued invoice says what it said when it was issued: renaming the practice, the billed company or a client
afterwards changes none of its names (page, printable page, PDF, CSV, JSON API, back office); the next month's
invoice uses the new names."""

from __future__ import annotations

import csv
import datetime as dt
import io
from importlib import import_module

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from partnerdesk.billing.invoicing import invoice_run
from partnerdesk.billing.models import Invoice, InvoiceLine
from partnerdesk.billing.tests.conftest import NOV
from partnerdesk.billing.tests.invoice_factories import client_pays, make_company, make_service, subscribe
from partnerdesk.billing.tests.test_invoice_api import _api
from partnerdesk.billing.tests.test_invoice_pdf import _pages_text
from partnerdesk.billing.tests.test_invoice_views import _as
from partnerdesk.identity.models import Company
from partnerdesk.identity.services import company_rename
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.practice.staff_services import practice_update_settings

pytestmark = pytest.mark.django_db

DEC = dt.date(2026, 12, 1)
JAN = dt.date(2027, 1, 1)


def _rename_everyone(billed) -> None:
    """The practice renames itself in Settings (its company follows), customer services renames the client-paying
    company and one of the practice's clients."""
    practice_update_settings(actor=billed["admin"], practice=billed["practice"], name="Hartley Moss Partners LLP")
    back_office = UserFactory.create(is_staff=True)
    company_rename(actor=back_office, company_id=billed["own"].pk, business_name="Own Renamed Ltd")
    bakery = Company.objects.get(business_name="Bakery Ltd")
    company_rename(actor=back_office, company_id=bakery.pk, business_name="Bakery Renamed Ltd")


def test_the_run_records_the_billed_to_names(billed):
    assert billed["practice_invoice"].billed_to_name == "Hartley LLP"
    assert billed["own_invoice"].billed_to_name == "Own Ltd"
    assert billed["other_practice_invoice"].billed_to_name == "Other LLP"
    assert billed["other_company_invoice"].billed_to_name == "Elsewhere Ltd"
    # A practice's invoice names the practice even where its company's name had drifted from it.
    assert billed["practice_invoice"].practice.name == "Hartley LLP"


def test_renames_leave_the_issued_invoice_page_and_printable_page_as_issued(billed):
    _rename_everyone(billed)
    invoice, own_invoice = billed["practice_invoice"], billed["own_invoice"]
    admin = _as(billed["admin"])
    for path in (f"/partner/invoices/{invoice.number}/", f"/partner/invoices/{invoice.number}/print/"):
        body = admin.get(path).content.decode()
        assert '<dt>Billed to</dt><dd class="billed-to">Hartley LLP</dd>' in body, path
        assert "Subtotal for Bakery Ltd" in body
        assert "Bakery Renamed Ltd" not in body
    owner = _as(billed["owner"])
    own = billed["own"]
    for path in (
        f"/companies/{own.customer_number}/invoices/{own_invoice.number}/",
        f"/companies/{own.customer_number}/invoices/{own_invoice.number}/print/",
    ):
        body = owner.get(path).content.decode()
        assert '<dt>Billed to</dt><dd class="billed-to">Own Ltd</dd>' in body, path


def test_renames_leave_the_pdf_and_csv_as_issued(billed):
    _rename_everyone(billed)
    invoice = Invoice.objects.get(pk=billed["practice_invoice"].pk)
    whole = " ".join(_pages_text(invoice))
    assert "Billed to Hartley LLP" in whole
    assert "Hartley Moss Partners LLP" not in whole
    assert "Subtotal for Bakery Ltd" in whole
    own_invoice = Invoice.objects.get(pk=billed["own_invoice"].pk)
    assert "Billed to Own Ltd" in " ".join(_pages_text(own_invoice, scope="company", company=billed["own"]))
    response = _as(billed["admin"]).get(f"/partner/invoices/{invoice.number}/export.csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert {row[3] for row in rows[1:]} == {"Bakery Ltd", "'=Joinery Ltd"}


def test_renames_leave_the_api_as_issued(billed):
    _rename_everyone(billed)
    invoice, own_invoice, own = billed["practice_invoice"], billed["own_invoice"], billed["own"]
    detail = _api(billed["admin"]).get(f"/api/v1/practice/invoices/{invoice.number}").json()
    assert detail["billed_to_name"] == "Hartley LLP"
    assert {line["business_name"] for line in detail["lines"]} == {"Bakery Ltd", "=Joinery Ltd"}
    listing = _api(billed["admin"]).get("/api/v1/practice/invoices").json()
    assert [row["billed_to_name"] for row in listing["results"]] == ["Hartley LLP"]
    company = _api(billed["owner"]).get(f"/api/v1/companies/{own.customer_number}/invoices/{own_invoice.number}")
    assert company.json()["billed_to_name"] == "Own Ltd"


def test_the_back_office_shows_the_name_as_issued_and_finds_it(billed):
    _rename_everyone(billed)
    superuser = UserFactory.create(is_staff=True, is_superuser=True)
    http = _as(superuser)
    invoice = billed["practice_invoice"]
    page = http.get(f"/admin/billing/invoice/{invoice.pk}/change/").content.decode()
    assert "Billed to" in page
    assert "Hartley LLP" in page
    listing = http.get("/admin/billing/invoice/", {"q": "Hartley LLP"}).content.decode()
    assert invoice.number in listing


def test_next_months_invoice_uses_the_new_names(billed):
    _rename_everyone(billed)
    invoice_run(period=DEC)
    practice_dec = Invoice.objects.get(account=billed["practice"].company, period=DEC)
    assert practice_dec.billed_to_name == "Hartley Moss Partners LLP"
    assert Invoice.objects.get(account=billed["own"], period=DEC).billed_to_name == "Own Renamed Ltd"
    assert set(InvoiceLine.objects.filter(invoice=practice_dec).values_list("business_name", flat=True)) == {
        "Bakery Renamed Ltd",
        "=Joinery Ltd",
    }
    # November's stays as issued.
    assert Invoice.objects.get(pk=billed["practice_invoice"].pk).billed_to_name == "Hartley LLP"


def test_the_run_takes_the_names_in_its_statements_not_a_query_per_invoice(billed):
    """Writing the names costs no statement per invoice or line: a run for more accounts makes as many queries."""
    with CaptureQueriesContext(connection) as december:
        invoice_run(period=DEC)
    service = make_service("inv-accounting", "30.00")
    for n in range(5):
        company = make_company(f"More {n} Ltd")
        subscribe(company, service)
        client_pays(company)
    with CaptureQueriesContext(connection) as january:
        invoice_run(period=JAN)
    assert Invoice.objects.filter(period=JAN).count() == Invoice.objects.filter(period=DEC).count() + 5
    assert len(january.captured_queries) == len(december.captured_queries)
    assert Invoice.objects.get(period=JAN, billed_to_name="More 4 Ltd").customer_number


def test_the_migration_fills_existing_invoices_from_the_current_names(billed):
    migration = import_module("partnerdesk.billing.migrations.0006_invoice_billed_to_name")
    Invoice.objects.update(billed_to_name="")
    Company.objects.filter(pk=billed["other_company"].pk).update(business_name="Elsewhere Today Ltd")
    migration.fill(apps, None)
    assert dict(Invoice.objects.values_list("pk", "billed_to_name")) == {
        billed["practice_invoice"].pk: "Hartley LLP",
        billed["own_invoice"].pk: "Own Ltd",
        billed["other_practice_invoice"].pk: "Other LLP",
        billed["other_company_invoice"].pk: "Elsewhere Today Ltd",
    }


def test_an_invoice_run_for_a_month_already_invoiced_changes_no_name(billed):
    _rename_everyone(billed)
    again = invoice_run(period=NOV)
    assert again.invoices_created == 0
    assert Invoice.objects.get(pk=billed["practice_invoice"].pk).billed_to_name == "Hartley LLP"
