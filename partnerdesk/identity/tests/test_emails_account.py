"""Our templates for every email allauth sends (templates/emails/account-*, mfa-*), rendered as the worker does."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import allauth
import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from partnerdesk.identity.adapters import AccountAdapter, email_template_name, outbox_context
from partnerdesk.identity.models import User
from partnerdesk.notifications.models import OutboundEmail
from partnerdesk.notifications.tasks import render_email

TO = "nia.evans@example.test"
CODE = "04817263"
RESET_URL = "https://partnerdesk.example/accounts/password/reset/key/1f-c9x2k4-0a1b2c3d4e5f/"
SIGNUP_URL = "https://partnerdesk.example/accounts/signup/"
FORGOT_URL = "https://partnerdesk.example/accounts/password/reset/"
WHEN = datetime.datetime(2026, 3, 14, 9, 26, tzinfo=datetime.UTC)
USER_AGENT = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Safari/605.1.15"


def _user() -> User:
    return User(email=TO, full_name="Siân O'Brien")


def _notification(**extra: Any) -> dict[str, Any]:
    """What allauth's send_notification_mail passes (timestamp, ip, user_agent, plus the template's extras)."""
    return {"timestamp": WHEN, "ip": "203.0.113.7", "user_agent": USER_AGENT, **extra}


# template prefix -> (allauth's context for it, strings that must appear in both bodies)
CASES: dict[str, tuple[dict[str, Any], list[str]]] = {
    "account/email/email_confirmation_signup": (
        {"user": _user(), "code": CODE},
        [CODE, "10 minutes", "didn't sign up", "Hello there,"],
    ),
    "account/email/email_confirmation": ({"user": _user(), "code": CODE}, [CODE, "10 minutes"]),
    "account/email/account_already_exists": (
        {"signup_url": SIGNUP_URL, "password_reset_url": FORGOT_URL},
        ["already in use", "no new account was created", "/accounts/login/", FORGOT_URL, "Forgot Password"],
    ),
    "account/email/unknown_account": (
        {"request": object(), "signup_url": SIGNUP_URL},
        ["no Partnerdesk account", SIGNUP_URL],
    ),
    "account/email/password_reset_key": (
        {
            "user": _user(),
            "password_reset_url": RESET_URL,
            "uid": "1f",
            "key": "c9x2k4-0a1b2c3d4e5f",
            "request": object(),
        },
        [RESET_URL, "1 hour", "only once"],
    ),
    "account/email/password_reset": (_notification(), ["password", "reset", "203.0.113.7", "14 March 2026"]),
    "account/email/password_changed": (_notification(), ["password", "changed", "203.0.113.7", "Safari"]),
    "account/email/password_set": (_notification(), ["password was set", "203.0.113.7"]),
    "account/email/email_changed": (
        _notification(from_email=TO, to_email="nia@newjob.example"),
        [TO, "nia@newjob.example", "203.0.113.7"],
    ),
    "account/email/email_confirm": (_notification(), ["confirmed", "203.0.113.7"]),
    "account/email/email_deleted": (_notification(deleted_email="old@example.test"), ["old@example.test", "removed"]),
    "account/email/login_code": ({"request": object(), "code": CODE}, [CODE, "sign-in code"]),
    "account/email/password_reset_code": ({"request": object(), "code": CODE}, [CODE, "reset code"]),
    "mfa/email/totp_activated": (_notification(), ["authenticator app", "203.0.113.7"]),
    "mfa/email/totp_deactivated": (_notification(), ["authenticator app was removed", "203.0.113.7"]),
    "mfa/email/recovery_codes_generated": (_notification(), ["recovery codes", "no longer work", "203.0.113.7"]),
}


def _render(prefix: str, context: dict[str, Any], *, recipient_name: str = ""):
    """As in production: the adapter reduces the context, the outbox stores it as JSON, the worker renders it.
    ``recipient_name``: what ``send_email`` adds, the name of the person whose verified address it goes to."""
    stored = json.loads(json.dumps(outbox_context(context), cls=DjangoJSONEncoder))
    stored["recipient_name"] = recipient_name
    email = OutboundEmail(template=email_template_name(prefix), to=[TO], context=stored)
    message = render_email(email)
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return message, str(html)


@pytest.mark.parametrize("prefix", list(CASES))
def test_email_renders_its_key_content_in_subject_text_and_html(prefix):
    context, expected = CASES[prefix]
    message, html = _render(prefix, context)
    assert message.subject.strip()
    assert "\n" not in message.subject
    assert "{{" not in message.subject + message.body + html
    assert "Partnerdesk" in message.body
    assert "Partnerdesk" in html
    assert html.lstrip().startswith("<!DOCTYPE html>")
    for text in expected:
        assert text in message.body, (prefix, text, message.body)
        assert text in html or text.replace("'", "&#x27;") in html, (prefix, text)  # names are escaped in HTML


@pytest.mark.parametrize("prefix", list(CASES))
def test_no_subject_carries_a_secret(prefix):
    """The outbox keeps the subject after sending (decision 18: sent rows forget their secrets), so a code, key
    or link may only be in the body."""
    context, _ = CASES[prefix]
    message, _ = _render(prefix, context)
    secrets = [CODE, RESET_URL, "c9x2k4-0a1b2c3d4e5f", SIGNUP_URL, FORGOT_URL, "http"]
    assert not [secret for secret in secrets if secret in message.subject], message.subject


def test_signup_code_subject_reads_as_specified():
    message, _ = _render(*next((p, c) for p, (c, _) in CASES.items() if p.endswith("email_confirmation_signup")))
    assert message.subject == "Your Partnerdesk verification code"


def test_already_exists_email_links_to_sign_in_on_our_base_url():
    message, html = _render("account/email/account_already_exists", CASES["account/email/account_already_exists"][0])
    assert f"{settings.BASE_URL}/accounts/login/" in message.body
    assert f'href="{settings.BASE_URL}/accounts/login/"' in html
    assert f'href="{FORGOT_URL}"' in html


def test_reset_link_is_a_clickable_link_in_html():
    _, html = _render("account/email/password_reset_key", CASES["account/email/password_reset_key"][0])
    assert f'href="{RESET_URL}"' in html


def test_plain_text_is_not_html_escaped_but_html_is():
    message, html = _render(
        "account/email/password_reset_key",
        CASES["account/email/password_reset_key"][0],
        recipient_name="Siân O'Brien",
    )
    assert "Hello Siân O'Brien," in message.body
    assert "&#x27;" not in message.body
    assert "Siân O&#x27;Brien" in html


def test_greeting_falls_back_when_the_user_has_no_name():
    message, html = _render(
        "account/email/password_reset_key", {**CASES["account/email/password_reset_key"][0], "user": User(email=TO)}
    )
    assert "Hello there," in message.body
    assert "Hello there," in html


@pytest.mark.django_db
@pytest.mark.parametrize("prefix", ["email_confirmation_signup", "email_confirmation", "password_reset_key"])
def test_a_name_typed_at_sign_up_is_never_sent_to_an_address_nobody_proved(prefix):
    """Create account with someone else's address and a "name" that is a message: the code email goes to that
    address, so it greets nobody by the typed name (decision 69's rule: by name only when the address is verified)."""
    lure = "Your account is locked - call 0800 000 0000 now"
    user = User.objects.create(email=TO, full_name=lure)
    EmailAddress.objects.create(user=user, email=TO, verified=False, primary=True)
    context = {**CASES[f"account/email/{prefix}"][0], "user": user}

    def sent() -> tuple[str, str]:
        AccountAdapter().send_mail(f"account/email/{prefix}", TO, context)
        message = render_email(
            OutboundEmail.objects.filter(template=email_template_name(f"account/email/{prefix}")).latest("created_at")
        )
        return str(message.body), str(message.alternatives[0][0])

    body, html = sent()
    assert lure not in body
    assert lure not in html
    assert body.startswith("Hello there,")

    EmailAddress.objects.filter(user=user).update(verified=True)  # once proved, the person's own name is theirs
    body, _ = sent()
    assert body.startswith(f"Hello {lure},")


def test_notification_time_is_shown_in_uk_time():
    with timezone.override("Europe/London"):
        message, _ = _render("account/email/password_changed", _notification(timestamp=WHEN.replace(month=7)))
    assert "14 July 2026 at 10:26 BST" in message.body  # 09:26 UTC in summer


def _allauth_email_prefixes() -> set[str]:
    root = Path(allauth.__file__).parent / "templates"
    prefixes = set()
    for app in ("account", "mfa"):
        for subject in (root / app / "email").glob("*_subject.txt"):
            prefixes.add(f"{app}/email/{subject.name.removesuffix('_subject.txt')}")
    return prefixes


def test_every_email_allauth_can_send_with_our_settings_has_our_three_templates():
    sendable = {
        prefix
        for prefix in _allauth_email_prefixes()
        if not (prefix.startswith("mfa/email/webauthn") and "webauthn" not in settings.MFA_SUPPORTED_TYPES)
    }
    assert sendable == set(CASES), "a new allauth email needs our templates and a case here"
    templates = Path(settings.BASE_DIR) / "templates" / "emails"
    for prefix in sendable:
        name = email_template_name(prefix)
        for part in ("subject.txt", "body.txt", "body.html"):
            assert (templates / f"{name}-{part}").is_file(), f"{name}-{part}"


def test_no_subject_template_names_a_code_token_or_link():
    """Every email's subject (ours too, not only allauth's): the outbox keeps it after sending."""
    import re

    secret = re.compile(r"\{\{\s*(code|key|token|\w*_url|\w*_path|\w*password\w*)\b")
    subjects = sorted((Path(settings.BASE_DIR) / "templates" / "emails").glob("*-subject.txt"))
    assert len(subjects) > 30
    assert [s.name for s in subjects if secret.search(s.read_text())] == []
