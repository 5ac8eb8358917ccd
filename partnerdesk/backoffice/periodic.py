"""Periodic jobs: which task runs how often. `manage.py scheduler` enqueues each once per slot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string

from partnerdesk.backoffice.models import PeriodicRun


@dataclass(frozen=True)
class Periodic:
    name: str
    task_path: str
    every_seconds: int


SCHEDULE = [
    Periodic("identity.expire_access_requests", "partnerdesk.identity.tasks.expire_access_requests", 3600),
    Periodic("practice.expire_staff_invitations", "partnerdesk.practice.tasks.expire_staff_invitations", 3600),
    Periodic("practice.discard_stale_import_drafts", "partnerdesk.practice.tasks.discard_stale_import_drafts", 86400),
    # Daily (slots start 00:00 UTC, already the 1st in London): bills last month on the 1st, catches up a missed run.
    Periodic("billing.invoice_run_monthly", "partnerdesk.billing.invoicing.invoice_run_monthly", 86400),
    Periodic(
        "practice.expire_client_access_invitations", "partnerdesk.practice.tasks.expire_client_access_invitations", 3600
    ),
    Periodic("practice.transfer_grace_run", "partnerdesk.practice.tasks.transfer_grace_run", 3600),
    Periodic("practice.expire_connect_requests", "partnerdesk.practice.tasks.expire_connect_requests", 3600),
    Periodic("identity.clear_expired_oidc_tokens", "partnerdesk.identity.tasks.clear_expired_oidc_tokens", 86400),
    Periodic("identity.clear_expired_sessions", "partnerdesk.identity.tasks.clear_expired_sessions", 86400),
]


def enqueue_due(*, now: datetime, schedule: list[Periodic] | None = None) -> list[str]:
    """Enqueue every job whose current slot has not been enqueued yet (by any scheduler). Returns their names."""
    enqueued = []
    for periodic in schedule or SCHEDULE:
        slot = int(now.timestamp()) // periodic.every_seconds * periodic.every_seconds
        try:
            with transaction.atomic():
                PeriodicRun.objects.create(name=periodic.name, slot=slot)
                task: Any = import_string(periodic.task_path)
                task.enqueue()
        except IntegrityError:
            continue  # another scheduler got this slot
        enqueued.append(periodic.name)
    return enqueued
