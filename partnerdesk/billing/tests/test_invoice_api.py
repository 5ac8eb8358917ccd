"""Invoice API: practice admins and company owners read their own invoices with lines; others get 404 (or 403 for a
company member who is not the owner)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client as HttpClient

from partnerdesk.api.services import token_create
from partnerdesk.billing.invoicing import invoice_run
from partnerdesk.billing.models import Invoice
from partnerdesk.billing.tests.invoice_factories import (
    accountant_pays,
    client_pays,
    make_company,
    make_practice,
    make_service,
    subscribe,
)
from partnerdesk.identity.models import CompanyMembership
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.practice.models import PracticeMember

pytestmark = pytest.mark.django_db

NOV = dt.date(2026, 11, 1)


def _api(user) -> HttpClient:
    _, token = token_create(user=user, name="test", days=1)
    return HttpClient(HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.fixture
def billed():
    service = make_service("inv-accounting", "30.00")
    practice = make_practice(discount="10.00")
    admin, staff = UserFactory.create(), UserFactory.create()
    PracticeMember.objects.create(practice=practice, user=admin, role="admin")
    PracticeMember.objects.create(practice=practice, user=staff, role="staff")
    client_company = make_company("Bakery Ltd")
    subscribe(client_company, service, dt.date(2026, 11, 11))
    accountant_pays(client_company, practice)
    own = make_company("Own Ltd")
    owner, user = UserFactory.create(), UserFactory.create()
    CompanyMembership.objects.create(user=owner, company=own, role="owner")
    CompanyMembership.objects.create(user=user, company=own, role="user")
    subscribe(own, service)
    client_pays(own)
    other = make_company("Elsewhere Ltd")
    subscribe(other, service)
    client_pays(other)
    invoice_run(period=NOV)
    return {
        "admin": admin,
        "staff": staff,
        "owner": owner,
        "user": user,
        "own": own,
        "practice_invoice": Invoice.objects.get(account=practice.company),
        "own_invoice": Invoice.objects.get(account=own),
        "other_invoice": Invoice.objects.get(account=other),
    }


def test_practice_invoices_list_and_detail_with_lines(billed):
    api = _api(billed["admin"])
    invoice = billed["practice_invoice"]
    listing = api.get("/api/v1/practice/invoices").json()
    assert listing["count"] == 1
    assert listing["results"][0]["number"] == invoice.number
    assert listing["results"][0]["customer_number"] == invoice.customer_number

    detail = api.get(f"/api/v1/practice/invoices/{invoice.number}").json()
    assert (detail["net_total"], detail["vat_total"], detail["total"]) == ("18.00", "3.60", "21.60")
    [line] = detail["lines"]
    assert line["business_name"] == "Bakery Ltd"
    assert (line["days_active"], line["days_in_period"], line["prorated"]) == (20, 30, True)
    assert (line["amount"], line["discount_rate"], line["discount"], line["net"]) == ("20.00", "10.00", "2.00", "18.00")
    assert line["service"] == "inv-accounting"


def test_an_invoice_page_past_the_end_is_empty(billed):
    api = _api(billed["admin"])
    past = api.get("/api/v1/practice/invoices", {"page": 99}).json()
    assert (past["count"], past["page"], past["pages"], past["results"]) == (1, 99, 1, [])
    own = billed["own"].customer_number
    past = _api(billed["owner"]).get(f"/api/v1/companies/{own}/invoices", {"page": 2}).json()
    assert (past["count"], past["page"], past["pages"], past["results"]) == (1, 2, 1, [])
    assert api.get("/api/v1/practice/invoices", {"page": 0}).status_code == 422


def test_practice_invoices_403_for_staff_and_404_for_other_tenants(billed):
    invoice = billed["practice_invoice"]
    for path in ("/api/v1/practice/invoices", f"/api/v1/practice/invoices/{invoice.number}"):
        response = _api(billed["staff"]).get(path)
        assert (response.status_code, response.json()["code"]) == (403, "practice_admin_only")
    admin = _api(billed["admin"])
    response = admin.get(f"/api/v1/practice/invoices/{billed['other_invoice'].number}")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")


def test_company_invoices_for_the_owner_only(billed):
    own, invoice = billed["own"], billed["own_invoice"]
    owner = _api(billed["owner"])
    listing = owner.get(f"/api/v1/companies/{own.customer_number}/invoices").json()
    assert [i["number"] for i in listing["results"]] == [invoice.number]
    detail = owner.get(f"/api/v1/companies/{own.customer_number}/invoices/{invoice.number}").json()
    assert detail["kind"] == "company"
    assert [(line["payer"], line["discount"]) for line in detail["lines"]] == [("client", "0.00")]
    assert (
        owner.get(f"/api/v1/companies/{own.customer_number}/invoices/{billed['other_invoice'].number}").status_code
        == 404
    )
    assert owner.get("/api/v1/companies/99999999/invoices").status_code == 404
    assert _api(billed["user"]).get(f"/api/v1/companies/{own.customer_number}/invoices").status_code == 403
    assert _api(billed["admin"]).get(f"/api/v1/companies/{own.customer_number}/invoices").status_code == 404


def test_run_invoices_command_prints_counts_and_is_idempotent(billed):
    Invoice.objects.all().delete()
    out = io.StringIO()
    call_command("run_invoices", "--period", "2026-11", stdout=out)
    assert "Invoice run for 2026-11: 3 invoices issued (3 lines" in out.getvalue()
    out = io.StringIO()
    call_command("run_invoices", "--period", "2026-11", stdout=out)
    assert "0 invoices issued (0 lines" in out.getvalue()
    assert "3 already issued" in out.getvalue()
    assert Invoice.objects.count() == 3


def test_run_invoices_command_defaults_to_last_month(billed, monkeypatch):
    from partnerdesk.billing.management.commands import run_invoices

    monkeypatch.setattr(run_invoices.timezone, "localdate", lambda: dt.date(2026, 12, 1))
    Invoice.objects.all().delete()
    out = io.StringIO()
    call_command("run_invoices", stdout=out)
    assert out.getvalue().startswith("Invoice run for 2026-11: 3 invoices issued")


def test_run_invoices_command_refuses_a_month_that_has_not_ended(billed, monkeypatch):
    from partnerdesk.billing.management.commands import run_invoices

    Invoice.objects.all().delete()
    monkeypatch.setattr(run_invoices.timezone, "localdate", lambda: dt.date(2026, 11, 30))
    for period in ("2026-11", "2027-01"):
        with pytest.raises(CommandError, match="has not ended"):
            call_command("run_invoices", "--period", period, stdout=io.StringIO())
    assert not Invoice.objects.exists()
    monkeypatch.setattr(run_invoices.timezone, "localdate", lambda: dt.date(2026, 12, 1))
    call_command("run_invoices", "--period", "2026-11", stdout=io.StringIO())
    assert Invoice.objects.exists()


def test_run_invoices_command_rejects_a_bad_period():
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("run_invoices", "--period", "November")


def test_periodic_schedule_has_the_monthly_invoice_run():
    from django.utils.module_loading import import_string

    from partnerdesk.backoffice.periodic import SCHEDULE

    [entry] = [p for p in SCHEDULE if p.name == "billing.invoice_run_monthly"]
    assert entry.every_seconds <= 86400
    assert callable(import_string(entry.task_path).enqueue)
