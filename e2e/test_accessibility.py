"""axe-core (the accessibility engine behind Lighthouse and most audit tools) over the main screens of every kind of
person, on the demo data: no WCAG violation of any impact. A new page or a changed template that loses a label, a
table header, contrast or a landmark fails here with the rule and the offending element."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from e2e.test_portal_link import sign_in
from partnerdesk.identity.models import CompanyMembership
from partnerdesk.practice.demo import DEMO_PASSWORD, load_demo
from partnerdesk.practice.models import Client

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def violations(page, axe: Axe) -> list[str]:
    found = axe.run(page).response["violations"]
    return [f"{page.url}: [{v['impact']}] {v['id']} {v['help']}: {v['nodes'][0]['html'][:160]}" for v in found]


@pytest.fixture
def demo():
    assert load_demo()


def test_main_screens_have_no_accessibility_violations(page, live_server, demo):
    axe = Axe()
    found: list[str] = []
    for path in (
        "/",
        "/signin/",
        "/accounts/signup/",
        "/accounts/login/",
        "/accounts/password/reset/",
        "/admin/login/",
    ):
        page.goto(path)
        found += violations(page, axe)

    sign_in(page, "admin@hartleymoss.test", DEMO_PASSWORD)
    client = Client.objects.get(business_name="Riverside Café")
    for path in (
        "/",
        "/partner/clients/",
        "/partner/clients/?tab=pending",
        "/partner/clients/?tab=imported&hidden=1",
        f"/partner/clients/{client.pk}/",
        f"/partner/clients/{client.pk}/?panel=details",
        f"/partner/clients/{client.pk}/?panel=history",
        f"/partner/clients/{client.pk}/stop/",
        f"/partner/clients/{client.pk}/subscriptions/",
        "/partner/clients/add/",
        "/partner/clients/connect/",
        "/partner/clients/import/",
        "/partner/staff/",
        "/partner/settings/",
        "/partner/invoices/",
        "/partner/former-clients/",
        f"/companies/{client.company.customer_number}/ledger/",
        "/account/security/",
        "/account/api-tokens/",
        "/account/link/",
    ):
        response = page.goto(path)
        assert response is not None
        assert response.status == 200, path
        found += violations(page, axe)

    page.context.clear_cookies()
    sign_in(page, "owner@brightsparks.test", DEMO_PASSWORD)
    number = CompanyMembership.objects.get(user__email="owner@brightsparks.test").company.customer_number
    for suffix in ("", "users/", "payment/", "invoices/", "accountant/", "details/"):
        page.goto(f"/companies/{number}/{suffix}")
        found += violations(page, axe)

    assert found == []
