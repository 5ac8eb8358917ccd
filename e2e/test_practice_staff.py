"""Practice staff in Chromium (issue 5): an admin invites a staff member, who signs in from the link in a second
browser, accepts, and then appears on the admin's Staff page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from e2e.conftest import SCREENSHOTS, console_errors, csp_violations
from e2e.test_account_entrance import last_email
from e2e.test_portal_link import sign_in
from partnerdesk.identity.tests.factories import PASSWORD, UserFactory
from partnerdesk.practice.models import ClientAssignment, PracticeMember
from partnerdesk.practice.tests.staff_factories import make_client, make_practice

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_admin_invites_staff_who_accepts_in_another_browser(browser, live_server):
    _practice, admin = make_practice("Hartley & Moss", "helen@hartley.test")
    UserFactory(email="raj@example.test", full_name="Raj Patel")
    admin_context = browser.new_context(base_url=live_server.url)
    invitee_context = browser.new_context(base_url=live_server.url)
    messages: list[str] = []
    try:
        helen = admin_context.new_page()
        helen.on("console", lambda msg: messages.append(f"{msg.type}: {msg.text}"))
        sign_in(helen, admin.email, PASSWORD)
        helen.goto("/")
        helen.get_by_role("navigation", name="Main").get_by_role("link", name="Staff").click()
        expect(helen.get_by_role("heading", level=1)).to_have_text("Staff")
        invite = helen.get_by_role("region", name="Invite a member")
        invite.get_by_label("Email address").fill("raj@example.test")
        invite.get_by_label("Role").select_option("staff")
        invite.get_by_label("Only clients assigned to them").check()
        invite.get_by_role("button", name="Send invitation").click()
        expect(helen.get_by_role("status")).to_contain_text("Invitation sent to raj@example.test")
        pending = helen.get_by_role("region", name="Pending invitations")
        expect(pending.get_by_role("row", name="raj@example.test")).to_be_visible()
        expect(pending.get_by_role("button", name="Resend to raj@example.test")).to_be_visible()

        link = last_email("raj@example.test", "practice-staff-invitation").context["invitation_path"]
        raj = invitee_context.new_page()
        raj.on("console", lambda msg: messages.append(f"{msg.type}: {msg.text}"))
        raj.goto(link)
        expect(raj.get_by_role("heading", level=1)).to_have_text("Join Hartley & Moss")
        raj.get_by_role("link", name="Sign in", exact=True).last.click()
        raj.get_by_label("Email").fill("raj@example.test")
        raj.get_by_label("Password").fill(PASSWORD)
        raj.get_by_role("button", name="Sign in").click()
        expect(raj.get_by_role("heading", level=1)).to_have_text("Join Hartley & Moss")
        SCREENSHOTS.mkdir(exist_ok=True)
        raj.screenshot(path=str(SCREENSHOTS / "practice-invitation.png"), full_page=True)
        raj.get_by_role("button", name="Accept invitation").click()
        expect(raj.get_by_role("status")).to_contain_text("You have joined Hartley & Moss")
        expect(raj.get_by_role("navigation", name="Main").get_by_role("link", name="Settings")).to_have_count(0)
        expect(raj.get_by_role("main")).to_contain_text("You see only the clients assigned to you.")
        # The team, read-only: who is in it and whom to ask, no admin action.
        raj.get_by_role("navigation", name="Main").get_by_role("link", name="Staff").click()
        expect(raj.get_by_role("main")).to_contain_text("Only your practice's admins invite, change or remove members")
        expect(raj.get_by_role("region", name="Members").get_by_role("row", name="Helen Hartley")).to_contain_text(
            "All clients (admin)"
        )
        expect(raj.get_by_role("button")).to_have_count(1)  # Sign out, in the header
        expect(raj.get_by_role("region", name="Invite a member")).to_have_count(0)

        helen.reload()
        members = helen.get_by_role("region", name="Members")
        expect(members.get_by_role("row", name="Raj Patel")).to_contain_text("raj@example.test")
        expect(helen.get_by_role("region", name="Pending invitations")).to_contain_text("No pending invitations")
        helen.screenshot(path=str(SCREENSHOTS / "practice-staff.png"), full_page=True)
        assert csp_violations(messages) == []
        assert console_errors(messages) == []
    finally:
        admin_context.close()
        invitee_context.close()


def test_a_failed_htmx_request_is_said_in_the_page(page, live_server, console_messages):
    """Saving Details for a client just unassigned from a restricted staff member is a 404: htmx swaps nothing, so
    the page says what happened; a 5xx and a response with its own message are said too."""
    practice, _admin = make_practice("Hartley & Moss", "helen@hartley.test")
    raj = UserFactory(email="raj@example.test", full_name="Raj Patel")
    member = PracticeMember.objects.create(practice=practice, user=raj, role="staff", sees_all_clients=False)
    client = make_client(practice, "Alpha Bakery")
    ClientAssignment.objects.create(member=member, client=client)
    sign_in(page, raj.email, PASSWORD)
    page.goto("/partner/clients/")
    page.get_by_role("table").get_by_role("link", name="Alpha Bakery").click()
    panel = page.locator("#side-panel")
    panel.get_by_role("link", name="Manage", exact=True).click()
    expect(panel.get_by_label("Business name")).to_have_value("Alpha Bakery")

    ClientAssignment.objects.filter(member=member).delete()  # an admin unassigns it meanwhile
    panel.get_by_label("Phone").fill("0113 496 0000")
    panel.get_by_role("button", name="Save").click()
    alert = page.locator("#request-error")
    expect(alert).to_have_attribute("aria-live", "assertive")
    expect(alert).to_have_text("You no longer have access to this client, or it was removed. Reload the list.")

    page.route("**/partner/clients/*/?panel=history", lambda route: route.fulfill(status=500, body="boom"))
    panel.get_by_role("link", name="History").click()
    expect(alert).to_contain_text("Something went wrong")

    page.unroute("**/partner/clients/*/?panel=history")
    page.route(
        "**/partner/clients/*/?panel=history",
        lambda route: route.fulfill(
            status=409,
            content_type="application/problem+json",
            body='{"title": "Conflict", "detail": "Someone else changed this client."}',
        ),
    )
    panel.get_by_role("link", name="History").click()
    expect(alert).to_have_text("Someone else changed this client.")
    assert csp_violations(console_messages) == []
