from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer, SessionAuth

from partnerdesk.api.services import token_authenticate
from partnerdesk.identity.models import User


class BearerTokenAuth(HttpBearer):
    """``Authorization: Bearer pdt_...``: a personal access token (hashed at rest).

    A request that sends an ``Authorization`` header is judged by it alone: a missing, unknown, revoked or expired
    token (or another scheme) is a 401 and never falls back to the session cookie. Without the header the next
    method (the browser session) is tried."""

    openapi_description = "Personal access token, created in the portal or with POST /api/v1/tokens."

    def __call__(self, request: HttpRequest) -> Any:
        if self.header not in request.headers:
            return None
        user = super().__call__(request)
        if not user:
            raise AuthenticationError()
        return user

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = token_authenticate(plaintext=token)
        if user is None:
            return None
        request.user = user
        return user


class BrowserSessionAuth(SessionAuth):
    """The browser's signed-in session; unsafe methods need the CSRF token (X-CSRFToken header).

    CSRF is checked only for a signed-in session: a request that is not signed in has nothing to forge and gets
    the 401 ``not_authenticated``, not a 403."""

    def _get_key(self, request: HttpRequest) -> str | None:
        if _session_user(request) is None:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return _session_user(request)


def _session_user(request: HttpRequest) -> Any:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_active:
        return user
    return None


def api_user(request: HttpRequest) -> User:
    """The authenticated user of an API request (every endpoint behind ``auth`` has one)."""
    user = request.user
    if not isinstance(user, User):
        raise AuthenticationError()
    return user
