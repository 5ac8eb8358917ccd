"""Account journeys in Chromium (issue 3): sign in to a product, Create account with the emailed code, an existing
address on Create account, Forgot Password. Fields are filled by their labels; codes and links are read from the
outbox rows the adapter queues (the worker is not needed to see what would be sent)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from allauth.core.internal import ratelimit as allauth_ratelimit
from django.core.cache import cache
from playwright.sync_api import Page, expect

from e2e.conftest import console_errors, csp_violations
from partnerdesk.identity.models import User
from partnerdesk.identity.tests.factories import PASSWORD, UserFactory
from partnerdesk.notifications.models import OutboundEmail

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "a quiet harbour at dawn"


@pytest.fixture(autouse=True)
def _no_rate_limit_history():
    """allauth's rate-limit counters live in the shared (database) cache: each journey starts with none."""
    cache.clear()
    yield
    cache.clear()


def last_email(to: str, template: str) -> OutboundEmail:
    rows = [m for m in OutboundEmail.objects.filter(template=template).order_by("created_at") if to in m.to]
    assert rows, f"no {template} email queued to {to}"
    return rows[-1]


def age_code_sends(email: str, seconds: float) -> None:
    """The server's side of time passing: allauth's record of the codes sent to ``email`` (its one-a-minute limit,
    in the shared cache) is made ``seconds`` older."""
    for rate in allauth_ratelimit.get_rates(app="allauth.account", action="confirm_email"):
        key = allauth_ratelimit.get_cache_key(
            None,  # type: ignore[arg-type]  # not read for a per-address limit
            app="allauth.account",
            action="confirm_email",
            rate=rate,
            key=email.lower(),
        )
        cache.set(key, [sent - seconds for sent in cache.get(key, [])], rate.duration)


def emails_to(to: str) -> list[OutboundEmail]:
    return [m for m in OutboundEmail.objects.order_by("created_at") if to in m.to]


def expect_clean_console(messages: list[str]) -> None:
    assert csp_violations(messages) == []
    assert console_errors(messages) == []


def fill_sign_up(page: Page, *, email: str, password: str, full_name: str) -> None:
    # The seed's order: email, password typed twice, full name.
    labels = page.locator("form.account-form label").all_inner_texts()
    assert labels == ["Email", "Password", "Password (again)", "Full name"]
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Password (again)").fill(password)
    page.get_by_label("Full name").fill(full_name)


def test_sign_in_to_payroll_from_the_portal_chooser(page, live_server, console_messages, screenshot):
    user = UserFactory(full_name="Ada Lovelace")

    page.goto("/signin/")
    page.get_by_label("Portal").select_option(label="Accounting Portal")
    page.get_by_label("Product").select_option(label="Payroll")
    screenshot("account-signin-chooser")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.get_by_text("Signing in to Payroll")).to_be_visible()
    expect(page.get_by_role("link", name="Forgot Password")).to_have_attribute("href", "/accounts/password/reset/")
    expect(page.get_by_role("link", name="Create account")).to_be_visible()
    # No placeholder repeats a label; every input has a visible label of its own.
    assert page.locator("main input[placeholder]").count() == 0
    for field in page.locator("main input:not([type=hidden])").all():
        expect(page.locator(f"label[for='{field.get_attribute('id')}']")).to_be_visible()
    screenshot("account-sign-in")

    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill("not the password at all")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_label("Email")).to_have_value(user.email)  # kept
    expect(page.get_by_label("Password")).to_have_value("")  # never echoed back
    screenshot("account-sign-in-error")

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/products/payroll/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Payroll")
    expect(page.get_by_role("banner")).to_contain_text("Signed in as Ada Lovelace")
    expect_clean_console(console_messages)


def test_create_account_verify_the_code_and_link_later(page, live_server, console_messages, screenshot):
    email = "nia.evans@example.test"
    page.clock.install()  # the page's clock, moved on below with the server's

    page.goto("/signin/")
    page.get_by_role("link", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Create account")
    assert page.locator("main input[placeholder]").count() == 0

    # A weak password gets its own message and the form keeps what was typed (except passwords).
    fill_sign_up(page, email=email, password="password1234", full_name="Nia Evans")
    page.get_by_role("button", name="Sign up").click()
    password = page.get_by_label("Password", exact=True)
    expect(page.locator("#id_password1_error")).to_have_text("This password is too common.")
    expect(password).to_have_attribute("aria-invalid", "true")
    assert "id_password1_error" in (password.get_attribute("aria-describedby") or "")
    expect(page.get_by_label("Email")).to_have_value(email)
    expect(page.get_by_label("Full name")).to_have_value("Nia Evans")
    expect(password).to_have_value("")
    screenshot("account-sign-up-error")

    password.fill(NEW_PASSWORD)
    expect(page.locator(".password-meter")).to_be_visible()
    page.get_by_label("Password (again)").fill(NEW_PASSWORD)
    screenshot("account-sign-up")
    page.get_by_role("button", name="Sign up").click()

    page.wait_for_url(f"{live_server.url}/accounts/confirm-email/")
    expect(page.get_by_text(f"We sent a code to {email}")).to_be_visible()
    expect(page.get_by_role("button", name="Verify")).to_be_visible()
    # The cooldown: allauth sends one code a minute, so Resend code waits, and says how long.
    cooldown = page.locator("#resend-cooldown")
    expect(cooldown).to_be_visible()
    expect(cooldown).to_have_text(re.compile(r"^You can ask for a new code in (60|59) seconds\.$"))
    resend = page.get_by_role("button", name="Resend code")
    expect(resend).to_be_hidden()
    ready = page.locator("#resend-ready")
    expect(ready).to_have_attribute("aria-live", "polite")
    expect(ready).to_have_text("")
    screenshot("account-code")
    first_code = last_email(email, "account-email_confirmation_signup").context["code"]

    # 25 seconds on, a mistyped code shows the page again: the wait goes on from when the code was sent (it used
    # to start again from 60 on every showing of the page).
    age_code_sends(email, 25)
    page.clock.fast_forward(25_000)
    page.get_by_label("Code").fill(f"{(int(first_code) + 1) % 10**8:08d}")
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#id_code_error")).to_have_text("Incorrect code.")
    expect(cooldown).to_have_text(re.compile(r"^You can ask for a new code in 3[45] seconds\.$"))
    expect(resend).to_be_hidden()

    # The wait ends: the button shows and the live region says so, once (a screen reader reads it out).
    age_code_sends(email, 60)
    page.clock.fast_forward(36_000)
    expect(resend).to_be_visible()
    expect(cooldown).to_be_hidden()
    expect(ready).to_have_text("You can ask for a new code now.")
    resend.click()
    page.wait_for_url(f"{live_server.url}/accounts/confirm-email/")
    expect(page.locator(".messages")).to_contain_text(f"A code is on its way to {email}")
    expect(page.locator("#resend-cooldown")).to_have_text(re.compile(r"in (60|59) seconds"))
    expect(page.get_by_role("button", name="Resend code")).to_be_hidden()
    new_code = last_email(email, "account-email_confirmation_signup").context["code"]
    assert new_code != first_code

    # The old code stops working.
    page.get_by_label("Code").fill(first_code)
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#id_code_error")).to_have_text("Incorrect code.")
    screenshot("account-code-error")

    page.get_by_label("Code").fill(new_code)
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{live_server.url}/account/link/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Link your subscription")
    page.get_by_role("link", name="Do this later").click()
    page.wait_for_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Nia")
    expect(page.get_by_role("banner")).to_contain_text("Signed in as Nia Evans")
    assert User.objects.get(email=email).full_name == "Nia Evans"
    expect_clean_console(console_messages)


def test_existing_address_on_create_account_gets_the_same_code_screen(page, live_server, console_messages, screenshot):
    user = UserFactory(email="taken@example.test", full_name="Tom Price")

    page.goto("/accounts/signup/")
    fill_sign_up(page, email="Taken@Example.test", password=NEW_PASSWORD, full_name="Someone Else")
    page.get_by_role("button", name="Sign up").click()

    page.wait_for_url(f"{live_server.url}/accounts/confirm-email/")
    expect(page.get_by_text("We sent a code to taken@example.test")).to_be_visible()
    expect(page.get_by_label("Code")).to_be_visible()
    expect(page.get_by_role("button", name="Verify")).to_be_visible()
    expect(page.locator("#resend-cooldown")).to_be_visible()
    screenshot("account-code-existing-address")
    # The email says the address is already in use; no second account, no code.
    [message] = emails_to("taken@example.test")
    assert message.template == "account-account_already_exists"
    assert User.objects.filter(email__iexact="taken@example.test").count() == 1
    user.refresh_from_db()
    assert user.full_name == "Tom Price"

    # Whatever is typed signs nobody in.
    page.get_by_label("Code").fill("12345678")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("banner")).not_to_contain_text("Signed in as")
    expect_clean_console(console_messages)


def test_forgot_password_link_sets_a_new_password_that_signs_in(page, live_server, console_messages, screenshot):
    user = UserFactory(full_name="Grace Hopper")

    page.goto("/accounts/login/")
    page.get_by_role("link", name="Forgot Password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Forgot Password")
    page.get_by_label("Email").fill(user.email.upper())
    screenshot("account-forgot-password")
    page.get_by_role("button", name="Reset my password").click()

    page.wait_for_url(f"{live_server.url}/accounts/password/reset/done/")
    expect(page.get_by_text("If an account exists for that address, an email")).to_be_visible()
    screenshot("account-forgot-password-done")

    link = last_email(user.email, "account-password_reset_key").context["password_reset_url"]
    parts = urlsplit(link)
    page.goto(parts.path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password (again)").fill(NEW_PASSWORD)
    screenshot("account-new-password")
    page.get_by_role("button", name="Save new password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in with your new password")
    expect(page.get_by_text("Your password has been changed")).to_have_count(1)  # the banner, said once
    screenshot("account-new-password-done")

    # The link is single-use.
    page.goto(parts.path)
    expect(page.get_by_role("heading", level=1)).to_have_text("This link no longer works")
    expect(page.get_by_role("link", name="Ask for a new link")).to_be_visible()

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()  # the old password no longer works
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    expect(page.get_by_role("banner")).to_contain_text("Signed in as Grace Hopper")
    expect_clean_console(console_messages)
