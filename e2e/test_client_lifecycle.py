"""The client access lifecycle in Chromium: Give client access and the client's activation in a second browser,
Disable/Enable seen by the client, Stop Managing This Client with a transfer, and Delete refused while Final
Accounts data exists, then allowed once it is deleted."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from e2e.conftest import SCREENSHOTS, console_errors, csp_violations
from e2e.test_account_entrance import last_email
from e2e.test_portal_link import sign_in
from partnerdesk.identity.models import CompanyMembership
from partnerdesk.identity.tests.factories import PASSWORD
from partnerdesk.practice.models import Client, Practice
from partnerdesk.practice.tests.lifecycle_factories import managed_client, participating_client
from partnerdesk.practice.tests.staff_factories import make_practice

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
STRONG = "a lantern over the estuary"


@pytest.fixture
def practice() -> Practice:
    practice, _admin = make_practice(name="Hartley LLP", admin_email="helen@hartley.test")
    return practice


@pytest.fixture
def client_browser(browser: Browser, live_server):
    """A second, separate browser context: the client's own browser."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    messages: list[str] = []
    context.on("console", lambda msg: messages.append(f"{msg.type}: {msg.text}"))
    context.on("weberror", lambda err: messages.append(f"pageerror: {err.error}"))
    context.console_messages = messages  # type: ignore[attr-defined]
    try:
        yield context
    finally:
        context.close()


def shot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def open_manage(page: Page, client: Client):
    """From the client list: select the client's row (side panel), then Manage."""
    page.goto(f"/partner/clients/?tab={client.tab}")
    page.get_by_role("table").get_by_role("link", name=client.business_name).click()
    panel = page.locator("#side-panel")
    expect(panel.get_by_role("heading", name=client.business_name)).to_be_visible()
    panel.get_by_role("link", name="Manage", exact=True).click()
    expect(panel.get_by_role("list", name=f"Manage {client.business_name}")).to_be_visible()
    return panel


def activate_with_password(page: Page, path: str, *, business_name: str, full_name: str) -> None:
    """The activation link, with no account yet: choose a password (the link proves the email)."""
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text(business_name)
    page.get_by_label("Full name").fill(full_name)
    page.get_by_label(re.compile(r"^Password( \*)?$")).fill(STRONG)
    page.get_by_label("Password (again)").fill(STRONG)
    page.get_by_role("button", name="Create account and continue").click()


def expect_clean(messages: list[str], *, expected_statuses: tuple[int, ...] = (422,)) -> None:
    """No CSP violation, no script error; a form shown again with its errors answers 422 (Chromium logs that
    as a failed resource), which is expected here, and so are the statuses the test asks for on purpose."""
    assert csp_violations(messages) == []
    expected = tuple(f"status of {status} " for status in expected_statuses)
    unexpected = [
        m for m in console_errors(messages) if not ("Failed to load resource" in m and any(e in m for e in expected))
    ]
    assert unexpected == []


# --- 1. Give client access -> activation in a second browser -> both have access --------------------------


def test_give_access_client_activates_then_both_have_access(
    page, practice, client_browser: BrowserContext, console_messages, screenshot
):
    acme = managed_client(practice, "Acme Joinery Ltd", contact_name="Ada Lovelace")
    sign_in(page, "helen@hartley.test", PASSWORD)
    panel = open_manage(page, acme)
    expect(panel.get_by_role("link", name="Disable")).to_have_count(0)
    panel.get_by_role("link", name="Give client access").click()

    # The Invite your client window: check the name, then the email twice.
    expect(page.get_by_role("heading", level=1)).to_have_text("Invite your client")
    expect(page.locator("main")).to_contain_text("Acme Joinery Ltd")
    page.get_by_label("Client's email address").fill("ada@acme.test")
    page.get_by_label("Confirm email address").fill("ada@acme.tset")
    page.get_by_role("button", name="Invite & Continue").click()
    expect(page.locator("#id_email_confirm_error")).to_contain_text("The two email addresses do not match.")
    screenshot("lifecycle-invite-mismatch")
    page.get_by_label("Confirm email address").fill("ada@acme.test")
    screenshot("lifecycle-invite-window")
    page.get_by_role("button", name="Invite & Continue").click()

    panel = page.locator("#side-panel")
    # The message shows once, above the list (not repeated in the panel).
    expect(page.get_by_role("status")).to_contain_text("Invitation sent to ada@acme.test")
    expect(panel.locator(".status-line")).to_contain_text("Awaiting Client Activation")
    screenshot("lifecycle-awaiting-activation")

    # The client, in their own browser, opens the link from the email and chooses a password.
    email = last_email("ada@acme.test", "client-activation")
    client_page = client_browser.new_page()
    client_page.goto(email.context["activation_path"])
    expect(client_page.get_by_text("Hartley LLP invited ada@acme.test to access Acme Joinery Ltd")).to_be_visible()
    shot(client_page, "lifecycle-activation-form")
    activate_with_password(
        client_page, email.context["activation_path"], business_name="Acme Joinery Ltd", full_name="Ada Lovelace"
    )
    expect(client_page).to_have_url(re.compile(rf"/companies/{acme.company.customer_number}/$"))
    expect(client_page.get_by_role("status")).to_contain_text("You are now the owner of Acme Joinery Ltd")
    expect(client_page.get_by_text("You are the Subscription Owner (Administrator)")).to_be_visible()
    shot(client_page, "lifecycle-activated-owner")
    assert CompanyMembership.objects.get(company=acme.company, user__email="ada@acme.test").role == "owner"

    # The link works once.
    client_page.goto(email.context["activation_path"])
    expect(client_page.get_by_role("heading", level=1)).to_have_text("This invitation can\u2019t be used")
    expect(client_page.get_by_text("This invitation has already been used.")).to_be_visible()

    # Back in the practice's browser.
    page.reload()
    expect(page.locator("#side-panel .status-line")).to_contain_text("My company and client both have access")
    screenshot("lifecycle-both-have-access")
    expect_clean(console_messages)
    expect_clean(client_browser.console_messages, expected_statuses=(410,))  # type: ignore[attr-defined]


# --- 2. Disable -> the client sees the disabled message; Enable -> they see the company again ---------------


def test_disable_then_enable_seen_by_the_client(
    page, practice, client_browser: BrowserContext, console_messages, screenshot
):
    owned, owner = participating_client(practice, "Brook Farm Ltd", owner_email="bea@brook.test")
    company_path = f"/companies/{owned.company.customer_number}/"
    client_page = client_browser.new_page()
    sign_in(client_page, owner.email, PASSWORD)
    client_page.goto(company_path)
    expect(client_page.get_by_role("heading", level=1)).to_have_text("Brook Farm Ltd")
    expect(client_page.get_by_role("navigation", name="Brook Farm Ltd")).to_be_visible()

    sign_in(page, "helen@hartley.test", PASSWORD)
    panel = open_manage(page, owned)
    expect(panel.get_by_role("link", name="Give client access")).to_have_count(0)
    panel.get_by_role("link", name="Disable", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Disable client access")
    screenshot("lifecycle-disable-confirm")
    page.get_by_role("button", name="Yes").click()
    panel = page.locator("#side-panel")
    expect(page.get_by_role("status")).to_contain_text("Client access disabled.")
    expect(panel.locator(".status-line")).to_contain_text("Client access disabled")

    client_page.goto(company_path)
    expect(client_page.get_by_role("heading", level=1)).to_have_text("Brook Farm Ltd")
    expect(client_page.get_by_text("has disabled your access to this company.")).to_be_visible()
    expect(client_page.get_by_role("navigation", name="Brook Farm Ltd")).to_have_count(0)
    shot(client_page, "lifecycle-client-disabled")
    for path in ("payment/", "accountant/", "details/"):  # no other page of the company either
        response = client_page.goto(company_path + path)
        assert response is not None
        assert response.status in (403, 404), path

    # Enable -> Yes.
    panel = open_manage(page, owned)
    panel.get_by_role("link", name="Enable", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Enable client access")
    page.get_by_role("button", name="Yes").click()
    expect(page.get_by_role("status")).to_contain_text("Client access enabled.")
    expect(page.locator("#side-panel .status-line")).to_contain_text("My company and client both have access")

    client_page.goto(company_path)
    expect(client_page.get_by_role("navigation", name="Brook Farm Ltd")).to_be_visible()
    expect(client_page.get_by_text("disabled your access")).to_have_count(0)
    shot(client_page, "lifecycle-client-enabled")
    expect_clean(console_messages)
    expect_clean(client_browser.console_messages, expected_statuses=(403, 404))  # type: ignore[attr-defined]


# --- 3. Stop managing a non-participating client: transfer to the client ------------------------------------


def test_stop_managing_transfer_client_activates_and_is_asked_for_direct_debit(
    page, practice, client_browser: BrowserContext, console_messages, screenshot
):
    cedar = managed_client(practice, "Cedar Cafe Ltd", email="cal@cedar.test", contact_name="Cal Cedar")
    managed_client(practice, "Other Client Ltd")
    sign_in(page, "helen@hartley.test", PASSWORD)
    panel = open_manage(page, cedar)
    panel.get_by_role("link", name="Stop Managing This Client").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Stop Managing This Client")
    # Submitting without a choice says what to do.
    page.get_by_role("button", name="Stop Managing This Client").click()
    expect(page.locator("fieldset .error")).to_be_visible()
    page.get_by_label("Transfer this data and subscription to your client").check()
    screenshot("lifecycle-stop-transfer")
    page.get_by_role("button", name="Stop Managing This Client").click()

    expect(page).to_have_url(re.compile(r"/partner/clients/$"))
    expect(page.get_by_role("status")).to_contain_text("You no longer manage Cedar Cafe Ltd. We emailed cal@cedar.test")
    active_tab = page.get_by_role("navigation", name="Client tabs").get_by_role("link", name=re.compile("^Active"))
    expect(active_tab).to_have_attribute("aria-current", "page")
    table = page.get_by_role("table")
    expect(table).to_contain_text("Other Client Ltd")
    expect(table).not_to_contain_text("Cedar Cafe Ltd")
    screenshot("lifecycle-stop-transfer-done")
    ended = Client.all_objects.get(pk=cedar.pk)
    assert (ended.ended_reason, ended.payer) == ("transferred", "client")

    # The client's email has an activation link; they choose a password and become the owner.
    email = last_email("cal@cedar.test", "client-transfer")
    client_page = client_browser.new_page()
    client_page.goto(email.context["activation_path"])
    expect(client_page.get_by_text("Hartley LLP invited cal@cedar.test to take over Cedar Cafe Ltd")).to_be_visible()
    activate_with_password(
        client_page, email.context["activation_path"], business_name="Cedar Cafe Ltd", full_name="Cal Cedar"
    )
    expect(client_page).to_have_url(re.compile(rf"/companies/{cedar.company.customer_number}/$"))
    expect(client_page.get_by_text("You are the Subscription Owner (Administrator)")).to_be_visible()
    shot(client_page, "lifecycle-transfer-activated")

    # Their portal asks for Direct Debit details.
    client_page.get_by_role("link", name="Payment details").click()
    expect(client_page.get_by_role("heading", name="Payment details")).to_be_visible()
    expect(client_page.locator("main")).to_contain_text("Direct Debit")
    expect(client_page.get_by_text("Your accountant currently pays for this subscription.")).to_have_count(0)
    shot(client_page, "lifecycle-transfer-payment")
    expect_clean(console_messages)
    expect_clean(client_browser.console_messages)  # type: ignore[attr-defined]


# --- 4. Delete: refused while Final Accounts data exists, allowed once it is deleted ------------------------


def test_delete_refused_while_final_accounts_data_exists_then_allowed(page, practice, console_messages, screenshot):
    dale = managed_client(practice, "Dale Dental Ltd")
    managed_client(practice, "Other Client Ltd")
    sign_in(page, "helen@hartley.test", PASSWORD)

    # An accounts period, through Final Accounts.
    panel = open_manage(page, dale)
    panel.get_by_role("link", name="Final Accounts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Final Accounts: Dale Dental Ltd")
    page.get_by_role("link", name="Add accounts period").click()
    page.get_by_label("Period start").fill("2024-04-01")
    page.get_by_label("Period end").fill("2025-03-31")
    page.get_by_role("button", name="Add period").click()
    expect(page.get_by_role("status")).to_contain_text("Accounts period added.")
    expect(page.get_by_role("table")).to_contain_text("1 Apr 2024 to 31 Mar 2025")
    screenshot("lifecycle-final-accounts-period")

    # Stop Managing -> Delete -> type the business name: refused.
    panel = open_manage(page, dale)
    panel.get_by_role("link", name="Stop Managing This Client").click()
    # The typed confirmation belongs to Delete only: hidden until Delete is chosen.
    expect(page.get_by_label("To delete, type the business name")).to_be_hidden()
    page.get_by_label("Transfer this data and subscription to your client").check()
    expect(page.get_by_label("To delete, type the business name")).to_be_hidden()
    page.get_by_label("Delete this data and cancel the subscription").check()
    page.get_by_label("To delete, type the business name").fill("Dale Dental")
    page.get_by_role("button", name="Stop Managing This Client").click()
    expect(page.locator("#id_confirm_business_name ~ .error")).to_contain_text("Type Dale Dental Ltd exactly")
    page.get_by_label("To delete, type the business name").fill("Dale Dental Ltd")
    page.get_by_role("button", name="Stop Managing This Client").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("This client has Final Accounts data or submissions.")
    screenshot("lifecycle-delete-refused")
    assert Client.objects.filter(pk=dale.pk).exists()

    # Delete the period in Final Accounts (the link next to the Delete choice).
    page.locator("main").get_by_role("link", name="Final Accounts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Final Accounts: Dale Dental Ltd")
    page.get_by_role("link", name="Delete period ending 31 Mar 2025").click()
    page.get_by_role("button", name="Yes, delete").click()
    expect(page.get_by_role("status")).to_contain_text("Accounts period deleted.")
    expect(page.get_by_text("No Final Accounts data for this client yet.")).to_be_visible()

    # Stop Managing -> Delete again: done, and the client leaves the list.
    panel = open_manage(page, dale)
    panel.get_by_role("link", name="Stop Managing This Client").click()
    page.get_by_label("Delete this data and cancel the subscription").check()
    page.get_by_label("To delete, type the business name").fill("Dale Dental Ltd")
    page.get_by_role("button", name="Stop Managing This Client").click()
    expect(page).to_have_url(re.compile(r"/partner/clients/$"))
    expect(page.get_by_role("status")).to_contain_text("Dale Dental Ltd's data was deleted")
    expect(page.get_by_role("table")).to_contain_text("Other Client Ltd")
    expect(page.get_by_role("table")).not_to_contain_text("Dale Dental Ltd")
    screenshot("lifecycle-delete-done")
    assert Client.all_objects.get(pk=dale.pk).ended_reason == "deleted"
    expect_clean(console_messages)


# --- 4. A person asks to use a non-participating client's subscription; the practice approves ---------------


def test_the_practice_approves_a_request_then_both_have_access_and_disable_works(
    page, practice, client_browser: BrowserContext, console_messages, screenshot
):
    from partnerdesk.identity.models import Company
    from partnerdesk.identity.tests.factories import UserFactory

    acme = managed_client(practice, "Copper Kettle Ltd", contact_name="Jean Kettle", email="jean@kettle.test")
    Company.objects.filter(pk=acme.company_id).update(owner_email="jean@kettle.test")
    jean = UserFactory(email="jean@kettle.test", full_name="Jean Kettle")

    # The client's owner asks to link their account; their accountant decides.
    client_page = client_browser.new_page()
    sign_in(client_page, jean.email, PASSWORD)
    client_page.goto("/account/link/")
    client_page.get_by_label("Customer Number or Registration ID").fill(acme.company.customer_number)
    client_page.get_by_label("Email Address").fill("jean@kettle.test")
    client_page.get_by_role("button", name="Submit").click()
    expect(client_page.get_by_role("status")).to_contain_text("the accountant who manages Copper Kettle Ltd")

    # The practice's admin opens the email's Approve link, reads what approving does, and confirms.
    approval = last_email("helen@hartley.test", "access-request-approval")
    sign_in(page, "helen@hartley.test", PASSWORD)
    page.goto(approval.context["request_path"] + "?decision=approve")
    expect(page.get_by_role("main")).to_contain_text("becomes its Subscription Owner with their own login")
    screenshot("lifecycle-request-approve-confirm")
    page.get_by_role("button", name="Approve").click()

    # Straight to the client: the status, the Manage menu and the list all say the client has access.
    panel = page.locator("#side-panel")
    expect(page.get_by_role("status")).to_contain_text("jean@kettle.test is now the Subscription Owner")
    expect(panel.locator(".status-line")).to_contain_text("My company and client both have access")
    screenshot("lifecycle-request-approved")
    panel = open_manage(page, acme)
    expect(panel.get_by_role("link", name="Give client access")).to_have_count(0)
    expect(page.get_by_role("table").get_by_role("row", name=re.compile("Copper Kettle Ltd"))).to_contain_text(
        "My company and client both have access"
    )
    panel.get_by_role("link", name="Disable", exact=True).click()
    page.get_by_role("button", name="Yes").click()
    expect(page.locator("#side-panel .status-line")).to_contain_text("Client access disabled")

    # The new owner is told why they can't reach their company.
    client_page.goto(f"/companies/{acme.company.customer_number}/")
    expect(client_page.get_by_text("has disabled your access to this company.")).to_be_visible()
    expect_clean(console_messages)
    expect_clean(client_browser.console_messages, expected_statuses=(403,))  # type: ignore[attr-defined]
