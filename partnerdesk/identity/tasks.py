from __future__ import annotations

from django_tasks import task

from partnerdesk.identity import services


@task()
def expire_access_requests() -> int:
    """Periodic: mark access requests older than 14 days as expired."""
    return services.access_requests_expire()


@task()
def clear_expired_oidc_tokens() -> int:
    """Periodic: delete expired OpenID Connect tokens and spent refresh tokens past their family's life."""
    from partnerdesk.identity.oidc import clear_expired_tokens

    return clear_expired_tokens()


@task()
def clear_expired_sessions() -> int:
    """Periodic: delete expired sessions (Django's ``clearsessions``) and the device rows they leave behind."""
    return services.sessions_clear_expired()
