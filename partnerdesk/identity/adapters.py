"""django-allauth configured for Partnerdesk: every email goes through the outbox, full name on sign-up."""

from __future__ import annotations

import datetime
import re
from typing import Any
from urllib.parse import urlencode

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from allauth.account.utils import get_login_redirect_url
from allauth.core.internal.httpkit import is_headless_request
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import get_random_string

from partnerdesk.identity.models import User
from partnerdesk.identity.ratelimits import limit_message
from partnerdesk.notifications.services import send_email

# allauth says "too_many_login_attempts" also when a code was typed wrong too often (no rate limit fired).
TOO_MANY_WRONG_CODES_MESSAGE = "Too many incorrect codes. In a minute, sign in again and we'll email you a new one."
# Only when a limit refused a request without going through allauth's consume (not expected).
LIMITED_MESSAGE = "Too many attempts. Please wait, then try again."

# Where a person goes when nothing more specific waits for them: Home or a product's home.
_LANDING = re.compile(r"^/(products/[a-z-]+/)?(\?.*)?$")

# Context keys that are objects we do not carry into the outbox (the worker has BASE_URL of its own).
_DROPPED = {"request", "current_site", "emailconfirmation", "email_address"}


def email_template_name(template_prefix: str) -> str:
    """``account/email/password_reset_key`` -> ``account-password_reset_key`` (templates/emails/...)."""
    app, _, name = template_prefix.partition("/email/")
    return f"{app}-{name}"


def outbox_context(context: dict[str, Any]) -> dict[str, Any]:
    """allauth's email context, reduced to JSON-safe values the email templates use."""
    safe: dict[str, Any] = {}
    for key, value in context.items():
        if key in _DROPPED:
            continue
        if isinstance(value, AbstractBaseUser):
            safe[key] = {"email": getattr(value, "email", ""), "full_name": getattr(value, "full_name", "")}
        elif isinstance(value, datetime.datetime):
            safe[key] = f"{timezone.localtime(value):%-d %B %Y at %H:%M %Z}"
        elif value is None or isinstance(value, str | int | float | bool):
            safe[key] = value
        else:
            safe[key] = str(value)
    return safe


def user_display(user: AbstractBaseUser) -> str:
    return getattr(user, "full_name", "") or getattr(user, "email", "")


class AccountAdapter(DefaultAccountAdapter):
    def set_password(self, user: AbstractBaseUser, password: str) -> None:
        """Change, reset and set all come here: a new password also ends the products' sessions (their OpenID Connect
        tokens), as allauth ends the other browser sessions; whoever held one must sign in again with it."""
        from partnerdesk.identity.services import product_tokens_revoke

        with transaction.atomic():
            super().set_password(user, password)
            product_tokens_revoke(user_ids=[user.pk])

    @property
    def error_messages(self) -> dict[str, Any]:
        """allauth's messages; a rate-limited request is told when it may try again (partnerdesk.identity.ratelimits)."""
        timed = limit_message(self.request)
        return {
            **DefaultAccountAdapter.error_messages,
            "too_many_login_attempts": timed or TOO_MANY_WRONG_CODES_MESSAGE,
            "rate_limited": timed or LIMITED_MESSAGE,
            # Change password, the current password typed wrong (allauth: "Please type your current password.").
            "enter_current_password": "That is not your current password.",
        }

    def post_login(
        self,
        request: HttpRequest,
        user: AbstractBaseUser,
        *,
        email_verification: str,
        signal_kwargs: dict[str, Any] | None,
        email: str | None,
        signup: bool,
        redirect_url: str | None,
    ) -> HttpResponse:
        """The seed: once the sign-up code is entered, the person is asked for their Customer Number or
        Registration ID. Someone who chose a product first goes there afterwards (the link screen's ``next``);
        a sign-up that came from a link with its own destination (an activation, an approval) goes there."""
        if signup and not is_headless_request(request):
            target = get_login_redirect_url(request, redirect_url, signup=True)
            if _LANDING.match(target):  # the link screen itself (no next) is not a landing page
                redirect_url = f"{reverse('identity:link_subscription')}?{urlencode({'next': target})}"
        return super().post_login(
            request,
            user,
            email_verification=email_verification,
            signal_kwargs=signal_kwargs,
            email=email,
            signup=signup,
            redirect_url=redirect_url,
        )

    def clean_email(self, email: str) -> str:
        """RFC 5321: the part before the @ is at most 64 characters (Django's validator does not check it, and
        mail servers refuse such an address, so the code would never arrive)."""
        if len(email.rpartition("@")[0]) > 64:
            raise ValidationError("The part before the @ can be at most 64 characters.", code="email_local_too_long")
        return super().clean_email(email)

    def authenticate(self, request: HttpRequest, **credentials: Any) -> AbstractBaseUser | None:
        """allauth's, then the person's addresses read once: the rest of the sign-in (the verified-address check
        before the code limit, the email verification stage) asks ``EmailAddress.objects.get_for_user`` twice,
        which answers from allauth's own per-user cache (``fill_cache_for_user``) instead of two queries."""
        user = super().authenticate(request, **credentials)
        if user is not None:
            addresses = list(EmailAddress.objects.filter(user_id=user.pk))
            for address in addresses:
                address.user = user
            EmailAddress.objects.fill_cache_for_user(user, addresses)
        return user

    def send_account_already_exists_mail(self, email: str) -> None:
        """Create account with an address that has an account (form and account API): no account is made, so
        no password is hashed, and the answer came back about one Argon2id faster than a new address's, which
        told the address apart. The same hash is computed here and thrown away."""
        make_password(get_random_string(32))
        super().send_account_already_exists_mail(email)

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        with transaction.atomic():
            send_email(
                template=email_template_name(template_prefix),
                to=email,
                context=outbox_context({"email": email, **context}),
            )

    def save_user(self, request: HttpRequest, user: AbstractBaseUser, form: Form, commit: bool = True) -> Any:
        user = super().save_user(request, user, form, commit=False)
        if isinstance(user, User):
            user.full_name = " ".join(str(form.cleaned_data.get("full_name", "")).split())
        if commit:
            user.save()
        return user
