"""Builders for the subscription, wizard, imported, mandate and API tests. Services are our own (get_or_create):
tests with transaction=True flush the seeded catalogue."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from partnerdesk.billing.models import (
    DirectDebitMandate,
    Licence,
    PracticeDiscount,
    Service,
    ServicePrice,
    SubscriptionItem,
)
from partnerdesk.identity.models import Company, CompanyMembership, User
from partnerdesk.identity.services import company_create
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.practice.models import Client, Practice, PracticeMember

LONG_AGO = dt.date(2020, 1, 1)


def make_service(
    code: str = "t-standard", rrp: str = "30.00", *, name: str | None = None, order: int = 0, product: str | None = None
) -> Service:
    """A test service; its own product unless ``product`` is given (services of one product are plans of it, one
    at a time, as Accounting Start, Standard and Plus)."""
    service, _ = Service.objects.get_or_create(
        code=code, defaults={"name": name or f"Test {code}", "product": product or code, "sort_order": order}
    )
    ServicePrice.objects.get_or_create(service=service, effective_from=LONG_AGO, defaults={"monthly_rrp": Decimal(rrp)})
    return service


@dataclass
class PracticeSetup:
    practice: Practice
    admin: User
    member: PracticeMember


def make_practice(name: str = "Hartley LLP", *, discount: str = "20.00", email: str | None = None) -> PracticeSetup:
    practice = Practice.objects.create(company=company_create(business_name=name), name=name)
    if Decimal(discount):
        PracticeDiscount.objects.create(practice=practice, rate=Decimal(discount), effective_from=LONG_AGO)
    admin = UserFactory.create(email=email or f"admin@{name.split()[0].lower()}.test")
    member = PracticeMember.objects.create(practice=practice, user=admin, role="admin")
    return PracticeSetup(practice, admin, member)


def make_owner_company(name: str = "Own Ltd", *, owner: User | None = None) -> tuple[Company, User]:
    owner = owner or UserFactory.create()
    company = company_create(business_name=name, owner_email=owner.email, owner=owner)
    CompanyMembership.objects.get_or_create(user=owner, company=company, defaults={"role": "owner"})
    return company, owner


def subscribe(company: Company, *services: Service, starts_on: dt.date = LONG_AGO) -> list[SubscriptionItem]:
    return [SubscriptionItem.objects.create(company=company, service=s, starts_on=starts_on) for s in services]


def accountant_client(
    setup: PracticeSetup, name: str = "Acme Ltd", *services: Service, owner: User | None = None, tab: str = "active"
) -> Client:
    """An Active, accountant-paying (discounted) client of the practice, with the given services."""
    if owner is not None:
        company, _ = make_owner_company(name, owner=owner)
    else:
        company = company_create(business_name=name)
    client = Client.objects.create(
        practice=setup.practice, company=company, business_name=name, tab=tab, payer="accountant"
    )
    if tab == "active":
        Licence.objects.create(
            company=company, payer="accountant", practice=setup.practice, discounted=True, starts_on=LONG_AGO
        )
    subscribe(company, *services)
    return client


def client_paying_company(
    name: str = "Self Pay Ltd", *services: Service, owner: User | None = None
) -> tuple[Company, User]:
    company, owner = make_owner_company(name, owner=owner)
    Licence.objects.create(company=company, payer="client", starts_on=LONG_AGO)
    subscribe(company, *services)
    return company, owner


def imported_client(setup: PracticeSetup, name: str) -> Client:
    return Client.objects.create(
        practice=setup.practice, company=company_create(business_name=name), business_name=name, tab="imported"
    )


def make_mandate(company: Company, reference: str = "PDTEST0001") -> DirectDebitMandate:
    """An active Direct Debit for the account (masked details only; nothing real to decrypt)."""
    return DirectDebitMandate.objects.create(
        company=company,
        reference=reference,
        account_holder="Account Holder",
        sort_code_encrypted="x",
        account_number_encrypted="y",
        sort_code_masked="**-**-56",
        account_number_masked="******78",
        declaration_accepted_at=timezone.now(),
    )
