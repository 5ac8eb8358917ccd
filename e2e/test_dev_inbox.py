import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from e2e.conftest import console_errors, csp_violations
from partnerdesk.notifications.models import DevMail

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def mails(settings):
    settings.DEV_INBOX_ENABLED = True
    now = timezone.now()
    older = DevMail.objects.create(
        received_at=now - dt.timedelta(hours=2),
        from_email="Partnerdesk <no-reply@partnerdesk.test>",
        to=["old@example.test"],
        subject="Older message",
        body_text="This one was sent first.",
    )
    newer = DevMail.objects.create(
        received_at=now - dt.timedelta(minutes=5),
        from_email="Partnerdesk <no-reply@partnerdesk.test>",
        to=["new@example.test"],
        subject="Your sign-in code",
        body_text="Your code is 123456.\nIt expires in 15 minutes: https://partnerdesk.test/accounts/code/",
    )
    return newer, older


def _rows(page):
    return page.get_by_role("table").locator("tbody tr")


def test_inbox_lists_newest_first_and_opens_a_message_in_the_side_panel(
    page, live_server, mails, console_messages, screenshot
):
    newer, older = mails
    page.goto("/dev/mail/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Developer inbox")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Developer inbox")).to_have_attribute(
        "aria-current", "page"
    )
    rows = _rows(page)
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Your sign-in code")
    expect(rows.nth(0)).to_contain_text("new@example.test")
    expect(rows.nth(1)).to_contain_text("Older message")
    # Without JavaScript the subject is still a real link to the message's own URL.
    expect(rows.nth(1).get_by_role("link")).to_have_attribute("href", f"/dev/mail/{older.pk}/")
    panel = page.locator("#side-panel")
    expect(panel).to_be_hidden()  # empty, so display: none

    # The click is handled by htmx: a fragment request, no full page load.
    page.evaluate("window.__sameDocument = true")
    with page.expect_request(f"{live_server.url}/dev/mail/{newer.pk}/") as request_info:
        rows.nth(0).get_by_role("link", name="Your sign-in code").click()
    assert request_info.value.headers.get("hx-request") == "true"
    expect(panel).to_be_visible()
    expect(panel.get_by_role("heading", name="Your sign-in code")).to_be_visible()
    expect(panel.locator(".mail-body")).to_contain_text("Your code is 123456.")
    expect(panel.get_by_role("link", name="https://partnerdesk.test/accounts/code/")).to_be_visible()  # urlize
    expect(panel).to_contain_text("new@example.test")
    expect(page).to_have_url(f"{live_server.url}/dev/mail/{newer.pk}/")  # the panel's own URL (app.js)
    assert page.evaluate("window.__sameDocument") is True
    # app.js moves focus into the panel, to its heading (the subject is read out), and the title says it too.
    expect(panel.get_by_role("heading", name="Your sign-in code")).to_be_focused()
    expect(page).to_have_title("Your sign-in code · Developer inbox · Partnerdesk")
    # The list stays in place beside the panel.
    expect(rows).to_have_count(2)
    screenshot("dev-inbox-panel")

    # Reload: the server renders the list and the panel on its own.
    page.reload()
    assert page.evaluate("window.__sameDocument") is None
    expect(panel.get_by_role("heading", name="Your sign-in code")).to_be_visible()
    expect(_rows(page)).to_have_count(2)

    # Escape closes the panel and restores the list URL.
    page.keyboard.press("Escape")
    expect(page).to_have_url(f"{live_server.url}/dev/mail/")
    expect(panel).to_be_hidden()
    expect(page.get_by_role("heading", name="Your sign-in code")).to_have_count(0)
    expect(page).to_have_title("Developer inbox · Partnerdesk")

    assert csp_violations(console_messages) == []
    assert console_errors(console_messages) == []


def test_inbox_message_opens_from_the_keyboard(page, live_server, mails):
    newer, older = mails
    page.goto("/dev/mail/")
    target = page.get_by_role("link", name="Older message")
    for _ in range(30):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail("Tab never reached the 'Older message' link")
    expect(target).to_be_focused()

    page.keyboard.press("Enter")
    panel = page.locator("#side-panel")
    expect(panel.get_by_role("heading", name="Older message")).to_be_visible()
    expect(panel).to_contain_text("This one was sent first.")
    expect(panel).not_to_contain_text(newer.subject)
    expect(page).to_have_url(f"{live_server.url}/dev/mail/{older.pk}/")
    expect(panel.get_by_role("heading", name="Older message")).to_be_focused()

    # The close link is reachable from the panel with Tab and works with Enter.
    page.keyboard.press("Tab")
    close = panel.get_by_role("link", name="Close message")
    expect(close).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/dev/mail/")
    expect(panel).to_be_hidden()
    # Focus goes back to the link that opened the panel, so the keyboard user keeps their place.
    expect(target).to_be_focused()


def test_inbox_is_not_found_when_disabled(page, settings):
    settings.DEV_INBOX_ENABLED = False
    response = page.goto("/dev/mail/")
    assert response.status == 404
    page.goto("/")
    expect(page.get_by_role("link", name="Developer inbox")).to_have_count(0)
