"""Shared billing test data: ``billed`` is a month of invoices across two practices and two companies."""

from __future__ import annotations

import datetime as dt

import pytest

from partnerdesk.billing.invoicing import invoice_run
from partnerdesk.billing.models import Invoice
from partnerdesk.billing.tests.invoice_factories import (
    accountant_pays,
    client_pays,
    make_company,
    make_practice,
    make_service,
    subscribe,
)
from partnerdesk.identity.models import CompanyMembership
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.practice.models import Client, PracticeMember

NOV = dt.date(2026, 11, 1)


@pytest.fixture
def billed():
    """A practice (admin + staff) paying for two clients, one of them from the 19th; a client-paying company with
    its owner and a plain user; another practice and another company, each with an invoice of their own."""
    accounting, payroll = make_service("inv-accounting", "30.00"), make_service("inv-payroll", "10.00")
    practice = make_practice("Hartley LLP", discount="20.00")
    admin, staff = UserFactory.create(), UserFactory.create()
    PracticeMember.objects.create(practice=practice, user=admin, role="admin")
    PracticeMember.objects.create(practice=practice, user=staff, role="staff")
    bakery, joinery = make_company("Bakery Ltd"), make_company("=Joinery Ltd")
    for company, start in ((bakery, dt.date(2026, 1, 1)), (joinery, dt.date(2026, 11, 19))):
        Client.objects.create(practice=practice, company=company, business_name=company.business_name)
        subscribe(company, accounting, start)
        subscribe(company, payroll, start)
        accountant_pays(company, practice)

    own = make_company("Own Ltd")
    owner, user = UserFactory.create(), UserFactory.create()
    CompanyMembership.objects.create(user=owner, company=own, role="owner")
    CompanyMembership.objects.create(user=user, company=own, role="user")
    subscribe(own, accounting)
    client_pays(own)

    other_practice = make_practice("Other LLP")
    other_admin = UserFactory.create()
    PracticeMember.objects.create(practice=other_practice, user=other_admin, role="admin")
    other_client = make_company("Other Client Ltd")
    subscribe(other_client, accounting)
    accountant_pays(other_client, other_practice)
    other_company = make_company("Elsewhere Ltd")
    other_owner = UserFactory.create()
    CompanyMembership.objects.create(user=other_owner, company=other_company, role="owner")
    subscribe(other_company, payroll)
    client_pays(other_company)

    invoice_run(period=NOV)
    return {
        "practice": practice,
        "admin": admin,
        "staff": staff,
        "own": own,
        "owner": owner,
        "user": user,
        "other_admin": other_admin,
        "other_owner": other_owner,
        "other_company": other_company,
        "practice_invoice": Invoice.objects.get(account=practice.company),
        "own_invoice": Invoice.objects.get(account=own),
        "other_practice_invoice": Invoice.objects.get(account=other_practice.company),
        "other_company_invoice": Invoice.objects.get(account=other_company),
    }
