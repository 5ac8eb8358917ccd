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
        "PRACTICE_ADMIN": lambda: _is_practice_admin(request),
    }


def _is_practice_admin(request: HttpRequest) -> bool:
    from partnerdesk.practice.models import PracticeMember

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    cached = getattr(request, "_practice_admin", None)
    if cached is None:
        cached = PracticeMember.objects.filter(user=user, role=PracticeMember.Role.ADMIN).exists()
        request._practice_admin = cached  # type: ignore[attr-defined]
    return bool(cached)
