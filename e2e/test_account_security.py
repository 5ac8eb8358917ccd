"""Security journeys in Chromium (issue 3, journey 5): change password, set up an authenticator app with recovery
codes, sign in with a TOTP code or a recovery code (once), list sessions and sign out the others."""

from __future__ import annotations

import base64
import hmac
import re
import struct
import time

import pytest
from django.core.cache import cache
from playwright.sync_api import Page, expect

from e2e.conftest import console_errors, csp_violations
from partnerdesk.identity.tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "a quiet harbour at dawn"
TOTP_PERIOD = 30


@pytest.fixture(autouse=True)
def _no_rate_limit_history():
    cache.clear()
    yield
    cache.clear()


def totp(secret: str, at: float | None = None) -> str:
    """RFC 6238: HMAC-SHA1 over the 30-second counter, dynamic truncation, 6 digits."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    counter = int((time.time() if at is None else at) // TOTP_PERIOD)
    digest = hmac.new(key, struct.pack(">Q", counter), "sha1").digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 10**6:06d}"


def fresh_totp(secret: str, used: set[str]) -> str:
    """A code not used before: allauth refuses a code replayed within its window, so wait for the next one.
    A code with under 5 seconds of its window left is not typed either (on a busy machine the window can close
    before the server checks it): wait for the next window."""
    if TOTP_PERIOD - time.time() % TOTP_PERIOD < 5:
        time.sleep(TOTP_PERIOD - time.time() % TOTP_PERIOD + 0.2)
    code = totp(secret)
    while code in used:
        time.sleep(TOTP_PERIOD - time.time() % TOTP_PERIOD + 0.2)
        code = totp(secret)
    used.add(code)
    return code


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_out(page: Page) -> None:
    page.get_by_role("banner").get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("banner").get_by_role("link", name="Sign in")).to_be_visible()


def test_change_password_asks_for_the_current_one(page, live_server, console_messages, screenshot):
    user = UserFactory(full_name="Ada Lovelace")
    sign_in(page, user.email, PASSWORD)
    page.wait_for_url(f"{live_server.url}/")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Security").click()
    page.get_by_role("link", name="Change password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change password")
    assert page.locator("main input[placeholder]").count() == 0

    page.get_by_label("Current password").fill("not my password")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password (again)").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#id_oldpassword_error")).to_be_visible()
    screenshot("account-change-password-error")

    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password (again)").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.locator(".messages")).to_contain_text("Your password has been changed.")

    sign_out(page)
    sign_in(page, user.email, NEW_PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    expect(page.get_by_role("banner")).to_contain_text("Signed in as Ada Lovelace")
    assert csp_violations(console_messages) == []
    assert console_errors(console_messages) == []


def test_authenticator_app_and_recovery_codes(page, live_server, console_messages, screenshot):
    user = UserFactory(full_name="Katherine Johnson")
    used: set[str] = set()
    sign_in(page, user.email, PASSWORD)
    page.wait_for_url(f"{live_server.url}/")

    page.goto("/account/security/")
    page.get_by_role("link", name="Set up").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-factor authentication")
    expect(page.get_by_role("row", name=re.compile(r"^Authenticator app"))).to_contain_text("Off")
    screenshot("account-mfa-index-off")
    page.get_by_role("link", name="Set up").click()

    # allauth asks for the password again before security settings change.
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it's you")
    assert page.locator("main input[placeholder]").count() == 0
    screenshot("account-reauthenticate")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Set up an authenticator app")
    expect(page.get_by_role("img", name="QR code")).to_be_visible()
    secret = page.get_by_label("Can't scan it? Type this setup key instead").input_value()
    assert len(secret) >= 16
    screenshot("account-totp-activate")

    page.get_by_label("Code from the app").fill("000000" if totp(secret) != "000000" else "111111")
    page.get_by_role("button", name="Turn on").click()
    expect(page.locator("#id_code_error")).to_be_visible()
    page.get_by_label("Code from the app").fill(fresh_totp(secret, used))
    page.get_by_role("button", name="Turn on").click()

    # Recovery codes are shown right after, with the advice to save them.
    expect(page.get_by_role("heading", level=1)).to_have_text("Recovery codes")
    codes = page.get_by_role("list", name="Your unused recovery codes").locator("code").all_inner_texts()
    assert len(codes) == 10
    expect(page.get_by_text("Save these codes now")).to_be_visible()
    screenshot("account-recovery-codes")

    page.goto("/accounts/2fa/")
    expect(page.get_by_role("row", name=re.compile(r"^Authenticator app"))).to_contain_text("On")
    expect(page.get_by_role("row", name=re.compile(r"^Recovery codes"))).to_contain_text("10 of 10 unused")
    screenshot("account-mfa-index-on")

    # Sign out; signing in again asks for the code.
    sign_out(page)
    sign_in(page, user.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your authentication code")
    expect(page.get_by_role("banner")).not_to_contain_text("Signed in as")
    screenshot("account-mfa-authenticate")
    page.get_by_label("Authentication code").fill(fresh_totp(secret, used))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{live_server.url}/")
    expect(page.get_by_role("banner")).to_contain_text("Signed in as Katherine Johnson")

    # A recovery code signs in once.
    sign_out(page)
    sign_in(page, user.email, PASSWORD)
    page.get_by_label("Authentication code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{live_server.url}/")
    expect(page.get_by_role("banner")).to_contain_text("Signed in as Katherine Johnson")

    sign_out(page)
    sign_in(page, user.email, PASSWORD)
    page.get_by_label("Authentication code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#id_code_error")).to_be_visible()
    screenshot("account-mfa-authenticate-error")
    page.get_by_label("Authentication code").fill(codes[1])
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto("/accounts/2fa/")
    expect(page.get_by_role("row", name=re.compile(r"^Recovery codes"))).to_contain_text("8 of 10 unused")
    assert csp_violations(console_messages) == []
    assert console_errors(console_messages) == []


def test_sessions_list_and_sign_out_other_sessions(browser, page, live_server, console_messages, screenshot):
    user = UserFactory(full_name="Mary Somerville")
    other = browser.new_context(
        base_url=live_server.url,
        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/18.0 Mobile/15E148 Safari/604.1",
    )
    try:
        other_page = other.new_page()
        sign_in(other_page, user.email, PASSWORD)
        other_page.wait_for_url(f"{live_server.url}/")

        sign_in(page, user.email, PASSWORD)
        page.wait_for_url(f"{live_server.url}/")
        page.goto("/account/security/")
        page.get_by_role("link", name="View sessions").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Signed-in devices")
        table = page.get_by_role("table")
        headers = table.locator("thead th").all_inner_texts()
        assert headers[:4] == ["Device", "IP address", "Signed in", "Last seen"]
        assert all(th.get_attribute("scope") for th in table.locator("th").all())
        rows = table.locator("tbody tr")
        expect(rows).to_have_count(2)
        expect(table.locator("tbody tr.current")).to_contain_text("This device")
        expect(table).to_contain_text("Safari on iPhone")  # named as people name it, not the raw string
        expect(table).to_contain_text("Chrome on Linux")
        expect(table).to_contain_text("127.0.0.1")
        screenshot("account-sessions")

        page.get_by_role("button", name="Sign out other sessions").click()
        expect(page.locator(".messages")).to_contain_text("You have signed out of all your other sessions.")
        expect(page.get_by_role("table").locator("tbody tr")).to_have_count(1)
        expect(page.get_by_text("This is your only session.")).to_be_visible()
        screenshot("account-sessions-after")

        # The other browser is signed out; this one is not.
        other_page.goto("/account/security/")
        expect(other_page).to_have_url(f"{live_server.url}/accounts/login/?next=/account/security/")
        page.goto("/account/security/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Security")
    finally:
        other.close()
    assert csp_violations(console_messages) == []
    assert console_errors(console_messages) == []
