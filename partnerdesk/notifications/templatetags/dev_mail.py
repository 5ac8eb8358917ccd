"""The developer inbox shows an email's text part as written, with its web addresses clickable.

Not Django's ``urlize``: it drops the full stop in "(someone@example.test). This" (it trims the closing
bracket and the stop as punctuation, then puts back only the bracket), so the inbox showed text the email
does not contain.
"""

from __future__ import annotations

import re

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

WEB_ADDRESS = re.compile(r"https?://[^\s<>\"']+")
TRAILING = ".,;:!?)]'\""


@register.filter
def link_web_addresses(text: str) -> SafeString:
    parts: list[str] = []
    position = 0
    for found in WEB_ADDRESS.finditer(text):
        address = found.group(0).rstrip(TRAILING)
        parts.append(escape(text[position : found.start()]))
        parts.append(format_html('<a href="{}">{}</a>', address, address))
        position = found.start() + len(address)
    parts.append(escape(text[position:]))
    return mark_safe("".join(parts))  # noqa: S308 - every piece is escaped above
