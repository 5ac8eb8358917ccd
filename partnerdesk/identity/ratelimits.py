"""allauth's rate limits, saying how long they last: "Too many attempts, try again in N minutes."

allauth (``allauth.core.internal.ratelimit``) keeps, for each rate of an action and each IP, key or
user, a list of hit timestamps in the shared cache (newest first, under
``allauth:rl:<app>:<action>:<rate>:<ip|user|key hash>``). ``consume`` refuses a request when a list
already holds ``amount`` hits younger than ``duration``. It never says for how long: its 429 answers
(``respond_429``, headless ``RateLimitResponse``) and its form errors ("Try again later") carry no time.

``install()`` (from ``IdentityConfig.ready``) wraps ``consume``, which every allauth limit goes
through (the views' decorators, ``consume_or_429``, the login-failure lock in the adapter, the
code resend, MFA). When it refuses, the wrapper reads the same cache entries and works out when the
refusing rates let the next attempt in, and keeps that on the request. Then:

- the 429 page (URLconf ``handler429`` -> ``partnerdesk.views.too_many_requests``) says the time
  and sends ``Retry-After``;
- the adapter's ``too_many_login_attempts`` / ``rate_limited`` messages (form errors and flash
  messages) say the time;
- ``RateLimitMiddleware`` turns the account API's (allauth headless) rate-limited answers into
  ``application/problem+json`` with code ``rate_limited`` and ``Retry-After``.

The wrapper adds nothing to an allowed request (no extra cache read): the cache is read again only
on the refusal path.
"""

from __future__ import annotations

import functools
import json
import math
import time
from collections.abc import Callable
from typing import Any

from allauth.core.exceptions import RateLimited
from allauth.core.internal import ratelimit as allauth_ratelimit
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse

from partnerdesk.lib.ratelimit import too_many_attempts_message

# Where the seconds until the limit that fired lets the next attempt in are kept on the request.
REQUEST_ATTRIBUTE = "partnerdesk_rate_limit_seconds"
PROBLEM_CODE = "rate_limited"
PROBLEM_TITLE = "Too many attempts"
# allauth's own error codes that mean "a rate limit refused this" in form and API errors.
ALLAUTH_LIMIT_CODES = frozenset({"too_many_login_attempts", "rate_limited"})


def seconds_until_allowed(
    request: HttpRequest,
    *,
    app: str,
    action: str,
    config: dict[str, str] | None = None,
    key: str | None = None,
    user: Any = None,
    now: float | None = None,
) -> int:
    """Whole seconds (rounded up) until every full rate of ``action`` for this IP/key/user admits one more hit.

    Reads allauth's cache entries (the same keys and the same arithmetic as ``apply_rate``): a rate
    holding ``amount`` live hits admits the next one when its ``amount``-th newest hit is ``duration``
    old. 0 when no rate is full (e.g. allauth could not take its cache lock).
    """
    now = time.time() if now is None else now
    wait = 0.0
    for rate in allauth_ratelimit.get_rates(app=app, action=action, config=config):
        try:
            cache_key = allauth_ratelimit.get_cache_key(request, app=app, action=action, rate=rate, key=key, user=user)
        except ImproperlyConfigured:
            continue
        live = sorted((ts for ts in cache.get(cache_key, []) if ts > now - rate.duration), reverse=True)
        if len(live) >= rate.amount:
            wait = max(wait, live[rate.amount - 1] + rate.duration - now)
    return math.ceil(wait) if wait > 0 else 0


def note_refusal(request: HttpRequest | None, seconds: int) -> None:
    """Keep on the request how long the limit that refused it lasts (the longest, if several refused)."""
    if request is None:
        return
    # allauth's cache lock timed out (nothing is full): it clears within the lock's timeout.
    seconds = seconds or allauth_ratelimit.CACHE_LOCK_TIMEOUT
    setattr(request, REQUEST_ATTRIBUTE, max(seconds, getattr(request, REQUEST_ATTRIBUTE, 0)))


def retry_after(request: HttpRequest | None) -> int | None:
    """Seconds until the rate limit that refused this request lets the next attempt in; None if none refused it."""
    return getattr(request, REQUEST_ATTRIBUTE, None) if request is not None else None


def _wrap(consume: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(consume)
    def consume_noting_refusals(request: HttpRequest, **kwargs: Any) -> Any:
        try:
            usage = consume(request, **kwargs)
        except RateLimited:
            _note(request, kwargs)
            raise
        if usage is None:
            _note(request, kwargs)
        return usage

    consume_noting_refusals.partnerdesk_wrapped = consume  # type: ignore[attr-defined]
    return consume_noting_refusals


def _note(request: HttpRequest, kwargs: dict[str, Any]) -> None:
    seconds = seconds_until_allowed(
        request,
        app=kwargs["app"],
        action=kwargs["action"],
        config=kwargs.get("config"),
        key=kwargs.get("key"),
        user=kwargs.get("user"),
    )
    note_refusal(request, seconds)


def install() -> None:
    """Wrap allauth's ``consume`` once (its callers look it up on the module at call time)."""
    if not hasattr(allauth_ratelimit.consume, "partnerdesk_wrapped"):
        allauth_ratelimit.consume = _wrap(allauth_ratelimit.consume)


def limit_message(request: HttpRequest | None) -> str | None:
    """ "Too many attempts, try again in N minutes." for a request a rate limit refused, else None."""
    seconds = retry_after(request)
    return too_many_attempts_message(seconds) if seconds else None


# --- The account API (allauth headless) -------------------------------------------------------------


def _is_headless(request: HttpRequest) -> bool:
    return hasattr(getattr(request, "allauth", None), "headless")


def _allauth_errors(response: HttpResponse) -> list[dict[str, Any]] | None:
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None
    errors = body.get("errors") if isinstance(body, dict) else None
    return errors if isinstance(errors, list) else []


def _problem(request: HttpRequest, seconds: int, errors: list[dict[str, Any]]) -> HttpResponse:
    from partnerdesk.api.problems import problem

    message = too_many_attempts_message(seconds)
    extra: dict[str, Any] = {"retry_after": seconds}
    if errors:
        # allauth's clients read ``errors``; they keep its codes, with our wording.
        extra["errors"] = [{**error, "message": message} for error in errors]
    return problem(request, status=429, code=PROBLEM_CODE, title=PROBLEM_TITLE, detail=message, **extra)


class RateLimitMiddleware:
    """Rate-limited answers say when to try again.

    - Any 429 from a refused rate limit gets ``Retry-After`` (seconds).
    - The account API (allauth headless) answers a refused request with RFC 9457 problem+json,
      status 429, code ``rate_limited``, the sentence in ``detail`` and the seconds in ``retry_after``:
      also when allauth itself answers with a 400 form error for the failed-sign-in lock
      (``too_many_login_attempts``), which is a rate limit too.

    Requests no limit refused pass through untouched (one attribute read).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        seconds = getattr(request, REQUEST_ATTRIBUTE, None)
        if not seconds:
            return response
        if _is_headless(request) and response.status_code in (400, 429):
            errors = _allauth_errors(response)
            if errors is not None and (
                response.status_code == 429
                or (errors and all(error.get("code") in ALLAUTH_LIMIT_CODES for error in errors))
            ):
                response = _problem(request, seconds, errors)
        if response.status_code == 429 and not response.has_header("Retry-After"):
            response["Retry-After"] = str(seconds)
        return response
