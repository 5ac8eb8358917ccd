import pytest
from playwright.sync_api import expect

from e2e.conftest import console_errors, csp_violations

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_anonymous_home_offers_sign_in_and_sign_up(page, console_messages, screenshot):
    page.goto("/")

    expect(page).to_have_title("Home · Partnerdesk")
    expect(page.get_by_role("heading", level=1)).to_have_text("Partnerdesk")
    main = page.get_by_role("main")
    expect(main.get_by_role("link", name="Sign in")).to_have_attribute("href", "/signin/")
    expect(main.get_by_role("link", name="Create account")).to_have_attribute("href", "/accounts/signup/")
    expect(page.get_by_role("banner").get_by_role("link", name="Sign in")).to_be_visible()
    # Signed-out visitors get no product switcher.
    expect(page.get_by_role("navigation", name="Products")).to_have_count(0)
    # The stylesheet really applied (a missing CSS file would leave the header unstyled).
    header_bg = page.locator("header.site-header").evaluate("el => getComputedStyle(el).backgroundColor")
    assert header_bg == "rgb(0, 112, 60)"

    screenshot("home-anonymous")
    assert csp_violations(console_messages) == []
    assert console_errors(console_messages) == []


def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(page):
    page.goto("/")
    skip = page.get_by_role("link", name="Skip to main content")
    # Off screen until focused.
    assert skip.bounding_box()["x"] < 0

    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box["x"] >= 0
    assert box["y"] >= 0

    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    assert page.url.endswith("/#main")
    # The next Tab continues from inside main, not from the top of the page.
    page.keyboard.press("Tab")
    focused_in_main = page.evaluate("() => document.querySelector('main').contains(document.activeElement)")
    assert focused_in_main
