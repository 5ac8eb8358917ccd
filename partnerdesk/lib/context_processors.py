from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from partnerdesk.identity.products import PRODUCTS, PRODUCTS_BY_SLUG


def site(request: HttpRequest) -> dict[str, Any]:
    return {
        "DEV_INBOX_ENABLED": settings.DEV_INBOX_ENABLED,
        "PRODUCTS": PRODUCTS,
        # The product chosen on the sign-in page (kept in the session), shown on the sign-in form.
        "CHOSEN_PRODUCT": PRODUCTS_BY_SLUG.get(request.session.get("product", ""))
        if hasattr(request, "session")
        else None,
        # Called only if a page's sidebar asks (and only when the view did not put the practice member in context).
        "PRACTICE_ROLE": lambda: _practice_role(request),
    }


def _practice_role(request: HttpRequest) -> str:
    """The signed-in person's role in their practice ("admin", "staff"), or "" (one query per request)."""
    from partnerdesk.practice.models import PracticeMember

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    cached = getattr(request, "_practice_role", None)
    if cached is None:
        cached = (
            PracticeMember.objects.filter(user=user).order_by("created_at").values_list("role", flat=True).first() or ""
        )
        request._practice_role = cached  # type: ignore[attr-defined]
    return str(cached)
