"""allauth.usersessions' sign-in receiver, with the same effect in fewer statements.

At every sign-in allauth (``allauth.usersessions.signals.on_user_logged_in``) purges the person's ended sessions
from the device list and records the new one:

- ``purge_and_list`` walks the person's rows with ``.iterator()`` (on PostgreSQL a server-side cursor) and, for each,
  reads its session row and then its user: two statements per device, so a person with 130 live sessions (an
  integration signing in all day) paid 260 statements and about 200 ms per sign-in. Here one DELETE drops every
  row of the person's whose session is gone or expired. A row whose session is alive but no longer signs anyone
  in (its password hash changed) stays until the Security page lists the devices (allauth's list purges those),
  or the session expires; ``sessions_clear_expired`` drops it daily.
- ``create_from_request`` runs ``get_or_create`` for the session key in two nested transactions: a SELECT and
  four SAVEPOINT statements around the INSERT. After a sign-in the key was made by this request and has no row
  (``partnerdesk.identity.sessions.SessionStore.is_new``), so the row is INSERTed at once, with the same
  values (device, IP, user agent cut to the column's length). Any other case goes through allauth's own code.

``connect()`` (from ``IdentityConfig.ready``) swaps allauth's receiver for this one.
"""

from __future__ import annotations

from typing import Any

from allauth.account import signals as account_signals
from allauth.account.adapter import get_adapter
from allauth.usersessions import signals as usersessions_signals
from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone


def ended(*, user_id: int | None = None) -> Q:
    """Device rows whose session row is gone or expired (one person's, or everyone's)."""
    live = Session.objects.filter(expire_date__gt=timezone.now()).values("session_key")
    ended = ~Q(session_key__in=live)
    return ended & Q(user_id=user_id) if user_id is not None else ended


def on_user_logged_in(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    UserSession.objects.filter(ended(user_id=request.user.pk)).delete()
    if getattr(request.session, "is_new", False) and request.user.is_authenticated:
        user_agent_max = UserSession._meta.get_field("user_agent").max_length
        UserSession.objects.create(
            user=request.user,
            session_key=request.session.session_key,
            ip=get_adapter().get_client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[0:user_agent_max],
        )
    else:
        UserSession.objects.create_from_request(request)


def connect() -> None:
    account_signals.user_logged_in.disconnect(receiver=usersessions_signals.on_user_logged_in)
    account_signals.user_logged_in.connect(on_user_logged_in, dispatch_uid="partnerdesk_usersessions_logged_in")
