"""allauth.usersessions' sign-in receiver, with the same effect in fewer statements.

At every sign-in allauth (``allauth.usersessions.signals.on_user_logged_in``) purges the person's ended sessions
from the device list and records the new one:

- ``purge_and_list`` walks the person's rows with ``.iterator()``: on PostgreSQL a server-side cursor, three round
  trips (DECLARE, FETCH, CLOSE) even for no rows. A person has a handful of rows, so one plain SELECT does it.
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
from django.http import HttpRequest


def on_user_logged_in(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    for session in list(UserSession.objects.filter(user_id=request.user.pk)):
        session.purge()
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
