"""The 30-day grace period after a transfer, with a frozen clock: reminders on day 23 and 29, suspension on
day 30 without a mandate, and a mandate lifting it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from partnerdesk.audit.models import Action, Event
from partnerdesk.billing.grace import company_unsuspend, grace_run
from partnerdesk.billing.invoicing import invoice_run
from partnerdesk.billing.models import InvoiceLine, Licence, SubscriptionItem
from partnerdesk.billing.tests.invoice_factories import make_service
from partnerdesk.billing.tests.subscription_factories import make_mandate
from partnerdesk.identity.selectors import CompanyAccessDisabled, companies_claim, memberships_with_access
from partnerdesk.notifications.models import Message, OutboundEmail
from partnerdesk.notifications.tasks import render_email
from partnerdesk.practice import lifecycle
from partnerdesk.practice.access import company_access
from partnerdesk.practice.models import Client, PracticeMember
from partnerdesk.practice.tests.lifecycle_factories import activation_token, emailed, managed_client
from partnerdesk.practice.tests.staff_factories import make_practice

pytestmark = pytest.mark.django_db


@pytest.fixture
def transferred():
    """A non-participating client transferred today, activated by its new owner."""
    practice, admin = make_practice()
    member = PracticeMember.objects.get(user=admin)
    client = managed_client(practice, email="new@acme.test")
    result = lifecycle.client_stop_managing(member=member, client_id=client.pk, mode="transfer")
    owner = lifecycle.client_access_activate_new_account(
        token=activation_token("new@acme.test", template="client-transfer"),
        full_name="New Owner",
        password="correct horse battery staple",
    )
    return Client.all_objects.get(pk=client.pk), owner, result.grace_ends_on


def day(start: dt.date, n: int) -> dt.date:
    return start + dt.timedelta(days=n)


def test_reminders_on_day_23_and_29_then_suspension_on_day_30(transferred):
    client, owner, grace_end = transferred
    day0 = grace_end - dt.timedelta(days=30)
    assert grace_run(today=day(day0, 22)) == {"reminders": 0, "suspended": 0}
    assert grace_run(today=day(day0, 23)) == {"reminders": 1, "suspended": 0}
    assert grace_run(today=day(day0, 23)) == {"reminders": 0, "suspended": 0}  # idempotent
    assert grace_run(today=day(day0, 28)) == {"reminders": 0, "suspended": 0}
    assert grace_run(today=day(day0, 29)) == {"reminders": 1, "suspended": 0}
    assert emailed("company-grace-reminder", owner.email)
    assert len(companies_claim(user=owner)) == 1
    from allauth.idp.oidc.models import Client as OIDCClient
    from allauth.idp.oidc.models import Token

    product = OIDCClient.objects.create(name="Payroll", id="payroll-test")
    Token.objects.create(client=product, user=owner, type=Token.Type.REFRESH_TOKEN, hash="h" * 64)
    assert grace_run(today=day(day0, 30)) == {"reminders": 0, "suspended": 1}
    assert not Token.objects.filter(user=owner).exists()  # the products sign the owner in again, without it
    client.company.refresh_from_db()
    assert client.company.suspended_at is not None
    assert emailed("company-suspended", owner.email)
    assert companies_claim(user=owner) == []
    membership = memberships_with_access(user=owner).get()
    assert membership.company.suspended_at is not None
    with pytest.raises(CompanyAccessDisabled):  # a 403 that says why, not a 404: the owner knows the company
        company_access(user=owner, company=client.company)
    assert grace_run(today=day(day0, 31)) == {"reminders": 0, "suspended": 0}
    assert Event.objects.filter(action=Action.COMPANY_GRACE_REMINDER, company=client.company).count() == 2
    assert Event.objects.filter(action=Action.COMPANY_SUSPEND, company=client.company).count() == 1


def test_a_mandate_before_day_30_prevents_suspension(transferred):
    client, _owner, grace_end = transferred
    make_mandate(client.company)
    assert grace_run(today=grace_end) == {"reminders": 0, "suspended": 0}
    client.company.refresh_from_db()
    assert client.company.suspended_at is None


def test_unsuspend_lifts_the_suspension_once(transferred):
    client, owner, grace_end = transferred
    grace_run(today=grace_end)
    with transaction.atomic():
        assert company_unsuspend(company=client.company, actor=owner) is True
    with transaction.atomic():
        assert company_unsuspend(company=client.company, actor=owner) is False
    assert len(companies_claim(user=owner)) == 1
    assert company_access(user=owner, company=client.company) == "client"
    assert Event.objects.filter(action=Action.COMPANY_UNSUSPEND, company=client.company).count() == 1


def test_transfer_grace_is_thirty_days_from_the_stop(transferred):
    client, _, grace_end = transferred
    assert client.grace_ends_on == grace_end == timezone.localdate() + dt.timedelta(days=30)


def test_transfer_wording_suspension_and_invoices_agree_on_the_last_free_day(monkeypatch, client):
    """QA's case: transferred on 1 December 2026. The last free day is 30 December; from 31 December the client
    pays (its invoice starts then) and, without a mandate, is suspended; every message says so."""
    day0 = dt.date(2026, 12, 1)
    practice, admin = make_practice()
    managed = managed_client(practice, email="new@acme.test")
    Licence.objects.filter(company=managed.company).update(starts_on=dt.date(2026, 1, 1))
    SubscriptionItem.objects.create(company=managed.company, service=make_service(rrp="31.00"), starts_on=day0)
    monkeypatch.setattr(lifecycle, "_today", lambda: day0)
    client.force_login(admin)
    page = client.post(f"/partner/clients/{managed.pk}/stop/", {"mode": "transfer"}, follow=True).content.decode()

    assert "free access up to and including 30 December 2026 and pay for their own subscription from 31 December" in (
        " ".join(page.split())
    )
    email = render_email(OutboundEmail.objects.get(template="client-transfer"))
    assert "free access up to and including 30 December 2026. From 31 December 2026 you pay" in email.body
    assert "up to and including 30 December" in Message.objects.get(company=managed.company).body
    assert grace_run(today=dt.date(2026, 12, 30))["suspended"] == 0  # day 29, the last free day
    assert grace_run(today=dt.date(2026, 12, 31))["suspended"] == 1  # day 30
    suspended = render_email(OutboundEmail.objects.get(template="company-suspended"))
    assert "ended after 30 December 2026" in suspended.body

    invoice_run(period=dt.date(2026, 12, 1))
    lines = InvoiceLine.objects.filter(company=managed.company).select_related("invoice").order_by("starts_on")
    assert [(line.invoice.kind, line.starts_on, line.days_active) for line in lines] == [
        ("practice", day0, 1),  # day 0: the practice pays for the day it stopped
        ("company", dt.date(2026, 12, 31), 1),  # day 30: the first day the client pays for, and no free day billed
    ]


def test_the_new_owner_is_prompted_for_direct_debit_where_they_land_after_signing_in(transferred, client):
    """ "Your client can still log in but is prompted to enter their Direct Debit details": on Home and on the
    product's home, not only on the company's own page; gone once a mandate exists."""
    transferred_client, owner, _grace_end = transferred
    company = transferred_client.company
    client.force_login(owner)
    expected = f"{company.business_name}: enter your Direct Debit details."
    for url in ("/", "/products/accounting/", "/products/payroll/"):
        page = client.get(url).content.decode()
        assert expected in page, url
        assert f'href="/companies/{company.customer_number}/payment/"' in page
    assert "Your free access ends after" in client.get("/").content.decode()
    make_mandate(company)
    assert expected not in client.get("/").content.decode()


def test_day_23_reminder_counts_the_days_left_and_day_29_says_access_ends_tomorrow(transferred):
    """QA: the two reminders were identical. Day 23 says how many free days are left; day 29 that it is the last."""
    _client, _owner, grace_end = transferred
    day0 = grace_end - dt.timedelta(days=30)
    grace_run(today=day(day0, 23))
    grace_run(today=day(day0, 29))
    first, last = (
        render_email(email)
        for email in OutboundEmail.objects.filter(template="company-grace-reminder").order_by("created_at")
    )
    last_free = f"{day(day0, 29).day} {day(day0, 29):%B %Y}"
    ends = f"{grace_end.day} {grace_end:%B %Y}"
    assert first.body.startswith("Hello New Owner,")
    assert "You have 7 days of free access to" in first.body
    assert f"left, up to and including {last_free}" in first.body
    assert first.subject.startswith("7 days left")
    assert "Today is the last day of your free access" in last.body
    assert f"Tomorrow, {ends}, your access ends" in last.body
    assert last.subject.startswith("Last free day")
    assert first.body != last.body
    in_app = list(Message.objects.filter(subject__contains="payment details").order_by("created_at"))
    assert "7 days of free access left" in in_app[0].body
    assert f"Tomorrow, {ends}, your access ends" in in_app[1].body
