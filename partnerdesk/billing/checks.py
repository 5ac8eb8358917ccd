"""System checks: invoices are valid UK VAT invoices only with the supplier's name, address and VAT number."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error

SUPPLIER_SETTINGS = ("INVOICE_SUPPLIER_NAME", "INVOICE_SUPPLIER_ADDRESS", "INVOICE_SUPPLIER_VAT_NUMBER")


def supplier_details(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Without them an invoice is no valid VAT invoice: ``migrate``, the worker and runserver refuse to start."""
    missing = [name for name in SUPPLIER_SETTINGS if not getattr(settings, name, None)]
    if not missing:
        return []
    return [
        Error(
            f"{', '.join(missing)} not set: invoices would not be valid UK VAT invoices",
            hint="Set the supplier's name, address (lines separated by |) and UK VAT registration number in the "
            "environment (DEBUG has demo values).",
            id="billing.E001",
        )
    ]
