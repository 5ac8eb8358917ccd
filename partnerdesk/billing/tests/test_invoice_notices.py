"""Whoever pays an invoice is told it was issued: an email per admin of a practice (by name) or to a company's
Subscription Owner, and an in-app message, queued in the run's transaction by bulk inserts (the worker sends them as
any other email); the run's query count does not grow with the number of invoices."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from partnerdesk.billing.invoicing import invoice_run
from partnerdesk.billing.models import DirectDebitMandate, Invoice
from partnerdesk.billing.tests.conftest import NOV
from partnerdesk.billing.tests.invoice_factories import (
    accountant_pays,
    client_pays,
    make_company,
    make_practice,
    make_service,
    subscribe,
)
from partnerdesk.billing.tests.test_invoice_views import _as
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.notifications.models import Message, OutboundEmail
from partnerdesk.notifications.tasks import render_email
from partnerdesk.practice.models import PracticeMember

pytestmark = pytest.mark.django_db


def _mandate(company) -> None:
    DirectDebitMandate.objects.create(
        company=company,
        reference=f"PD-{company.customer_number}",
        account_holder="A Holder",
        sort_code_encrypted="x",
        account_number_encrypted="x",
        sort_code_masked="**-**-56",
        account_number_masked="******78",
        declaration_accepted_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )


def _emails(template="invoice-issued"):
    return list(OutboundEmail.objects.filter(template=template).order_by("created_at", "id"))


def test_each_practice_admin_gets_an_email_by_name_and_the_practice_a_message(billed):
    invoice, practice = billed["practice_invoice"], billed["practice"]
    admin = billed["admin"]
    sent = [e for e in _emails() if e.context["number"] == invoice.number]
    assert [e.to for e in sent] == [[admin.email]]  # admins only, not the staff member
    rendered = render_email(sent[0])
    assert rendered.subject == f"Your November 2026 Partnerdesk invoice {invoice.number} is ready"
    assert f"£{invoice.total:,.2f} (including VAT)" in rendered.body
    assert "No Direct Debit is set up" in rendered.body  # this practice has none
    assert f"/partner/invoices/{invoice.number}/" in rendered.body
    assert "/partner/payment/" in rendered.body
    page = _as(admin).get("/partner/messages/").content.decode()
    assert f"Your November 2026 invoice {invoice.number} is ready" in page
    assert "your monthly invoices as they are issued" in page
    message = Message.objects.get(practice=practice, link=f"/partner/invoices/{invoice.number}/")
    assert message.subject == f"Your November 2026 invoice {invoice.number} is ready"
    assert "No Direct Debit is set up" in message.body


def test_a_company_with_no_owner_yet_gets_its_owner_only_message_and_no_email(billed):
    own, invoice = billed["own"], billed["own_invoice"]
    assert own.owner_id is None
    assert own.owner_email == ""
    assert not [e for e in _emails() if e.context["number"] == invoice.number]
    message = Message.objects.get(company=own)
    assert message.owner_only
    assert message.link == f"/companies/{own.customer_number}/invoices/{invoice.number}/"


def test_the_owner_address_on_record_is_told_before_an_owner_is_linked():
    service = make_service()
    company = make_company("Kettle Ltd")
    company.owner_email = "jean@kettle.test"
    company.save(update_fields=["owner_email"])
    subscribe(company, service)
    client_pays(company)
    invoice_run(period=NOV)
    (email,) = _emails()
    assert email.to == ["jean@kettle.test"]
    assert email.context["recipient_name"] == ""
    assert render_email(email).body.startswith("Hello,")


def test_direct_debit_collection_date_and_greeting_by_name():
    service = make_service("inv-notice", "170.14")
    practice = make_practice("Hartley LLP", discount="0")
    _mandate(practice.company)
    first, second = UserFactory.create(full_name="Ann Admin"), UserFactory.create(full_name="Bob Admin")
    for user in (first, second):
        PracticeMember.objects.create(practice=practice, user=user, role="admin")
    client = make_company("Bakery Ltd")
    subscribe(client, service)
    accountant_pays(client, practice)
    paying = make_company("Florist Ltd")
    owner = UserFactory.create(full_name="Olive Owner")
    paying.owner = owner
    paying.save(update_fields=["owner"])
    _mandate(paying)
    subscribe(paying, service)
    client_pays(paying)

    invoice_run(period=NOV)

    practice_invoice = Invoice.objects.get(account=practice.company)
    assert practice_invoice.total == Decimal("204.17")
    by_address = {e.to[0]: e for e in _emails()}
    assert set(by_address) == {first.email, second.email, owner.email}
    for user in (first, second, owner):
        email = by_address[user.email]
        rendered = render_email(email)
        issued_on = timezone.localtime(Invoice.objects.get(number=email.context["number"]).issued_at).date()
        assert email.context["collected_on"] == (issued_on + dt.timedelta(days=14)).isoformat()
        assert "will be collected by Direct Debit on or after" in rendered.body
        assert "No Direct Debit" not in rendered.body
    assert {e.context["recipient_name"] for e in by_address.values()} == {"Ann Admin", "Bob Admin", "Olive Owner"}
    body = render_email(by_address[first.email]).body
    assert "£204.17 (including VAT)" in body
    assert Message.objects.filter(practice=practice).count() == 1
    message = Message.objects.get(company=paying)
    assert "will be collected by Direct Debit on or after" in message.body
    assert message.owner_only


def test_an_admin_whose_address_is_not_verified_is_greeted_as_the_team():
    """Decision 69: an unverified login address never chooses a greeting."""
    from allauth.account.models import EmailAddress

    service = make_service()
    practice = make_practice("Hartley LLP")
    admin = UserFactory.create(full_name="Ann Admin")
    EmailAddress.objects.filter(user=admin).update(verified=False)
    PracticeMember.objects.create(practice=practice, user=admin, role="admin")
    client = make_company()
    subscribe(client, service)
    accountant_pays(client, practice)
    invoice_run(period=NOV)
    (email,) = _emails()
    assert email.context["recipient_name"] == "Hartley LLP team"
    assert render_email(email).body.startswith("Hello Hartley LLP team,")


def test_one_delivery_task_per_email_and_the_worker_sends_them(billed, settings):
    emails = _emails()
    assert emails
    tasks = DBTaskResult.objects.filter(task_path="partnerdesk.notifications.tasks.deliver_email", status="READY")
    assert sorted(t.args_kwargs["args"][0] for t in tasks) == sorted(str(e.id) for e in emails)
    assert all(t.args_kwargs["kwargs"] == {} for t in tasks)


@pytest.mark.django_db(transaction=True)
def test_the_worker_delivers_the_bulk_queued_emails(billed):
    mail.outbox = []
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "--queue-name", "*", verbosity=0)
    emails = _emails()
    assert emails
    assert {e.status for e in emails} == {OutboundEmail.Status.SENT}
    subjects = [m.subject for m in mail.outbox if "invoice" in m.subject]
    assert len(subjects) == len(emails)


def test_a_rerun_tells_nobody_again(billed):
    before = (OutboundEmail.objects.count(), Message.objects.count(), DBTaskResult.objects.count())
    invoice_run(period=NOV)
    assert (OutboundEmail.objects.count(), Message.objects.count(), DBTaskResult.objects.count()) == before


def _population(n: int, tag: str) -> None:
    service = make_service(f"inv-{tag}", "14.00")
    practice = make_practice(f"Practice {tag}")
    for _ in range(2):
        PracticeMember.objects.create(practice=practice, user=UserFactory.create(), role="admin")
    for i in range(n):
        company = make_company(f"Client {tag} {i}")
        subscribe(company, service)
        if i % 2:
            accountant_pays(company, practice)
        else:
            company.owner = UserFactory.create()
            company.save(update_fields=["owner"])
            if i % 4 == 0:
                _mandate(company)
            client_pays(company)


def test_telling_more_invoices_makes_the_same_number_of_queries():
    counts, emails = [], []
    for n, tag, period in [(4, "a", NOV), (40, "b", dt.date(2026, 12, 1))]:
        Invoice.objects.all().delete()
        OutboundEmail.objects.all().delete()
        _population(n, tag)
        with CaptureQueriesContext(connection) as ctx:
            result = invoice_run(period=period)
        counts.append(len(ctx.captured_queries))
        emails.append(OutboundEmail.objects.filter(template="invoice-issued").count())
        assert result.invoices_created > n // 2
    assert emails[1] > emails[0] > 0
    assert counts[0] == counts[1]
