"""A double-clicked submit button sends its form once (static/js/app.js)."""

from __future__ import annotations

from playwright.sync_api import expect

from e2e.conftest import console_errors
from e2e.test_portal_link import sign_in
from partnerdesk.audit.models import Event
from partnerdesk.billing.models import DirectDebitMandate
from partnerdesk.billing.tests.subscription_factories import make_owner_company
from partnerdesk.identity.tests.factories import PASSWORD, UserFactory


def test_double_clicking_save_payment_details_sets_up_one_direct_debit(page, live_server, console_messages):
    owner = UserFactory(full_name="Ada Lovelace")
    company, _ = make_owner_company("Fairfield Bakery Ltd", owner=owner)
    sign_in(page, owner.email, PASSWORD)
    page.goto(f"/companies/{company.customer_number}/payment/")
    page.get_by_label("Account holder name").fill("Ada Lovelace")
    page.get_by_label("Sort code").fill("20-00-00")
    page.get_by_label("Account number").fill("55779911")
    page.get_by_role("checkbox").check()
    # Two clicks 80 ms apart, as an impatient double click: the first request is on its way when the second
    # click comes (Playwright's dblclick is too quick for the browser to send two).
    page.evaluate(
        """() => {
            const button = [...document.querySelectorAll("button")].find(b => b.textContent.includes("Save payment"));
            button.click();
            setTimeout(() => button.click(), 80);
        }"""
    )
    page.wait_for_timeout(1500)
    expect(page.get_by_role("status")).to_contain_text("Direct Debit")
    assert DirectDebitMandate.objects.filter(company=company).count() == 1
    assert Event.objects.filter(company=company, action="billing.mandate.create").count() == 1
    assert console_errors(console_messages) == []
