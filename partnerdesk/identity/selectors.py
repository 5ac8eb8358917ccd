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


def companies_claim(*, user: User) -> list[dict[str, Any]]:
    """The companies a person may use in the products, for OIDC tokens and the API."""
    memberships = CompanyMembership.objects.filter(user=user).select_related("company").order_by("company_id")
    return [
        {
            "customer_number": m.company.customer_number,
            "business_name": m.company.business_name,
            "role": m.role,
            "services": [],
        }
        for m in memberships
    ]
