"""Domain errors: one base class with a stable machine-readable ``code``.

Views show ``message`` to the person; the API returns RFC 9457 problem+json with ``code``.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code: str = "domain_error"
    status: int = 400
    title: str = "The request could not be completed"

    def __init__(self, message: str | None = None, *, code: str | None = None, **extra: Any) -> None:
        self.message = message or self.title
        if code is not None:
            self.code = code
        self.extra = extra
        super().__init__(self.message)


class NotFound(DomainError):
    code = "not_found"
    status = 404
    title = "Not found"


class PermissionDenied(DomainError):
    code = "permission_denied"
    status = 403
    title = "You do not have permission to do that"


class Conflict(DomainError):
    code = "conflict"
    status = 409
    title = "The request conflicts with the current state"


class InvalidTransition(Conflict):
    code = "invalid_transition"
    title = "That change is not allowed from the current state"


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429
    title = "Too many attempts"

    def __init__(self, message: str | None = None, *, resets_in: int, **extra: Any) -> None:
        super().__init__(message, resets_in=resets_in, **extra)
        self.resets_in = resets_in
