"""Builders for the Connect existing client tests: a practice with its admin's membership, a company with an
owner who signs in, and the request link the owner is emailed."""

from __future__ import annotations

from partnerdesk.identity.models import Company, CompanyMembership, User
from partnerdesk.identity.services import company_create
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.notifications.models import OutboundEmail
from partnerdesk.practice.models import PracticeMember
from partnerdesk.practice.tests.staff_factories import make_practice


def practice_admin_member(name: str = "Hartley LLP", admin_email: str = "admin@hartley.test") -> PracticeMember:
    practice, admin = make_practice(name, admin_email)
    practice.contact_email = f"hello@{admin_email.split('@')[1]}"
    practice.save(update_fields=["contact_email"])
    return PracticeMember.objects.select_related("practice", "user").get(user=admin)


def owned_company(name: str = "Acme Ltd", owner_email: str = "olive@acme.test") -> tuple[Company, User]:
    owner = UserFactory.create(email=owner_email, full_name="Olive Owner")
    company = company_create(business_name=name, owner_email=owner_email, owner=owner)
    CompanyMembership.objects.create(user=owner, company=company, role=CompanyMembership.Role.OWNER)
    return company, owner


def request_path(owner_email: str) -> str:
    """The request link in the last connect-request email to this address."""
    sent = [
        e
        for e in OutboundEmail.objects.filter(template="practice-connect-request").order_by("created_at")
        if owner_email in e.to
    ]
    assert sent, f"no connect request email to {owner_email}"
    return str(sent[-1].context["request_path"])
