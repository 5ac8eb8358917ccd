"""Small builders for the staff, invitation and settings tests: practices with members, clients, invitations."""

from __future__ import annotations

from typing import Any

from partnerdesk.identity.models import User
from partnerdesk.identity.services import company_create
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.notifications.models import OutboundEmail
from partnerdesk.practice.models import Client, Practice, PracticeInvitation, PracticeMember


def make_practice(name: str = "Hartley LLP", admin_email: str = "admin@hartley.test") -> tuple[Practice, User]:
    practice = Practice.objects.create(company=company_create(business_name=name), name=name)
    admin = UserFactory.create(email=admin_email, full_name="Helen Hartley")
    PracticeMember.objects.create(practice=practice, user=admin, role=PracticeMember.Role.ADMIN)
    return practice, admin


def add_member(practice: Practice, email: str, role: str = "staff", **extra: Any) -> PracticeMember:
    user = UserFactory.create(email=email)
    return PracticeMember.objects.create(practice=practice, user=user, role=role, **extra)


def make_client(practice: Practice, name: str, **facts: Any) -> Client:
    return Client.objects.create(
        practice=practice, company=company_create(business_name=name), business_name=name, **facts
    )


def invitation_token(invitation: PracticeInvitation) -> str:
    """The token of the last invitation email queued for this invitation's address (the link's last segment)."""
    emails = [
        e
        for e in OutboundEmail.objects.filter(template="practice-staff-invitation").order_by("created_at")
        if invitation.email in e.to
    ]
    assert emails, f"no invitation email to {invitation.email}"
    return str(emails[-1].context["invitation_path"]).rstrip("/").rsplit("/", 1)[-1]
