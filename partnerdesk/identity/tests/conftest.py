"""Fixtures for the account journeys: a clean rate-limit cache, the outbox worker, and the outbox itself."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.core import mail
from django.core.management import call_command

from partnerdesk.notifications.models import OutboundEmail

CSRF_TOKEN = re.compile(r"\b[A-Za-z0-9]{64}\b")


@pytest.fixture
def run_worker() -> Callable[[], None]:
    """Run the real task worker until no task is due, as `manage.py db_worker --batch` does."""

    def run() -> None:
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "--queue-name", "*", verbosity=0)

    return run


def outbox_for(email: str) -> list[OutboundEmail]:
    """Outbox messages queued to ``email``, oldest first (readable before the worker delivers them)."""
    return sorted(
        (message for message in OutboundEmail.objects.all() if email in message.to),
        key=lambda message: message.created_at,
    )


def last_outbox_for(email: str, template: str | None = None) -> OutboundEmail:
    messages = [m for m in outbox_for(email) if template is None or m.template == template]
    assert messages, f"no outbox message to {email} ({template or 'any template'})"
    return messages[-1]


def delivered_to(email: str) -> tuple[str, str, str]:
    """The last message the worker delivered to ``email`` (locmem backend): subject, text body, HTML body."""
    messages = [m for m in mail.outbox if email in m.to]
    assert messages, f"nothing delivered to {email}"
    message = messages[-1]
    html = next(
        (str(content) for content, mimetype in getattr(message, "alternatives", []) if mimetype == "text/html"), ""
    )
    return str(message.subject), str(message.body), html


def without_csrf(html: str) -> str:
    """A page's HTML with the per-response (masked) CSRF tokens blanked, so two pages can be compared byte for byte."""
    return CSRF_TOKEN.sub("CSRF", html)
