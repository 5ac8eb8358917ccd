"""The Partner Edition client list in Chromium (issue 5): find a client, open the side panel, amend details,
hide two clients and bring them back through Filters."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from e2e.conftest import console_errors, csp_violations
from e2e.test_portal_link import sign_in
from partnerdesk.identity.services import company_create
from partnerdesk.identity.tests.factories import PASSWORD, UserFactory
from partnerdesk.practice.models import Client, Practice, PracticeMember

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def practice_admin():
    practice = Practice.objects.create(company=company_create(business_name="Hartley LLP"), name="Hartley LLP")
    admin = UserFactory(email="helen@hartley.test", full_name="Helen Hartley")
    PracticeMember.objects.create(practice=practice, user=admin, role="admin")
    for name, contact in [
        ("Alpha Bakery", "Ann"),
        ("Beta Joinery", "Bob"),
        ("Gamma Garage", "Gus"),
        ("Delta Deli", "Dee"),
    ]:
        Client.objects.create(
            practice=practice, company=company_create(business_name=name), business_name=name, contact_name=contact
        )
    return admin


def test_find_open_amend_hide_and_unhide(page, live_server, practice_admin, console_messages, screenshot):
    sign_in(page, practice_admin.email, PASSWORD)
    page.goto("/partner/clients/")
    table = page.get_by_role("table")
    expect(table.get_by_role("row")).to_have_count(5)

    # Find a client.
    page.get_by_label("Search").fill("joinery")
    page.get_by_role("button", name="Search").click()
    expect(table.get_by_role("row")).to_have_count(2)
    expect(page).to_have_url(re.compile(r"/partner/clients/\?tab=active&sort=name&q=joinery"))  # kept in the URL

    # Open the side panel (htmx, with a real URL).
    table.get_by_role("link", name="Beta Joinery").click()
    panel = page.locator("#side-panel")
    expect(panel.get_by_role("heading", name="Beta Joinery")).to_be_visible()
    beta = Client.objects.get(business_name="Beta Joinery")
    expect(page).to_have_url(re.compile(rf"/partner/clients/{beta.pk}/\?tab=active&sort=name&q=joinery"))

    # Manage -> amend details -> Save.
    panel.get_by_role("link", name="Manage", exact=True).click()
    expect(panel.get_by_label("Business name")).to_have_value("Beta Joinery")
    panel.get_by_label("VAT number").fill("12345")
    panel.get_by_role("button", name="Save").click()
    expect(panel.locator("#id_vat_number_error")).to_contain_text("UK VAT number")
    panel.get_by_label("VAT number").fill("GB123456789")
    panel.get_by_label("Phone").fill("0113 496 0000")
    panel.get_by_role("button", name="Save").click()
    expect(panel.get_by_role("status")).to_contain_text("Details saved.")
    screenshot("practice-client-panel")
    client = Client.objects.get(business_name="Beta Joinery")
    assert (client.vat_number, client.phone, client.version) == ("GB123456789", "0113 496 0000", 2)
    panel.get_by_role("link", name="History").click()
    expect(panel.get_by_role("table")).to_contain_text("Client details amended")

    # Hide two clients, then bring them back through Filters.
    page.goto("/partner/clients/")
    page.get_by_label("Select Alpha Bakery").check()
    page.get_by_label("Select Gamma Garage").check()
    show_hide = page.get_by_text("Show/Hide", exact=True)  # the seed's word for the menu
    show_hide.click()
    expect(page.get_by_role("button", name="Hide selected")).to_be_visible()
    page.keyboard.press("Escape")  # closes it, focus back on the menu button
    expect(page.get_by_role("button", name="Hide selected")).to_be_hidden()
    expect(show_hide).to_be_focused()
    show_hide.click()
    page.get_by_role("button", name="Hide selected").click()
    expect(page.get_by_role("status")).to_contain_text("2 clients hidden.")
    expect(page.get_by_role("table").get_by_role("row")).to_have_count(3)
    page.get_by_text("Filters", exact=True).click()
    page.get_by_label("Show hidden clients").check()
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("table").get_by_role("row")).to_have_count(5)
    screenshot("practice-client-list-hidden")
    page.get_by_label("Select Alpha Bakery").check()
    page.get_by_label("Select Gamma Garage").check()
    page.get_by_text("Show/Hide", exact=True).click()
    page.get_by_role("button", name="Show selected").click()
    expect(page.get_by_role("status")).to_contain_text("2 clients shown again.")
    assert Client.objects.filter(hidden=True).count() == 0

    assert csp_violations(console_messages) == []
    assert console_errors(console_messages) == []


def test_panel_opened_from_far_down_the_list_is_in_view(page, live_server, practice_admin, console_messages):
    practice = PracticeMember.objects.get(user=practice_admin).practice
    for i in range(40):
        name = f"Zulu Traders {i:02d}"
        Client.objects.create(practice=practice, company=company_create(business_name=name), business_name=name)
    sign_in(page, practice_admin.email, PASSWORD)
    page.goto("/partner/clients/")
    table = page.get_by_role("table")
    table.get_by_role("link", name="Zulu Traders 39").click()  # the last row, well below the first screen
    panel = page.locator("#side-panel")
    heading = panel.get_by_role("heading", name="Zulu Traders 39")
    expect(heading).to_be_in_viewport()
    last = Client.objects.get(business_name="Zulu Traders 39")
    expect(page).to_have_url(re.compile(rf"/partner/clients/{last.pk}/$"))  # no stray "?" without a query
    page.mouse.wheel(0, -5000)  # back up the list: the panel stays beside it
    expect(heading).to_be_in_viewport()
    assert console_errors(console_messages) == []


def test_two_tabs_amending_the_same_client(browser, page, live_server, practice_admin, console_messages, screenshot):
    """The second tab's Save is refused, with the message in view, and stays refused until it loads the latest
    details (pressing Save again used to overwrite the first tab's change)."""
    sign_in(page, practice_admin.email, PASSWORD)
    alpha = Client.objects.get(business_name="Alpha Bakery")
    second = page.context.new_page()
    for tab in (page, second):
        tab.set_viewport_size({"width": 1280, "height": 600})
        tab.goto(f"/partner/clients/{alpha.pk}/?panel=details")
    page.locator("#side-panel").get_by_label("Phone").fill("01234 333333")
    page.locator("#side-panel").get_by_role("button", name="Save").click()
    expect(page.locator("#side-panel").get_by_role("status")).to_contain_text("Details saved.")

    panel = second.locator("#side-panel")
    panel.get_by_label("Postcode").fill("AB1 2CD")
    panel.get_by_role("button", name="Save").click()
    refusal = panel.get_by_role("alert")
    expect(refusal).to_contain_text("Someone else changed this client's details")
    expect(refusal).to_be_in_viewport()
    screenshot("practice-client-details-stale")
    panel.get_by_role("button", name="Save").click()  # again, without loading
    expect(panel.get_by_role("alert")).to_contain_text("Someone else changed this client's details")
    alpha.refresh_from_db()
    assert (alpha.phone, alpha.postcode, alpha.version) == ("01234 333333", "", 2)

    panel.get_by_role("link", name="Load the latest details").click()
    expect(panel.get_by_label("Phone")).to_have_value("01234 333333")
    panel.get_by_label("Postcode").fill("AB1 2CD")
    panel.get_by_role("button", name="Save").click()
    expect(panel.get_by_role("status")).to_contain_text("Details saved.")
    alpha.refresh_from_db()
    assert (alpha.phone, alpha.postcode, alpha.version) == ("01234 333333", "AB1 2CD", 3)
    assert csp_violations(console_messages) == []


def test_the_spec_steps_select_a_row_hover_over_manage_select_details(
    page, live_server, practice_admin, console_messages
):
    """ "Select the client you'd like to amend from the list (this will open the side panel). Hover over Manage.
    Select the Details tab. Enter details as required. Select Save." (the seed's steps, literally)."""
    sign_in(page, practice_admin.email, PASSWORD)
    page.goto("/partner/clients/")
    table = page.get_by_role("table")
    table.get_by_role("row", name=re.compile("Gamma Garage")).get_by_role("cell", name="Gus").click()  # not the link
    panel = page.locator("#side-panel")
    expect(panel.get_by_role("heading", name="Gamma Garage")).to_be_visible()
    expect(page.get_by_label("Select Gamma Garage")).not_to_be_checked()  # the row opened, it wasn't ticked

    panel.get_by_role("link", name="Manage", exact=True).hover()
    expect(panel.get_by_role("list", name="Manage Gamma Garage")).to_be_visible()  # hovering is enough
    panel.get_by_role("link", name="Details", exact=True).click()
    expect(panel.get_by_label("Business name")).to_be_focused()
    panel.get_by_label("Contact name").fill("Gus Grant")
    page.wait_for_timeout(800)  # a hover still pending must not reload the panel over what was typed
    expect(panel.get_by_label("Contact name")).to_have_value("Gus Grant")
    panel.get_by_role("button", name="Save").click()
    expect(panel.get_by_role("status")).to_contain_text("Details saved.")
    assert Client.objects.get(business_name="Gamma Garage").contact_name == "Gus Grant"

    # Clicking a row's checkbox ticks it and opens nothing.
    page.get_by_label("Select Delta Deli").check()
    expect(panel.get_by_role("heading", name="Delta Deli")).to_have_count(0)
    assert console_errors(console_messages) == []


def test_closing_the_panel_keeps_the_lists_search_sort_filters_and_page(
    page, live_server, practice_admin, console_messages
):
    """A client opened from a searched, sorted, filtered second page: Close, Escape (also after Manage and History)
    and Back leave that list in the address, not just its tab, and nothing reloads it; the panel's own URL, reloaded,
    shows the same list beside it."""
    practice = PracticeMember.objects.get(user=practice_admin).practice
    for i in range(55):
        name = f"Baker {i:02d} Ltd"
        Client.objects.create(
            practice=practice, company=company_create(business_name=name), business_name=name, access="invited"
        )
    last = Client.objects.get(business_name="Baker 00 Ltd")  # by name, descending: on page 2
    for tab in ("pending", "imported"):
        name = f"Baker {tab.capitalize()} Ltd"
        Client.objects.create(
            practice=practice, company=company_create(business_name=name), business_name=name, tab=tab
        )
    sign_in(page, practice_admin.email, PASSWORD)
    state = "tab=active&q=bak&sort=name&dir=desc&access=invited&page=2"
    list_url = f"{live_server.url}/partner/clients/?{state}"
    panel_url = f"{live_server.url}/partner/clients/{last.pk}/?{state}"
    page.goto(list_url)
    caption = page.locator("table caption")
    expect(caption).to_have_text("Active clients, page 2 of 2")
    loads = []  # every request for a whole page (a reload of the list would be one)
    page.on("request", lambda request: loads.append(request.url) if request.resource_type == "document" else None)
    page.evaluate("window.__sameDocument = true")
    table = page.get_by_role("table")
    row_link = table.get_by_role("link", name="Baker 00 Ltd")
    panel = page.locator("#side-panel")
    heading = panel.get_by_role("heading", name="Baker 00 Ltd")

    row_link.click()
    expect(heading).to_be_visible()
    expect(page).to_have_url(panel_url)
    panel.get_by_role("link", name="Close client").click()
    expect(panel).to_be_hidden()
    expect(page).to_have_url(list_url)
    expect(caption).to_have_text("Active clients, page 2 of 2")
    expect(row_link).to_be_focused()

    # Manage, then History (the address follows the panel's tab), then Escape.
    row_link.click()
    panel.get_by_role("link", name="Manage", exact=True).click()
    expect(panel.get_by_label("Business name")).to_have_value("Baker 00 Ltd")
    expect(page).to_have_url(f"{panel_url}&panel=details")
    panel.get_by_role("link", name="History").click()
    expect(panel).to_contain_text("No history yet.")
    expect(page).to_have_url(f"{panel_url}&panel=history")
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(page).to_have_url(list_url)
    expect(row_link).to_be_focused()

    # Back opens the panel as it was; Back again closes it, onto the same list; Forward opens it again.
    page.go_back()
    expect(page).to_have_url(f"{panel_url}&panel=history")
    expect(panel).to_contain_text("No history yet.")
    page.go_back()
    expect(page).to_have_url(list_url)
    expect(panel).to_be_hidden()
    expect(row_link).to_be_focused()
    page.go_back()
    expect(page).to_have_url(panel_url)
    expect(heading).to_be_visible()
    page.go_back()
    expect(page).to_have_url(list_url)
    expect(panel).to_be_hidden()
    page.go_forward()
    expect(page).to_have_url(panel_url)
    expect(heading).to_be_visible()
    expect(caption).to_have_text("Active clients, page 2 of 2")
    assert loads == []  # the list was never loaded again
    assert page.evaluate("window.__sameDocument") is True

    # The panel's URL reloaded (or shared): the same list, page 2, beside the panel; its Close keeps it.
    page.reload()
    expect(heading).to_be_visible()
    expect(caption).to_have_text("Active clients, page 2 of 2")
    expect(table.get_by_role("link", name="Baker 54 Ltd")).to_have_count(0)
    expect(
        page.get_by_role("navigation", name="Client tabs").get_by_role("link", name=re.compile("^Active"))
    ).to_have_attribute("aria-current", "page")
    page.keyboard.press("Escape")
    expect(page).to_have_url(list_url)
    expect(row_link).to_be_focused()

    # Back from another page onto a panel opened in place: the whole page again, not the panel's fragment alone
    # (the browser kept htmx's response for that URL before it said Vary: HX-Request).
    row_link.click()
    expect(page).to_have_url(panel_url)
    page.goto("/partner/staff/")
    page.go_back()
    expect(page).to_have_url(panel_url)
    expect(heading).to_be_visible()
    expect(caption).to_have_text("Active clients, page 2 of 2")

    # The same on the Pending and Imported tabs.
    for tab in ("pending", "imported"):
        name = f"Baker {tab.capitalize()} Ltd"
        client = Client.objects.get(business_name=name)
        tab_list = f"{live_server.url}/partner/clients/?tab={tab}&q=bak&sort=contact&dir=desc"
        page.goto(tab_list)
        page.get_by_role("table").get_by_role("link", name=name).click()
        expect(panel.get_by_role("heading", name=name)).to_be_visible()
        expect(page).to_have_url(
            f"{live_server.url}/partner/clients/{client.pk}/?tab={tab}&q=bak&sort=contact&dir=desc"
        )
        page.keyboard.press("Escape")
        expect(page).to_have_url(tab_list)
        page.go_back()
        expect(panel.get_by_role("heading", name=name)).to_be_visible()
        page.reload()
        expect(page.locator("table caption")).to_have_text(f"{tab.capitalize()} clients, page 1 of 1")
        panel.get_by_role("link", name="Close client").click()
        expect(page).to_have_url(tab_list)

    assert csp_violations(console_messages) == []
    assert console_errors(console_messages) == []
