"""Keyboard-only journeys in Chromium: where focus goes after a form comes back with errors or an action leaves a
message, and the client side panel (open with Enter, focus on the client's name, the title says it, Escape closes it
and gives focus back to the row's link, also after moving between the panel's tabs). A screen reader reads what has
focus; a message that was already on the page when it loaded is not read out otherwise."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import console_errors, csp_violations
from e2e.test_portal_link import sign_in
from partnerdesk.identity.tests.factories import PASSWORD, UserFactory
from partnerdesk.practice.models import Client
from partnerdesk.practice.tests.lifecycle_factories import managed_client
from partnerdesk.practice.tests.staff_factories import make_practice

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def practice_admin():
    practice, admin = make_practice()
    for name in ("Alpha Bakery", "Beta Joinery", "Gamma Garage"):
        managed_client(practice, name)
    return admin


def focused_description(page: Page) -> str:
    """The text of what the focused element's aria-describedby points at."""
    return page.evaluate(
        """() => (document.activeElement.getAttribute("aria-describedby") || "").split(" ").filter(Boolean)
            .map(id => document.getElementById(id).textContent.trim()).join(" | ")"""
    )


def test_sign_in_errors_take_the_focus(page, live_server, console_messages):
    UserFactory(email="ann@example.test")
    page.goto("/accounts/login/")
    page.get_by_label("Password").press("Enter")  # nothing typed
    email = page.get_by_label("Email")
    expect(email).to_be_focused()  # the first field in error, not the top of the page
    expect(email).to_have_attribute("aria-invalid", "true")
    assert focused_description(page) == "This field is required."

    page.get_by_label("Email").fill("ann@example.test")
    page.get_by_label("Password").fill("not the password")
    page.get_by_label("Password").press("Enter")
    # A form-wide error: its box (role=alert) has focus, so it is read out.
    box = page.locator(".form-errors")
    expect(box).to_be_focused()
    expect(box).to_have_text("The email address and/or password you specified are not correct.")
    assert csp_violations(console_messages) == []
    assert console_errors(console_messages) == []


def test_add_client_errors_focus_the_first_field_in_error(page, live_server, practice_admin, console_messages):
    sign_in(page, practice_admin.email, PASSWORD)
    page.goto("/partner/clients/add/")
    page.get_by_label("Email").fill("bad@")
    page.get_by_label("VAT number").fill("X")
    page.get_by_label("VAT number").press("Enter")
    name = page.get_by_label("Business name")
    expect(name).to_be_focused()
    assert focused_description(page) == "This field is required."
    page.keyboard.press("Tab")  # on to the next field in error: its error is in its description too
    page.keyboard.press("Tab")
    expect(page.get_by_label("Email")).to_be_focused()
    assert focused_description(page).endswith("Enter a valid email address.")
    assert console_errors(console_messages) == []


def test_the_focus_ring_shows_on_white_and_on_the_green_header(page, live_server, practice_admin):
    sign_in(page, practice_admin.email, PASSWORD)
    page.goto("/partner/clients/")
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")  # the brand, on the green header
    ring = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement); return [s.outlineColor, s.boxShadow]; }"
    )
    # Yellow (3.8:1 on the green) around a dark ring (16:1 on white): 3:1 or more wherever it lands.
    assert ring[0] == "rgb(255, 191, 71)"
    assert "rgb(27, 31, 36)" in ring[1]


def test_an_action_message_takes_the_focus(page, live_server, practice_admin):
    sign_in(page, practice_admin.email, PASSWORD)
    page.goto("/partner/clients/")
    menu = page.get_by_text("Show/Hide", exact=True)
    menu.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Hide selected")).to_be_focused()
    page.keyboard.press("Enter")  # nothing selected
    messages = page.locator("main .messages")
    expect(messages).to_be_focused()
    expect(messages).to_have_text("Select one or more clients first.")


def test_side_panel_from_the_keyboard(page, live_server, practice_admin, console_messages, screenshot):
    sign_in(page, practice_admin.email, PASSWORD)
    page.goto("/partner/clients/?q=Beta")
    beta = Client.objects.get(business_name="Beta Joinery")
    row_link = page.get_by_role("table").get_by_role("link", name="Beta Joinery")
    row_link.focus()
    page.keyboard.press("Enter")
    panel = page.locator("#side-panel")
    heading = panel.get_by_role("heading", name="Beta Joinery")
    expect(heading).to_be_focused()  # its name is read out, not "Details, complementary"
    expect(page).to_have_title("Beta Joinery · Clients · Partnerdesk")
    expect(page).to_have_url(re.compile(rf"/partner/clients/{beta.pk}/\?"))
    page.keyboard.press("Tab")
    expect(panel.get_by_role("link", name="Close client")).to_be_focused()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(row_link).to_be_focused()  # back where the person was
    expect(page).to_have_title("Clients · Partnerdesk")

    # Manage -> Details -> Save with an error: focus on the field in error, then on "Details saved."
    page.keyboard.press("Enter")
    expect(heading).to_be_focused()
    panel.get_by_role("link", name="Manage", exact=True).focus()
    page.keyboard.press("Enter")
    details = panel.get_by_role("link", name="Details", exact=True)
    expect(details).to_be_visible()
    expect(heading).to_be_focused()
    details.focus()
    page.keyboard.press("Enter")
    name = panel.get_by_label("Business name")
    expect(name).to_be_focused()
    name.fill("")
    panel.get_by_role("button", name="Save").focus()
    page.keyboard.press("Enter")
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_be_focused()
    expect(panel.locator("label[for=id_business_name]")).to_be_in_viewport()  # scrolled in with its label
    assert focused_description(page) == "This field is required."
    page.keyboard.type("Beta Joinery Ltd")
    page.keyboard.press("Enter")
    saved = panel.locator(".messages")
    expect(saved).to_have_text("Details saved.")
    expect(saved).to_be_focused()

    # History, then Escape: focus still goes back to the row's link (not lost with the panel's own links).
    panel.get_by_role("link", name="History").focus()
    page.keyboard.press("Enter")
    expect(panel.get_by_role("table")).to_contain_text("Client details amended")
    expect(panel.get_by_role("heading", name="Beta Joinery Ltd")).to_be_focused()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(row_link).to_be_focused()

    # Escape closes an open Show/Hide menu first, not the panel behind it.
    page.keyboard.press("Enter")
    expect(panel.get_by_role("heading", name="Beta Joinery Ltd")).to_be_focused()
    show_hide = page.get_by_text("Show/Hide", exact=True)
    show_hide.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Hide selected")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("button", name="Hide selected")).to_be_hidden()
    expect(show_hide).to_be_focused()
    expect(panel.get_by_role("heading", name="Beta Joinery Ltd")).to_be_visible()
    # Last: Playwright's screenshot leaves empty style attributes on inputs, which htmx's settle would then copy
    # (a CSP report that is the test's doing, not the page's).
    screenshot("keyboard-panel")

    assert csp_violations(console_messages) == []
    assert console_errors(console_messages) == []


def test_a_panel_that_came_with_the_page_gives_focus_to_its_row_when_closed(page, live_server, practice_admin):
    sign_in(page, practice_admin.email, PASSWORD)
    gamma = Client.objects.get(business_name="Gamma Garage")
    page.goto(f"/partner/clients/{gamma.pk}/")
    expect(page).to_have_title("Gamma Garage · Clients · Partnerdesk")
    page.keyboard.press("Escape")
    expect(page.locator("#side-panel")).to_be_hidden()
    expect(page.get_by_role("table").get_by_role("link", name="Gamma Garage")).to_be_focused()
    expect(page).to_have_title("Clients · Partnerdesk")


def test_stop_managing_mistyped_name_takes_the_focus(page, live_server, practice_admin):
    sign_in(page, practice_admin.email, PASSWORD)
    alpha = Client.objects.get(business_name="Alpha Bakery")
    page.goto(f"/partner/clients/{alpha.pk}/stop/")
    page.get_by_label("Delete this data and cancel the subscription").check()
    confirm = page.get_by_label("To delete, type the business name (Alpha Bakery)")
    confirm.fill("Alpha")
    confirm.press("Enter")
    confirm = page.get_by_label("To delete, type the business name (Alpha Bakery)")
    expect(confirm).to_be_focused()
    assert focused_description(page) == (
        "Deleting cannot be undone: the client's bookkeeping data is erased. | Type Alpha Bakery exactly to confirm."
    )
    assert Client.objects.filter(pk=alpha.pk).exists()
