"""Audit events for what django-allauth and django.contrib.auth do on their own.

These libraries announce their actions with signals; the receivers only record the audit row
(no business logic), each in its own transaction with the request's IP.
"""

from __future__ import annotations

import hashlib
from typing import Any

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from django.contrib.auth import signals as auth_signals
from django.db import transaction
from django.http import HttpRequest

from partnerdesk.audit.models import Action
from partnerdesk.audit.services import record_event
from partnerdesk.identity.models import User


def _record(action: Action, *, user: Any, request: HttpRequest | None, data: dict[str, Any] | None = None) -> None:
    # Inside a transaction (the sign-in's), the row joins it: a failure fails the whole sign-in either way, so a
    # savepoint around one INSERT would only cost two more round trips.
    with transaction.atomic(savepoint=False):
        record_event(action=action, actor=user if isinstance(user, User) else None, request=request, data=data)


def on_signed_up(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    _record(Action.IDENTITY_SIGNUP, user=user, request=request)


def on_email_confirmed(sender: Any, request: HttpRequest, email_address: Any, **kwargs: Any) -> None:
    _record(Action.IDENTITY_EMAIL_VERIFY, user=email_address.user, request=request)


def on_logged_in(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    _record(Action.IDENTITY_LOGIN, user=user, request=request)


def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    email = str(credentials.get("email") or credentials.get("username") or "").strip().lower()
    user = User.objects.filter(email=email).first() if email else None
    # The typed address is not stored for unknown accounts: only a fingerprint, to spot spraying.
    data = {"email_sha256": hashlib.sha256(email.encode()).hexdigest()[:16]} if user is None else {}
    _record(Action.IDENTITY_LOGIN_FAILED, user=user, request=request, data=data)


def on_logged_out(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if user is not None:
        _record(Action.IDENTITY_LOGOUT, user=user, request=request)


def on_password_changed(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    _record(Action.IDENTITY_PASSWORD_CHANGE, user=user, request=request)


def on_password_reset(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    _record(Action.IDENTITY_PASSWORD_RESET, user=user, request=request)


def on_authenticator_added(sender: Any, request: HttpRequest, user: User, authenticator: Any, **kwargs: Any) -> None:
    _record(Action.IDENTITY_MFA_ADD, user=user, request=request, data={"type": authenticator.type})


def on_authenticator_removed(sender: Any, request: HttpRequest, user: User, authenticator: Any, **kwargs: Any) -> None:
    _record(Action.IDENTITY_MFA_REMOVE, user=user, request=request, data={"type": authenticator.type})


def on_authenticator_reset(sender: Any, request: HttpRequest, user: User, authenticator: Any, **kwargs: Any) -> None:
    _record(Action.IDENTITY_MFA_RESET, user=user, request=request, data={"type": authenticator.type})


def connect() -> None:
    account_signals.user_signed_up.connect(on_signed_up, dispatch_uid="audit_signed_up")
    account_signals.email_confirmed.connect(on_email_confirmed, dispatch_uid="audit_email_confirmed")
    account_signals.user_logged_in.connect(on_logged_in, dispatch_uid="audit_logged_in")
    account_signals.password_changed.connect(on_password_changed, dispatch_uid="audit_password_changed")
    account_signals.password_set.connect(on_password_changed, dispatch_uid="audit_password_set")
    account_signals.password_reset.connect(on_password_reset, dispatch_uid="audit_password_reset")
    auth_signals.user_login_failed.connect(on_login_failed, dispatch_uid="audit_login_failed")
    auth_signals.user_logged_out.connect(on_logged_out, dispatch_uid="audit_logged_out")
    mfa_signals.authenticator_added.connect(on_authenticator_added, dispatch_uid="audit_mfa_added")
    mfa_signals.authenticator_removed.connect(on_authenticator_removed, dispatch_uid="audit_mfa_removed")
    mfa_signals.authenticator_reset.connect(on_authenticator_reset, dispatch_uid="audit_mfa_reset")
