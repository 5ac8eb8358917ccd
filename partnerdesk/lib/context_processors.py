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
    }
