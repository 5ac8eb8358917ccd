import pytest
from playwright.sync_api import expect

from e2e.conftest import console_errors, csp_violations
from partnerdesk.identity.tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_sign_in_shows_the_account_and_products_then_sign_out(page, live_server, console_messages, screenshot):
    user = UserFactory(full_name="Ada Lovelace")

    page.goto("/accounts/login/")
    screenshot("login")
    # Every field has a label a user (and get_by_label) can find.
    email = page.get_by_label("Email")
    password = page.get_by_label("Password")
    expect(email).to_be_visible()
    expect(password).to_be_visible()
    expect(page.get_by_label("Remember Me")).to_be_visible()
    for field in (email, password):
        label = page.locator(f"label[for='{field.get_attribute('id')}']")
        expect(label).to_be_visible()

    email.fill(user.email)
    password.fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url(f"{live_server.url}/")
    expect(page.get_by_role("banner")).to_contain_text("Signed in as Ada Lovelace")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Ada")
    products = page.get_by_role("navigation", name="Products")
    for label, slug in [
        ("Business Cloud Accounting", "accounting"),
        ("Payroll", "payroll"),
        ("Partner Edition", "partner"),
    ]:
        expect(products.get_by_role("link", name=label, exact=True)).to_have_attribute("href", f"/products/{slug}/")
    screenshot("home-signed-in")

    products.get_by_role("link", name="Payroll").click()
    expect(products.get_by_role("link", name="Payroll")).to_have_attribute("aria-current", "page")

    sign_out = page.get_by_role("button", name="Sign out")
    assert sign_out.evaluate("el => el.form !== null && el.form.method === 'post'")
    sign_out.click()
    expect(page.get_by_role("banner").get_by_role("link", name="Sign in")).to_be_visible()
    expect(page.get_by_text("Signed in as")).to_have_count(0)
    # Really signed out: the session no longer authenticates.
    page.goto("/")
    expect(page.get_by_role("link", name="Create account")).to_be_visible()

    assert csp_violations(console_messages) == []
    assert console_errors(console_messages) == []
