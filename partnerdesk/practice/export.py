"""CSV export of a client list, streamed row by row (any size, constant memory)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from partnerdesk.practice.models import Client

HEADER = [
    "Business name",
    "Contact",
    "Email",
    "Phone",
    "Address",
    "Postcode",
    "VAT number",
    "Company number",
    "Customer number",
    "Tab",
    "Access",
    "Who pays",
    "Hidden",
]


class _Line:
    def write(self, value: str) -> str:
        return value


def _safe(value: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection): a leading = + - @ is prefixed with a quote."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def clients_csv(clients: Iterable[Client]) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield "\ufeff" + writer.writerow(HEADER)  # BOM: Excel opens UTF-8 correctly
    for c in clients:
        yield writer.writerow(
            [
                _safe(c.business_name),
                _safe(c.contact_name),
                _safe(c.email),
                _safe(c.phone),
                _safe(c.address),
                c.postcode,
                c.vat_number,
                c.company_number,
                c.company.customer_number,
                c.get_tab_display(),
                c.get_access_display(),
                c.get_payer_display(),
                "yes" if c.hidden else "no",
            ]
        )
