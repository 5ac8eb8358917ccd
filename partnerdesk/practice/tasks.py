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


@task()
def expire_client_access_invitations() -> int:
    """Periodic: activation links older than 14 days expire; clients awaiting activation go back to no access."""
    from partnerdesk.practice.lifecycle import client_access_invitations_expire

    return client_access_invitations_expire()


@task()
def transfer_grace_run() -> dict[str, int]:
    """Periodic: day-23 and day-29 reminders and day-30 suspension for transferred clients without a mandate."""
    from partnerdesk.billing.grace import grace_run

    return grace_run()


@task()
def expire_connect_requests() -> int:
    """Periodic: practices' requests to manage a company, unanswered for 14 days, are removed (the practice is told)."""
    from partnerdesk.practice.connect import connect_requests_expire

    return connect_requests_expire()
