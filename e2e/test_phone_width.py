"""At a phone's width (390x844) no page scrolls sideways: wide tables scroll inside their own box and the top
product nav wraps."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from e2e.conftest import SCREENSHOTS
from e2e.test_accessibility import violations
from e2e.test_portal_link import sign_in
from partnerdesk.identity.tests.factories import PASSWORD
from partnerdesk.practice.models import PracticeMember
from partnerdesk.practice.tests.staff_factories import add_member, make_client, make_practice

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def _scroll_width(page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def test_staff_page_and_client_list_fit_a_phone(phone):
    practice, admin = make_practice("Hartley & Moss", "helen@hartley.test")
    add_member(practice, "raj.patel.with.a.long.address@example.test", sees_all_clients=False)
    add_member(practice, "second.admin@example.test", role=PracticeMember.Role.ADMIN)
    for name in ("Alpha Bakery Limited", "Beta Joinery and Sons Limited", "Gamma Garage"):
        make_client(practice, name, contact_name="Ann Example", email=f"{name.split()[0].lower()}@example.test")
    sign_in(phone, admin.email, PASSWORD)
    SCREENSHOTS.mkdir(exist_ok=True)
    for path, name in (
        ("/partner/staff/", "phone-staff"),
        ("/partner/clients/", "phone-clients"),
        (f"/partner/staff/{practice.members.get(user__email__startswith='raj').pk}/clients/", "phone-assign"),
    ):
        phone.goto(path)
        phone.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        wide = phone.evaluate(
            "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 391"
            " && !(e.parentElement && e.parentElement.closest('.table-scroll'))).map(e => e.tagName + '.' + e.className + '#' + e.id + ' '"
            " + Math.round(e.getBoundingClientRect().right)).slice(0, 8)"
        )
        assert _scroll_width(phone) <= PHONE["width"], (path, _scroll_width(phone), wide)


def test_the_team_table_stacks_on_a_phone_and_is_a_table_on_a_desktop(browser, live_server, phone):
    """At 390 px each member is a card (name, then Email, Role, Can see, Actions under their labels) with nothing
    scrolling sideways in its box; at 1280 px it is a table. Staff see the same team, read-only."""
    practice, admin = make_practice("Hartley & Moss", "helen@hartley.test")
    raj = add_member(practice, "raj.patel.with.a.long.address@example.test", sees_all_clients=False)
    add_member(practice, "second.admin@example.test", role=PracticeMember.Role.ADMIN)
    SCREENSHOTS.mkdir(exist_ok=True)
    desktop_context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    desktop = desktop_context.new_page()
    try:
        for who, name in ((admin.email, "admin"), (raj.user.email, "staff")):
            phone.context.clear_cookies()
            sign_in(phone, who, PASSWORD)
            phone.goto("/partner/staff/")
            phone.screenshot(path=str(SCREENSHOTS / f"phone-team-{name}.png"), full_page=True)
            assert _scroll_width(phone) <= PHONE["width"]
            assert violations(phone, Axe()) == []  # the cards keep their labels, headers and contrast
            boxes = phone.evaluate(
                "[...document.querySelectorAll('.table-scroll')].map(b => b.scrollWidth - b.clientWidth)"
            )
            assert boxes
            assert all(extra <= 0 for extra in boxes), boxes  # nothing scrolls sideways inside its box either
            rows = phone.locator("#members-heading ~ .table-scroll tbody tr")
            assert rows.count() == 3
            assert rows.first.evaluate("tr => getComputedStyle(tr).display") == "block"
            label = phone.locator("td[data-label='Email']").first.evaluate(
                "td => getComputedStyle(td, '::before').content"
            )
            assert label == '"Email"'
            for i in range(rows.count()):  # a card is a few lines, not a column of broken words
                assert rows.nth(i).bounding_box()["height"] < 420, name  # type: ignore[index]

            desktop.context.clear_cookies()
            sign_in(desktop, who, PASSWORD)
            desktop.goto("/partner/staff/")
            desktop.screenshot(path=str(SCREENSHOTS / f"desktop-team-{name}.png"), full_page=True)
            header = desktop.locator("#members-heading ~ .table-scroll thead")
            assert header.evaluate("thead => getComputedStyle(thead).display") == "table-header-group"
            assert (
                desktop.locator("#members-heading ~ .table-scroll tbody tr").first.evaluate(
                    "tr => getComputedStyle(tr).display"
                )
                == "table-row"
            )
        # The staff member's view: no admin actions at either width.
        assert desktop.get_by_role("button", name="Change role").count() == 0
        assert phone.get_by_role("link", name="Remove").count() == 0
    finally:
        desktop_context.close()
