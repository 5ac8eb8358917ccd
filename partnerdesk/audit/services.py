from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.http import HttpRequest

from partnerdesk.audit.models import Action, Event
from partnerdesk.lib.request import client_ip

if TYPE_CHECKING:
    from partnerdesk.identity.models import Company, User
    from partnerdesk.practice.models import Client, Practice


def record_event(
    *,
    action: Action,
    actor: User | None = None,
    request: HttpRequest | None = None,
    practice: Practice | None = None,
    company: Company | None = None,
    client: Client | None = None,
    data: dict[str, Any] | None = None,
    using: str = "default",
) -> Event:
    """Append an audit event. Must run inside the caller's transaction so both commit or neither does."""
    if not transaction.get_connection(using).in_atomic_block:
        raise RuntimeError("record_event must be called inside the service's transaction.atomic block")
    if action not in Action.values:
        raise ValueError(f"unknown audit action {action!r}")
    if actor is not None and not actor.is_authenticated:
        actor = None
    return Event.objects.using(using).create(
        action=action,
        actor=actor,
        actor_email=actor.email if actor is not None else "",
        ip=client_ip(request),
        practice=practice,
        company=company,
        client=client,
        data=data or {},
    )
