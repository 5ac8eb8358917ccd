from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser

from partnerdesk.identity.models import CompanyMembership, User
from partnerdesk.practice.models import PracticeMember


def home_summary(*, user: User | AnonymousUser) -> dict[str, Any]:
    """What the signed-in home page lists: the person's companies and practices."""
    if not isinstance(user, User):
        return {}
    return {
        "memberships": list(
            CompanyMembership.objects.filter(user=user).select_related("company").order_by("company__business_name")
        ),
        "practice_memberships": list(
            PracticeMember.objects.filter(user=user).select_related("practice").order_by("practice__name")
        ),
    }
