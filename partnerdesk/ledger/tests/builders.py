"""A managed company with its own user, the practice that manages it, another practice and a stranger."""

from __future__ import annotations

from dataclasses import dataclass

from django.test import Client as HttpClient

from partnerdesk.identity.models import CompanyMembership, User
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.practice.models import Client, Practice
from partnerdesk.practice.tests.staff_factories import make_client, make_practice


@dataclass
class World:
    practice: Practice
    practice_admin: User
    client: Client
    company_user: User
    other_admin: User
    stranger: User

    @property
    def number(self) -> str:
        return self.client.company.customer_number


def world(**client_facts: object) -> World:
    practice, admin = make_practice("Hartley LLP", "admin@hartley.test")
    client = make_client(practice, "Acme Widgets Ltd", **client_facts)
    owner = UserFactory.create(email="owner@acme.test")
    CompanyMembership.objects.create(user=owner, company=client.company, role=CompanyMembership.Role.OWNER)
    _, other_admin = make_practice("Other LLP", "admin@other.test")
    return World(
        practice=practice,
        practice_admin=admin,
        client=client,
        company_user=owner,
        other_admin=other_admin,
        stranger=UserFactory.create(email="stranger@example.test"),
    )


def signed_in(user: User) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http
