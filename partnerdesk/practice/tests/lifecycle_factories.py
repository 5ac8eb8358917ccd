"""Builders for the client access lifecycle tests."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from partnerdesk.billing.licences import licence_open
from partnerdesk.billing.models import Licence
from partnerdesk.identity.models import CompanyMembership, User
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.notifications.models import OutboundEmail
from partnerdesk.practice.models import Client, Practice
from partnerdesk.practice.tests.staff_factories import make_client


def managed_client(practice: Practice, name: str = "Acme Ltd", **facts: Any) -> Client:
    """An Active, non-participating, accountant-paying client with complete business details and its licence."""
    details = {"contact_name": "Ada Lovelace", "address": "1 High Street", "postcode": "AB1 2CD", **facts}
    client = make_client(practice, name, **details)
    with transaction.atomic():
        licence_open(
            company=client.company, payer=Licence.Payer.ACCOUNTANT, practice=practice, starts_on=timezone.localdate()
        )
    return client


def participating_client(
    practice: Practice, name: str = "Owned Ltd", owner_email: str = "owner@owned.test"
) -> tuple[Client, User]:
    """A client whose company has an owner who signs in; both have access."""
    client = managed_client(practice, name, email=owner_email, access=Client.Access.BOTH)
    owner = UserFactory.create(email=owner_email)
    company = client.company
    company.owner = owner
    company.owner_email = owner_email
    company.save(update_fields=["owner", "owner_email"])
    CompanyMembership.objects.create(user=owner, company=company, role=CompanyMembership.Role.OWNER)
    client.refresh_from_db()
    return client, owner


def activation_token(email: str, template: str = "client-activation") -> str:
    """The token in the last activation email to this address."""
    sent = [e for e in OutboundEmail.objects.filter(template=template).order_by("created_at") if email in e.to]
    assert sent, f"no {template} email to {email}"
    return str(sent[-1].context["activation_path"]).rstrip("/").rsplit("/", 1)[-1]


def emailed(template: str, address: str) -> bool:
    """Whether an email of this template was queued to this address."""
    return any(address in e.to for e in OutboundEmail.objects.filter(template=template))
