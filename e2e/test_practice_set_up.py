"""A new accountancy firm gets in: customer services sets up the practice in the back office, its first admin reads
the invitation in the developer inbox (/dev/mail/), creates an account from it and lands on the practice's empty
Partner Edition client list."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import Page, expect

from e2e.conftest import SCREENSHOTS, console_errors, csp_violations
from e2e.test_account_entrance import fill_sign_up
from e2e.test_back_office import PASSWORD, admin_sign_in
from partnerdesk.backoffice.services import customer_services_group
from partnerdesk.identity.models import User
from partnerdesk.notifications.models import OutboundEmail
from partnerdesk.notifications.tasks import deliver_email
from partnerdesk.practice.models import Practice, PracticeMember

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FIRM = "Fenwick Rowe Accountants LLP"
ADMIN = "jo.fenwick@fenwickrowe.test"
STRONG = "Quarterly-Returns-Filed-2026"


@pytest.fixture
def dev_inbox(settings):
    """Mail is delivered to the developer inbox, as under `make run` (DEBUG): the outbox's own task sends it."""
    settings.EMAIL_BACKEND = "partnerdesk.notifications.backends.DevInboxBackend"
    settings.DEV_INBOX_ENABLED = True


def deliver_outbox() -> None:
    """What the worker does after each commit: send every queued email (here, into /dev/mail/)."""
    for email_id in OutboundEmail.objects.filter(status=OutboundEmail.Status.QUEUED).values_list("id", flat=True):
        deliver_email.call(str(email_id))


def open_mail(page: Page, subject: str) -> str:
    """Open the newest developer-inbox message with this subject; returns its text."""
    page.goto("/dev/mail/")
    page.get_by_role("link", name=subject).first.click()
    body = page.locator(".mail-body")
    expect(body).to_be_visible()
    return body.inner_text()


def test_customer_services_sets_up_a_practice_and_its_admin_gets_in(browser, live_server, dev_inbox):
    customer_services_group()
    staff = User.objects.create_user(
        email="cs@partnerdesk.test", password=PASSWORD, is_staff=True, full_name="Customer Services"
    )
    staff.groups.add(Group.objects.get(name="Customer services"))
    messages: list[str] = []
    back_office = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    firm = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    try:
        cs = back_office.new_page()
        cs.on("console", lambda msg: messages.append(f"{msg.type}: {msg.text}"))
        admin_sign_in(cs, "cs@partnerdesk.test")
        cs.goto("/admin/practice/practice/")
        cs.get_by_role("link", name="Set up a practice").click()
        expect(cs.get_by_role("heading", level=1)).to_have_text("Set up a practice")
        cs.get_by_label("Business name").fill(FIRM)
        cs.get_by_label("Contact email").fill("hello@fenwickrowe.test")
        cs.get_by_label("First admin's email").fill(ADMIN)
        cs.get_by_label("Discount rate (%)").fill("150")
        cs.get_by_role("button", name="Set up the practice").click()
        expect(cs.locator(".errornote")).to_be_visible()
        expect(cs.locator(".field-discount_rate .errorlist")).to_contain_text("less than or equal to 100")
        expect(cs.get_by_label("Business name")).to_have_value(FIRM)
        cs.get_by_label("Discount rate (%)").fill("15")
        SCREENSHOTS.mkdir(exist_ok=True)
        cs.screenshot(path=str(SCREENSHOTS / "backoffice-set-up-practice.png"), full_page=True)
        cs.get_by_role("button", name="Set up the practice").click()
        practice = Practice.objects.get(name=FIRM)
        expect(cs.locator(".messagelist")).to_contain_text(
            f"{FIRM} is set up (Customer Number {practice.company.customer_number}). {ADMIN} has been invited"
        )
        expect(cs.locator(".field-discount_history")).to_contain_text("15.00% from")
        cs.screenshot(path=str(SCREENSHOTS / "backoffice-practice-set-up.png"), full_page=True)
        deliver_outbox()

        # The first admin reads the invitation in the inbox and follows its link.
        jo = firm.new_page()
        jo.on("console", lambda msg: messages.append(f"{msg.type}: {msg.text}"))
        text = open_mail(jo, f"Partnerdesk Customer Services invited you to join {FIRM} on Partnerdesk")
        assert f"invited you to join {FIRM} on Partnerdesk Partner Edition as admin" in text
        match = re.search(r"https?://\S+(/partner/invitations/pdi_[^/\s]+/)", text)
        assert match, text
        jo.goto(match.group(1))
        expect(jo.get_by_role("heading", level=1)).to_have_text(f"Join {FIRM}")
        jo.get_by_role("link", name="Create account").click()
        expect(jo.get_by_role("heading", level=1)).to_have_text("Create account")
        expect(jo.get_by_label("Email")).to_have_value(ADMIN)  # filled in from the invitation
        fill_sign_up(jo, email=ADMIN, password=STRONG, full_name="Jo Fenwick")
        jo.get_by_role("button", name="Sign up").click()
        expect(jo.get_by_label("Code")).to_be_visible()
        deliver_outbox()
        code_text = open_mail(jo, "Your Partnerdesk verification code")
        code = re.search(r"\b(\d{8})\b", code_text)
        assert code, code_text
        jo.goto("/accounts/confirm-email/")  # back from the inbox to the page that asked for the code
        jo.get_by_label("Code").fill(code.group(1))
        jo.get_by_role("button", name="Verify").click()
        expect(jo.get_by_role("heading", level=1)).to_have_text(f"Join {FIRM}")
        jo.get_by_role("button", name="Accept invitation").click()
        expect(jo.get_by_role("status")).to_contain_text(f"You have joined {FIRM}")
        expect(jo).to_have_url(f"{live_server.url}/partner/clients/")
        expect(jo.get_by_role("heading", name="You have no clients yet")).to_be_visible()
        expect(jo.get_by_role("navigation", name="Main").get_by_role("link", name="Staff")).to_be_visible()
        jo.screenshot(path=str(SCREENSHOTS / "practice-set-up-first-admin.png"), full_page=True)
        member = PracticeMember.objects.get(practice=practice)
        assert member.user.email == ADMIN
        assert member.role == PracticeMember.Role.ADMIN
        assert csp_violations(messages) == []
        assert console_errors(messages) == []
    finally:
        back_office.close()
        firm.close()
