"""Connect existing client in Chromium: the practice asks to manage a company by its Customer Number and owner
email (a wrong email gets the very same answer), the owner accepts in a second browser, and the client is on the
practice's Active tab with both having access and the client paying."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import SCREENSHOTS, console_errors, csp_violations
from e2e.test_account_entrance import last_email
from e2e.test_portal_link import sign_in
from partnerdesk.identity.models import CompanyMembership
from partnerdesk.identity.services import company_create
from partnerdesk.identity.tests.factories import PASSWORD, UserFactory
from partnerdesk.practice.connect import CONNECT_REQUEST_SENT
from partnerdesk.practice.models import Client, Practice, PracticeMember

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people():
    practice = Practice.objects.create(
        company=company_create(business_name="Hartley LLP"), name="Hartley LLP", contact_email="hello@hartley.test"
    )
    helen = UserFactory(email="helen@hartley.test", full_name="Helen Hartley")
    PracticeMember.objects.create(practice=practice, user=helen, role="admin")
    olive = UserFactory(email="olive@acme.test", full_name="Olive Owner")
    company = company_create(business_name="Acme Ltd", owner_email="olive@acme.test", owner=olive)
    CompanyMembership.objects.create(user=olive, company=company, role="owner")
    return helen, olive, company


def _ask(page: Page, number: str, email: str) -> None:
    page.goto("/partner/clients/")
    page.get_by_role("link", name="Connect existing client").first.click()  # the toolbar's
    expect(page.get_by_role("heading", level=1)).to_have_text("Connect existing client")
    page.get_by_label("Customer Number or Registration ID").fill(number)
    page.get_by_label("Subscription Owner's email address").fill(email)
    page.get_by_role("button", name="Ask to connect").click()


def test_practice_asks_and_the_owner_accepts(page, browser, live_server, people, console_messages, screenshot):
    helen, olive, company = people
    sign_in(page, helen.email, PASSWORD)

    # Details that match nothing: the same answer, and nothing waits on the Pending tab.
    _ask(page, company.customer_number, "someone@else.test")
    expect(page.get_by_role("status")).to_have_text(CONNECT_REQUEST_SENT)
    expect(page.get_by_role("link", name="Pending (0)")).to_be_visible()

    # A malformed number is explained on the field.
    _ask(page, "1234", "olive@acme.test")
    expect(page.locator("#id_number_error")).to_contain_text("8-digit Customer Number")
    screenshot("practice-connect-form-error")

    _ask(page, company.customer_number, "olive@acme.test")
    expect(page.get_by_role("status")).to_have_text(CONNECT_REQUEST_SENT)
    expect(page.get_by_role("link", name="Pending (1)")).to_have_attribute("aria-current", "page")
    row = page.get_by_role("row", name=f"Customer Number {company.customer_number}")
    expect(row).to_contain_text("Awaiting client approval")
    expect(row).to_contain_text("olive@acme.test")
    expect(page.get_by_role("table")).not_to_contain_text("Acme Ltd")
    screenshot("practice-connect-pending")
    row.get_by_role("link", name=f"Customer Number {company.customer_number}").click()
    panel = page.get_by_role("article")
    expect(panel).to_contain_text("Its owner has until")
    expect(panel.get_by_role("button", name="Accept")).to_have_count(0)  # only the client accepts
    screenshot("practice-connect-panel")

    owner_context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    owner_messages: list[str] = []
    try:
        owner = owner_context.new_page()
        owner.on("console", lambda msg: owner_messages.append(f"{msg.type}: {msg.text}"))
        owner.on("pageerror", lambda exc: owner_messages.append(f"pageerror: {exc}"))
        sign_in(owner, olive.email, PASSWORD)
        owner.goto("/")  # home lists the request to decide
        expect(owner.get_by_role("heading", name="Accountants asking to manage your company")).to_be_visible()
        expect(owner.get_by_role("link", name="Review the request from Hartley LLP for Acme Ltd")).to_be_visible()
        owner.goto(f"/companies/{company.customer_number}/")
        notice = owner.get_by_role("listitem").filter(has_text="Hartley LLP asks to be your accountant")
        expect(notice).to_be_visible()
        owner.screenshot(path=str(SCREENSHOTS / "practice-connect-owner-portal.png"), full_page=True)
        notice.get_by_role("link", name="Open").click()

        expect(owner.get_by_role("heading", level=2)).to_have_text("Hartley LLP asks to be your accountant")
        expect(owner.get_by_text("helen@hartley.test")).to_be_visible()
        expect(owner.get_by_text("You keep paying for your own subscription.")).to_be_visible()
        assert owner.url.endswith(last_email("olive@acme.test", "practice-connect-request").context["request_path"])
        owner.screenshot(path=str(SCREENSHOTS / "practice-connect-owner-request.png"), full_page=True)
        owner.get_by_role("button", name="Accept").click()

        expect(owner.get_by_role("status")).to_have_text(
            "Hartley LLP is now your accountant. You keep paying for your own subscription."
        )
        expect(owner.get_by_role("heading", level=2)).to_have_text("My accountant")
        expect(owner.get_by_role("definition").first).to_have_text("Hartley LLP")
        owner.screenshot(path=str(SCREENSHOTS / "practice-connect-owner-accepted.png"), full_page=True)
    finally:
        owner_context.close()

    page.goto("/partner/clients/")
    expect(page.get_by_role("link", name="Active (1)")).to_have_attribute("aria-current", "page")
    active = page.get_by_role("row", name="Acme Ltd")
    expect(active).to_contain_text("My company and client both have access")
    expect(active).to_contain_text("Client paying")
    expect(page.get_by_role("link", name="Pending (0)")).to_be_visible()
    screenshot("practice-connect-active")
    client = Client.objects.get(company=company)
    assert (client.tab, client.access, client.payer, client.requested_by) == ("active", "both", "client", "practice")

    assert csp_violations(console_messages + owner_messages) == []
    assert console_errors(console_messages) == []
    assert [m for m in owner_messages if m.startswith(("error", "pageerror")) and "/favicon.ico" not in m] == []
