from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer, SessionAuth

from partnerdesk.api.services import token_authenticate
from partnerdesk.identity.models import User


class BearerTokenAuth(HttpBearer):
    """``Authorization: Bearer pdt_...``: a personal access token (hashed at rest)."""

    openapi_description = "Personal access token, created in the portal or with POST /api/v1/tokens."

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = token_authenticate(plaintext=token)
        if user is None:
            return None
        request.user = user
        return user


class BrowserSessionAuth(SessionAuth):
    """The browser's signed-in session; unsafe methods need the CSRF token (X-CSRFToken header)."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
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
