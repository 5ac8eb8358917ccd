from __future__ import annotations

from django.db.models import QuerySet

from partnerdesk.identity.models import User
from partnerdesk.practice.models import Client, PracticeMember


def membership_for_user(*, user: User) -> PracticeMember | None:
    """The person's practice membership (a person works for at most one practice in this edition)."""
    return PracticeMember.objects.select_related("practice").filter(user=user).order_by("created_at").first()


def client_list(*, member: PracticeMember, tab: str = Client.Tab.ACTIVE) -> QuerySet[Client]:
    """The practice's clients on one tab, hidden ones left out, always scoped to the member's practice."""
    return (
        Client.objects.filter(practice=member.practice, tab=tab, hidden=False)
        .select_related("company")
        .order_by("business_name", "id")
    )
