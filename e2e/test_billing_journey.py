"""Manage Subscriptions -> Remove -> Continue -> summary -> Finish in Chromium, then the month's invoice run, then
the practice's invoice: the removed service's line is prorated to the day before the removal and the totals add
up; the client no longer has the service (portal company page, API, OIDC claim).

The date is controlled: billing's clock (``today()``) says 16 March 2026 for the whole journey, so the removal
takes effect on the 16th and Payroll is billed for 15 of March's 31 days."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import Browser, Page, expect

from e2e.conftest import SCREENSHOTS, console_errors, csp_violations
from e2e.test_client_lifecycle import open_manage
from e2e.test_portal_link import sign_in
from partnerdesk.billing import selectors, services
from partnerdesk.billing.models import Invoice, SubscriptionItem
from partnerdesk.billing.tests.subscription_factories import (
    accountant_client,
    make_practice,
    make_service,
)
from partnerdesk.identity.selectors import companies_claim
from partnerdesk.identity.tests.factories import PASSWORD, UserFactory
from partnerdesk.practice.models import Client

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TODAY = dt.date(2026, 3, 16)
MINUS, DASH = "\u2212", "\u2013"  # as the invoice prints them


@pytest.fixture
def billing_today(monkeypatch):
    """Billing's clock (selectors.today, imported by services) says 16 March 2026, in the live server's thread too."""
    monkeypatch.setattr(selectors, "today", lambda: TODAY)
    monkeypatch.setattr(services, "today", lambda: TODAY)
    return TODAY


def expect_no_console_errors(messages: list[str]) -> None:
    assert csp_violations(messages) == []
    assert console_errors(messages) == []


def test_remove_a_service_then_the_next_invoice_is_prorated(
    page: Page, browser: Browser, live_server, billing_today, console_messages, screenshot
):
    accounting = make_service("accounting-standard", "30.00", name="Accounting Standard", order=2)
    payroll = make_service("payroll", "10.00", name="Payroll", order=4)
    setup = make_practice("Hartley LLP", discount="20.00", email="helen@hartley.test")
    owner = UserFactory.create(email="ada@acme.test", full_name="Ada Lovelace")
    acme = accountant_client(setup, "Acme Joinery Ltd", accounting, payroll, owner=owner)
    Client.objects.filter(pk=acme.pk).update(access=Client.Access.BOTH, email="ada@acme.test")
    acme.refresh_from_db()

    # The practice: the client's side panel -> Manage -> Manage Subscriptions.
    sign_in(page, "helen@hartley.test", PASSWORD)
    panel = open_manage(page, acme)
    panel.get_by_role("link", name="Manage Subscriptions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Manage Subscriptions")
    expect(page.locator("main")).to_contain_text("Accountant paying (20% discount)")
    services_table = page.get_by_role("table", name="Services of Acme Joinery Ltd")
    expect(services_table.get_by_role("row")).to_have_count(3)  # header + 2 services

    # Pick Payroll -> Remove.
    page.get_by_role("checkbox", name="Select Payroll").check()
    page.get_by_role("button", name="Remove").click()
    expect(services_table.get_by_role("row", name=re.compile("Payroll"))).to_contain_text("To be removed")
    expect(services_table.get_by_role("row", name=re.compile("Accounting Standard"))).to_contain_text("Active")
    expect(page.get_by_role("status")).to_contain_text("You chose to remove: Payroll")
    screenshot("billing-remove-chosen")

    # Continue -> the summary: what changes, from when, the effect on the next invoice.
    page.get_by_role("link", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Manage Subscriptions: check your changes")
    changes = page.get_by_role("table", name="Services being removed")
    expect(changes.get_by_role("row")).to_have_count(2)
    payroll_row = changes.get_by_role("row", name=re.compile("Payroll removed"))
    expect(payroll_row).to_contain_text("£10.00")
    expect(payroll_row).to_contain_text("16 March 2026")
    # Payroll for the whole of March, less 20%: £8.00. For 1-15 March: £4.84 less £0.97 = £3.87. Saving £4.13.
    expect(payroll_row).to_contain_text("£4.13")
    main = page.locator("main")
    expect(main).to_contain_text(
        "From 16 March 2026: the next time the client signs in, this service no longer appears."
    )
    expect(main).to_contain_text("billed up to and including 15 March 2026")
    expect(main).to_contain_text("Services that remain: Accounting Standard.")
    expect(main).to_contain_text(
        "The invoice for March 2026 (issued on 1 April 2026) to your practice will be £4.13 less before VAT "
        "(£4.96 including VAT at 20%), at your discounted price (20% off RRP today)."
    )
    expect(page.get_by_label(re.compile("will have no services left"))).to_have_count(0)  # not the last service
    screenshot("billing-remove-summary")

    # Finish.
    page.get_by_role("button", name="Finish").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Manage Subscriptions")
    expect(page.get_by_role("status").first).to_contain_text(
        "Payroll removed from Acme Joinery Ltd. The client will no longer see it from the next sign-in"
    )
    expect(services_table.get_by_role("row")).to_have_count(2)  # header + Accounting Standard
    expect(services_table).not_to_contain_text("Payroll")
    screenshot("billing-remove-done")
    item = SubscriptionItem.objects.get(company=acme.company, service=payroll)
    assert (item.starts_on, item.ends_on, item.ended_by_id) == (dt.date(2020, 1, 1), TODAY, setup.admin.pk)

    # The client no longer has Payroll: the portal company page (a fresh sign-in), the API, the OIDC claim.
    owner_context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    owner_context.set_default_timeout(10_000)
    owner_messages: list[str] = []
    try:
        owner_page = owner_context.new_page()
        owner_page.on("console", lambda msg: owner_messages.append(f"{msg.type}: {msg.text}"))
        owner_page.on("pageerror", lambda exc: owner_messages.append(f"pageerror: {exc}"))
        sign_in(owner_page, "ada@acme.test", PASSWORD)
        owner_page.goto(f"/companies/{acme.company.customer_number}/")
        owner_services = owner_page.locator("ul.services")
        expect(owner_services.get_by_role("listitem")).to_have_text(["Accounting Standard"])
        expect(owner_page.locator("main")).to_contain_text("Services removed")  # the message to the company
        SCREENSHOTS.mkdir(exist_ok=True)
        owner_page.screenshot(path=str(SCREENSHOTS / "billing-owner-company.png"), full_page=True)
        listed = owner_page.request.get("/api/v1/companies").json()
        assert [(c["customer_number"], c["services"]) for c in listed] == [
            (acme.company.customer_number, ["accounting-standard"])
        ]
    finally:
        owner_context.close()
    expect_no_console_errors(owner_messages)
    assert [c["services"] for c in companies_claim(user=owner)] == [["accounting-standard"]]

    # The invoice run for March 2026 (on 1 April, in arrears), in-process; a second run changes nothing.
    out = StringIO()
    call_command("run_invoices", period="2026-03", stdout=out)
    assert "1 invoices issued (2 lines" in out.getvalue()
    call_command("run_invoices", period="2026-03", stdout=out)
    assert "0 invoices issued (0 lines" in out.getvalue()
    invoice = Invoice.objects.get(practice=setup.practice, period=dt.date(2026, 3, 1))

    # The practice's invoice page: Acme's Payroll line is prorated and marked; the totals add up.
    page.get_by_role("link", name="Invoices", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Invoices")
    page.get_by_role("link", name=invoice.number).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Invoice {invoice.number}")
    lines = page.get_by_role("table", name=re.compile("Invoice lines"))
    group = lines.locator("tbody.client-group")
    expect(group).to_have_count(1)
    expect(group.locator("tr.group-header")).to_contain_text(
        f"Acme Joinery Ltd · Customer Number {acme.company.customer_number}"
    )
    payroll_line = group.get_by_role("row", name=re.compile("^Payroll"))
    expect(payroll_line).to_have_class(re.compile(r"\bprorated\b"))
    expect(payroll_line).to_contain_text(f"1 Mar {DASH} 15 Mar 2026")
    expect(payroll_line).to_contain_text("Prorated")
    expect(payroll_line).to_contain_text("15 of 31 days")
    expect(payroll_line.locator("td.num")).to_have_text(["£10.00", "£4.84", f"{MINUS}£0.97 (20%)", "£3.87"])
    accounting_line = group.get_by_role("row", name=re.compile("^Accounting Standard"))
    expect(accounting_line).not_to_have_class(re.compile(r"\bprorated\b"))
    expect(accounting_line).to_contain_text("whole month")
    expect(accounting_line.locator("td.num")).to_have_text(["£30.00", "£30.00", f"{MINUS}£6.00 (20%)", "£24.00"])
    expect(group.locator("tr.subtotal td.num")).to_have_text(["£34.84", f"{MINUS}£6.97", "£27.87"])
    totals = lines.locator("tbody.invoice-totals tr")
    expect(totals).to_have_count(5)
    expect(totals.locator("td")).to_have_text(["£34.84", f"{MINUS}£6.97", "£27.87", "£5.57", "£33.44"])
    expect(page.locator("main")).to_contain_text("2 lines, 1 prorated by the days active in the month")
    # What the summary promised: Payroll for the whole month would have been £8.00 net; it is £3.87 (£4.13 less).
    assert (invoice.net_total, invoice.vat_total, invoice.total) == (
        Decimal("27.87"),
        Decimal("5.57"),
        Decimal("33.44"),
    )
    screenshot("billing-invoice-prorated")

    # The PDF download, and the printable invoice as the printer (and the PDF) lays it out.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    download = download_info.value
    assert download.suggested_filename == f"{invoice.number}.pdf"
    assert download.path().read_bytes().startswith(b"%PDF-")
    page.get_by_role("link", name="Printable invoice").click()
    page.emulate_media(media="print")
    expect(page.get_by_text("Use your browser's Print command")).to_be_hidden()
    expect(page.get_by_role("table", name=re.compile("Invoice lines"))).to_contain_text("15 of 31 days")
    screenshot("billing-invoice-print")
    expect_no_console_errors(console_messages)
