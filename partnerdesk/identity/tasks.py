from __future__ import annotations

from django_tasks import task

from partnerdesk.identity import services


@task()
def expire_access_requests() -> int:
    """Periodic: mark access requests older than 14 days as expired."""
    return services.access_requests_expire()
