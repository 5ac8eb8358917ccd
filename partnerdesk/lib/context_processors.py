from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, Any]:
    return {
        "DEV_INBOX_ENABLED": settings.DEV_INBOX_ENABLED,
        "PRODUCTS": [
            ("accounting", "Business Cloud Accounting"),
            ("payroll", "Payroll"),
            ("partner", "Partner Edition"),
        ],
    }
