"""allauth's sign-up form and code view, with the two rules allauth leaves to us.

A separate module: allauth's forms module imports our ACCOUNT_SIGNUP_FORM_CLASS (identity.forms),
so subclassing allauth's SignupForm there would be circular.
"""

from __future__ import annotations

import time
from typing import Any

from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.account.internal.flows.email_verification_by_code import EMAIL_VERIFICATION_CODE_SESSION_KEY
from allauth.account.views import ConfirmEmailVerificationCodeView, LoginView
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.views.generic.edit import FormView

from partnerdesk.identity.models import User
from partnerdesk.identity.ratelimits import seconds_until_allowed

CODE_EXPIRED_MESSAGE = "That code has expired. Sign in again and we'll email you a new one."
EMPTY_CODE_MESSAGE = "Enter the code from the email."


class SignupForm(AllauthSignupForm):
    """Also refuses a password too similar to the full name (allauth checks only against the email)."""

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean()
        password = cleaned.get("password1")
        if password:
            candidate = User(email=cleaned.get("email", ""), full_name=cleaned.get("full_name", ""))
            try:
                password_validation.validate_password(password, candidate)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


def resend_wait_seconds(request: HttpRequest, email: str) -> int:
    """Seconds until Resend code may send another code to ``email``: what is left of allauth's limit on codes sent
    to one address (ACCOUNT_RATE_LIMITS["confirm_email"], one a minute), from when the last one was sent. Read, not
    counted; 0 when it may send now."""
    return seconds_until_allowed(request, app="allauth.account", action="confirm_email", key=email.lower())


class ConfirmEmailCodeView(ConfirmEmailVerificationCodeView):
    """The "We sent a code" page (creating an account, and changing the email address): says clearly when a code
    has expired, a resent code gets its own ten minutes (allauth keeps the first code's clock), and Resend code
    waits for what is left of the server's cooldown, however often the page is shown."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        state = request.session.get(EMAIL_VERIFICATION_CODE_SESSION_KEY)
        if state and time.time() - state.get("at", 0) > settings.ACCOUNT_EMAIL_VERIFICATION_BY_CODE_TIMEOUT:
            messages.error(request, CODE_EXPIRED_MESSAGE)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)
        if context.get("can_resend"):
            context["resend_wait"] = resend_wait_seconds(self.request, self._process.email)
        return context

    def _verify_form_invalid(self, form: Any) -> HttpResponse:
        """Verify pressed with the code box empty is a form error ("Enter the code"), not a wrong code: it does not
        use up one of the code's attempts (allauth counts every invalid form)."""
        if not str(form.data.get("code", "")).strip():
            form.errors.pop("code", None)
            form.add_error("code", EMPTY_CODE_MESSAGE)
            response: HttpResponse = FormView.form_invalid(self, form)
            return response
        invalid: HttpResponse = super()._verify_form_invalid(form)
        return invalid

    def _resend_form_valid(self, form: Any) -> HttpResponse:
        response: HttpResponse = super()._resend_form_valid(form)
        if getattr(self._process, "did_send", False):
            self._process.state["at"] = time.time()
            self._process.persist()
        return response


class AtomicLoginView(LoginView):
    """allauth's sign-in, with its writes (last login, device, audit) committed once, not three times; the session
    row follows at the end of the request (partnerdesk.identity.sessions)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with transaction.atomic():
            response: HttpResponse = super().post(request, *args, **kwargs)
        return response
