"""The back office in the browser, as customer services (a staff user in the "Customer services" group) sees it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import Page, expect

from partnerdesk.backoffice.models import ChangeRequest
from partnerdesk.backoffice.services import customer_services_group
from partnerdesk.identity.models import CompanyMembership, User
from partnerdesk.identity.services import company_create
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.practice.models import Client, Practice

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct horse battery staple 7"


@pytest.fixture
def change_request():
    customer_services_group()
    staff = User.objects.create_user(
        email="cs@partnerdesk.test", password=PASSWORD, is_staff=True, full_name="Customer Services"
    )
    staff.groups.add(Group.objects.get(name="Customer services"))
    owner = UserFactory.create(email="owner@brightsparks.test")
    company = company_create(
        business_name="Bright Sparks Electrical Ltd", owner_email="owner@brightsparks.test", owner=owner
    )
    CompanyMembership.objects.create(user=owner, company=company, role="owner")
    practice = Practice.objects.create(
        company=company_create(business_name="Hartley & Moss Accountants"), name="Hartley & Moss Accountants"
    )
    client = Client.objects.create(practice=practice, company=company, business_name="Bright Sparks Electrical Ltd")
    return ChangeRequest.objects.create(
        client=client,
        business_name="Bright Sparks Electrical & Solar Ltd",
        client_email="owner@brightsparks.test",
        practice_name="Hartley & Moss Accountants",
        practice_user_email="admin@hartleymoss.test",
        changes={"business_name": ["Bright Sparks Electrical Ltd", "Bright Sparks Electrical & Solar Ltd"]},
    )


def admin_sign_in(page: Page, email: str) -> None:
    page.goto("/admin/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()


def test_change_requests_status_and_handler_in_view_at_1280_and_mark_as_done(
    page, live_server, change_request, screenshot
):
    admin_sign_in(page, "cs@partnerdesk.test")
    page.goto("/admin/backoffice/changerequest/")
    for header in ("Status", "Handled by"):
        box = page.locator("#result_list thead th", has_text=header).bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= 1280, header  # not cut off at the right of a 1280-pixel screen
    screenshot("back_office_change_requests")
    page.locator("#result_list tbody th a").first.click()
    expect(page.get_by_role("columnheader", name="Before")).to_be_visible()
    expect(page.get_by_role("button", name="Save")).to_have_count(0)
    screenshot("back_office_change_request")
    page.get_by_role("button", name="Mark as done").click()
    expect(page.get_by_text("Change request marked as done.")).to_be_visible()
    change_request.refresh_from_db()
    assert change_request.status == "done"


def test_customer_services_sends_a_practice_contact_email_confirmation_instead_of_typing_it(
    page, live_server, change_request, screenshot
):
    """The Practice page shows the contact email read-only; "Send confirmation to a new address" sends a link to the
    new address and the page then says it is waiting for confirmation, the address in use unchanged."""
    from partnerdesk.notifications.models import OutboundEmail

    practice = change_request.client.practice
    Practice.objects.filter(pk=practice.pk).update(contact_email="office@hartleymoss.test")
    admin_sign_in(page, "cs@partnerdesk.test")
    page.goto(f"/admin/practice/practice/{practice.pk}/change/")
    expect(page.get_by_role("textbox", name="Contact email")).to_have_count(0)
    expect(page.get_by_text("office@hartleymoss.test")).to_be_visible()
    page.get_by_role("link", name="Send confirmation to a new address").click()
    page.get_by_label("New contact email").fill("accounts@hartleymoss.test")
    screenshot("back_office_practice_contact_email")
    page.get_by_role("button", name="Send confirmation").click()
    expect(page.get_by_text("A confirmation link was sent to accounts@hartleymoss.test.")).to_be_visible()
    expect(page.get_by_text("Waiting for confirmation: accounts@hartleymoss.test")).to_be_visible()
    screenshot("back_office_practice_contact_email_sent")
    practice.refresh_from_db()
    assert (practice.contact_email, practice.contact_email_pending) == (
        "office@hartleymoss.test",
        "accounts@hartleymoss.test",
    )
    assert OutboundEmail.objects.filter(template="practice-contact-email-confirm").get().to == [
        "accounts@hartleymoss.test"
    ]
