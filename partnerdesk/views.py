from __future__ import annotations

import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from partnerdesk.identity.ratelimits import limit_message, retry_after
from partnerdesk.identity.selectors import home_summary
from partnerdesk.lib.errors import RateLimited

logger = logging.getLogger(__name__)


def home(request: HttpRequest) -> HttpResponse:
    context = home_summary(user=request.user) if request.user.is_authenticated else {}
    return render(request, "home.html", context)


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on their own (PDFs, JSON, error pages): send them to the site's icon."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


@require_GET
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness and readiness: 200 when the database answers, 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("health check: database unreachable")
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def too_many_requests(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """allauth's rate limits answer with this page (URLconf ``handler429``): it says when to try again."""
    seconds = retry_after(request)
    response = render(request, "429.html", {"retry_after_message": limit_message(request)}, status=429)
    if seconds:
        response["Retry-After"] = str(seconds)
    return response


def rate_limited_page(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    """Our own named limiters' page: the same 429 page, with the minutes left and ``Retry-After``."""
    response = render(request, "429.html", {"retry_after_message": exc.message}, status=429)
    response["Retry-After"] = str(exc.resets_in)
    return response
