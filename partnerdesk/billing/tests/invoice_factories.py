"""Builders for the invoice tests: services with prices, practices with a discount, companies, subscription items and
licences written directly (the run reads rows; how they came to be is other modules' business)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from partnerdesk.billing.models import Licence, PracticeDiscount, Service, ServicePrice, SubscriptionItem
from partnerdesk.identity.models import Company
from partnerdesk.identity.services import company_create
from partnerdesk.practice.models import Practice

LONG_AGO = dt.date(2020, 1, 1)


def make_service(code: str = "inv-standard", rrp: str = "30.00", effective_from: dt.date = LONG_AGO) -> Service:
    """A service of our own (transaction=True tests flush the seeded catalogue)."""
    service, _ = Service.objects.get_or_create(code=code, defaults={"name": f"Test {code}"})
    ServicePrice.objects.get_or_create(
        service=service, effective_from=effective_from, defaults={"monthly_rrp": Decimal(rrp)}
    )
    return service


def set_price(service: Service, rrp: str, effective_from: dt.date) -> None:
    ServicePrice.objects.create(service=service, effective_from=effective_from, monthly_rrp=Decimal(rrp))


def make_practice(name: str = "Hartley LLP", discount: str = "20.00") -> Practice:
    practice = Practice.objects.create(company=company_create(business_name=name), name=name)
    if Decimal(discount):
        PracticeDiscount.objects.create(practice=practice, rate=Decimal(discount), effective_from=LONG_AGO)
    return practice


def make_company(name: str = "Acme Ltd") -> Company:
    return company_create(business_name=name)


def subscribe(
    company: Company, service: Service, starts_on: dt.date = LONG_AGO, ends_on: dt.date | None = None
) -> SubscriptionItem:
    return SubscriptionItem.objects.create(company=company, service=service, starts_on=starts_on, ends_on=ends_on)


def accountant_pays(
    company: Company,
    practice: Practice,
    starts_on: dt.date = LONG_AGO,
    ends_on: dt.date | None = None,
    discounted: bool = True,
) -> Licence:
    return Licence.objects.create(
        company=company,
        payer=Licence.Payer.ACCOUNTANT,
        practice=practice,
        discounted=discounted,
        starts_on=starts_on,
        ends_on=ends_on,
    )


def client_pays(company: Company, starts_on: dt.date = LONG_AGO, ends_on: dt.date | None = None) -> Licence:
    return Licence.objects.create(
        company=company, payer=Licence.Payer.CLIENT, practice=None, starts_on=starts_on, ends_on=ends_on
    )
