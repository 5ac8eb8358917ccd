"""At a phone's width (390x844) no page scrolls sideways: wide tables scroll inside their own box and the top
product nav wraps."""

from __future__ import annotations

import pytest

from e2e.conftest import SCREENSHOTS
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
