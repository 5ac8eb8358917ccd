from __future__ import annotations

from django_tasks import task

from partnerdesk.practice import staff_services


@task()
def expire_staff_invitations() -> int:
    """Periodic: mark staff invitations older than 14 days as expired."""
    return staff_services.invitations_expire()
