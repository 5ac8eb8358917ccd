"""Linking an account to a subscription in Chromium (issue 4): as the owner straight after sign-up, and by
request with the owner approving in a second browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import SCREENSHOTS, console_errors, csp_violations
from e2e.test_account_entrance import fill_sign_up, last_email
from partnerdesk.identity.models import CompanyMembership
from partnerdesk.identity.services import company_create
from partnerdesk.identity.tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
STRONG = "a quiet harbour at dawn"


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("banner")).to_contain_text("Signed in as")


def test_sign_up_code_then_link_as_the_owner(page, live_server, console_messages, screenshot):
    company = company_create(business_name="Harbour Bakery Ltd", owner_email="nia@harbour.test")
    page.goto("/accounts/signup/")
    fill_sign_up(page, email="nia@harbour.test", password=STRONG, full_name="Nia Evans")
    page.get_by_role("button", name="Sign up").click()
    code = last_email("nia@harbour.test", "account-email_confirmation_signup").context["code"]
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Verify").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Link your subscription")
    page.get_by_label("Customer Number or Registration ID").fill("12345")
    page.get_by_label("Email Address").fill("nia@harbour.test")
    page.get_by_role("button", name="Submit").click()
    expect(page.locator("#id_number_error")).to_contain_text("8-digit Customer Number")
    expect(page.get_by_label("Customer Number or Registration ID")).to_have_value("12345")
    screenshot("portal-link-error")

    page.get_by_label("Customer Number or Registration ID").fill(company.registration_id[-6:])
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("status")).to_contain_text("linked to Harbour Bakery Ltd as its Subscription Owner")
    expect(page.get_by_role("heading", level=1)).to_have_text("Harbour Bakery Ltd")
    page.get_by_role("link", name="My Details").click()
    expect(page.get_by_role("complementary", name="Registration ID")).to_contain_text(company.registration_id)
    screenshot("portal-my-details")
    assert csp_violations(console_messages) == []
    assert console_errors(console_messages) == []


def test_request_access_owner_approves_in_another_browser(browser, live_server):
    owner = UserFactory(email="olive@acme.test", full_name="Olive Owner")
    company = company_create(business_name="Acme Ltd", owner_email="olive@acme.test", owner=owner)
    CompanyMembership.objects.create(user=owner, company=company, role="owner")
    requester = UserFactory(email="rita@example.test", full_name="Rita Requester")

    requester_context = browser.new_context(base_url=live_server.url)
    owner_context = browser.new_context(base_url=live_server.url)
    try:
        rita = requester_context.new_page()
        sign_in(rita, requester.email, PASSWORD)
        rita.goto("/account/link/")
        rita.get_by_label("Customer Number or Registration ID").fill(company.customer_number)
        rita.get_by_label("Email Address").fill("olive@acme.test")
        rita.get_by_role("button", name="Submit").click()
        expect(rita.get_by_role("status")).to_contain_text("asked the Subscription Owner of Acme Ltd")
        expect(rita.get_by_role("region", name="Your requests")).to_contain_text("Waiting for approval")

        approval = last_email("olive@acme.test", "access-request-approval")
        olive = owner_context.new_page()
        sign_in(olive, owner.email, PASSWORD)
        olive.goto(approval.context["request_path"])
        expect(olive.get_by_role("heading", level=1)).to_have_text("Access request")
        expect(olive.get_by_text("Rita Requester (rita@example.test)")).to_be_visible()
        SCREENSHOTS.mkdir(exist_ok=True)
        olive.screenshot(path=str(SCREENSHOTS / "portal-access-request.png"), full_page=True)
        olive.get_by_role("button", name="Approve").click()
        expect(olive.get_by_role("status")).to_contain_text("approved")

        rita.goto("/")
        companies = rita.get_by_role("region", name="Your companies")
        expect(companies.get_by_role("link", name="Acme Ltd")).to_be_visible()
        companies.get_by_role("link", name="Acme Ltd").click()
        expect(rita.get_by_role("heading", level=1)).to_have_text("Acme Ltd")
        expect(rita.get_by_text("You are a user")).to_be_visible()
    finally:
        requester_context.close()
        owner_context.close()
