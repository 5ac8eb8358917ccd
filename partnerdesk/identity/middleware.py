from __future__ import annotations

from collections.abc import Callable

from allauth.usersessions.models import UserSession
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse

SEEN_EVERY_SECONDS = 60


class UserSessionActivityMiddleware:
    """allauth's session tracking (device, IP, last seen), written at most once a minute per session.

    allauth's own middleware writes the session row on every request; the list of signed-in
    devices does not need second precision, and a write per page view costs every request a
    database round trip and a row lock. The throttle is per process (no shared-cache round trip):
    with N processes a session is written at most N times a minute.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session_key = getattr(getattr(request, "session", None), "session_key", None)
        user = getattr(request, "user", None)
        if (
            session_key
            and user is not None
            and user.is_authenticated
            and caches["local"].add(f"usersession-seen:{session_key}", 1, SEEN_EVERY_SECONDS)
        ):
            UserSession.objects.create_from_request(request)
        return self.get_response(request)
