from __future__ import annotations

from django_tasks import task

from partnerdesk.practice import import_services, staff_services


@task()
def expire_staff_invitations() -> int:
    """Periodic: mark staff invitations older than 14 days as expired."""
    return staff_services.invitations_expire()


@task()
def discard_stale_import_drafts() -> int:
    """Periodic: discard CSV import previews left for a week, erasing their rows."""
    return import_services.import_drafts_discard_stale()
