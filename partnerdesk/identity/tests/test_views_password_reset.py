"""Forgot Password (issue 3, journey 4): enumeration-safe request, single-use one-hour link, other sessions end."""

from __future__ import annotations

import datetime
import re
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import mail
from django.test import Client

from partnerdesk.identity.tests.conftest import delivered_to, last_outbox_for, outbox_for, without_csrf
from partnerdesk.identity.tests.factories import PASSWORD, UserFactory

RESET = "/accounts/password/reset/"
RESET_DONE = "/accounts/password/reset/done/"
KEY_DONE = "/accounts/password/reset/key/done/"
LOGIN = "/accounts/login/"
NEW_PASSWORD = "a brand new lighthouse keeper"


def _request_reset(client: Client, email: str):
    return client.post(RESET, {"email": email})


def _reset_path(email: str) -> str:
    url = last_outbox_for(email, "account-password_reset_key").context["password_reset_url"]
    return urlsplit(url).path


def _set_new_password(client: Client, path: str, password: str = NEW_PASSWORD):
    """Open the emailed link (allauth moves the key into the session and redirects), then choose a password."""
    opened = client.get(path)
    assert opened.status_code == 302, "a valid link redirects to the set-password form"
    form_path = opened["Location"]
    form = client.get(form_path)
    assert form.status_code == 200
    assert not form.context.get("token_fail")
    return client.post(form_path, {"password1": password, "password2": password})


def _signs_in(email: str, password: str) -> bool:
    browser = Client()
    response = browser.post(LOGIN, {"login": email, "password": password})
    return response.status_code == 302 and "_auth_user_id" in browser.session


def _reset_journey(email: str) -> tuple[int, str, int, str]:
    browser = Client()
    response = _request_reset(browser, email)
    page = browser.get(response["Location"])
    return response.status_code, response["Location"], page.status_code, without_csrf(page.content.decode())


@pytest.mark.django_db
def test_known_and_unknown_addresses_get_identical_responses():
    UserFactory.create(email="known@example.test")
    known = _reset_journey("known@example.test")
    unknown = _reset_journey("nobody@example.test")
    assert known[:3] == (302, RESET_DONE, 200)
    assert unknown == known


@pytest.mark.django_db
def test_known_address_gets_a_reset_link_and_unknown_gets_unknown_account(client):
    UserFactory.create(email="known@example.test")
    _request_reset(client, "known@example.test")
    _request_reset(client, "nobody@example.test")
    [known] = outbox_for("known@example.test")
    assert known.template == "account-password_reset_key"
    assert re.search(r"/accounts/password/reset/key/\w+-[\w-]+/$", known.context["password_reset_url"])
    [unknown] = outbox_for("nobody@example.test")
    assert unknown.template == "account-unknown_account"
    assert unknown.context["signup_url"].endswith("/accounts/signup/")
    assert "password_reset_url" not in unknown.context


@pytest.mark.django_db
def test_address_is_matched_case_insensitively_and_trimmed(client):
    UserFactory.create(email="known@example.test")
    _request_reset(client, "  Known@Example.TEST ")
    assert last_outbox_for("known@example.test").template == "account-password_reset_key"


@pytest.mark.django_db
def test_link_sets_a_new_password_and_only_the_new_one_signs_in(client):
    UserFactory.create(email="known@example.test")
    _request_reset(client, "known@example.test")
    response = _set_new_password(client, _reset_path("known@example.test"))
    assert response.status_code == 302
    assert response["Location"] == KEY_DONE
    done = client.get(KEY_DONE).content.decode()
    assert done.count("Your password has been changed") == 1  # the banner; the page goes on to signing in
    assert "<h1>Sign in with your new password</h1>" in done
    assert _signs_in("known@example.test", NEW_PASSWORD)
    assert not _signs_in("known@example.test", PASSWORD)
    assert last_outbox_for("known@example.test").template == "account-password_reset"


@pytest.mark.django_db
def test_link_works_only_once(client):
    UserFactory.create(email="known@example.test")
    _request_reset(client, "known@example.test")
    path = _reset_path("known@example.test")
    _set_new_password(client, path)

    again = Client()
    opened = again.get(path, follow=True)
    assert opened.status_code == 200
    assert opened.context["token_fail"]
    assert f'href="{RESET}"' in opened.content.decode()  # the way forward: ask for a new link
    assert _signs_in("known@example.test", NEW_PASSWORD)


@pytest.mark.django_db
def test_link_older_than_one_hour_fails(client, monkeypatch, settings):
    assert settings.PASSWORD_RESET_TIMEOUT == 3600
    UserFactory.create(email="known@example.test")
    _request_reset(client, "known@example.test")
    path = _reset_path("known@example.test")

    later = datetime.datetime.now() + datetime.timedelta(hours=1, minutes=1)
    monkeypatch.setattr(PasswordResetTokenGenerator, "_now", lambda self: later)
    opened = client.get(path, follow=True)
    assert opened.context["token_fail"]
    assert f'href="{RESET}"' in opened.content.decode()
    client.post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})  # posting anyway changes nothing
    monkeypatch.undo()
    assert _signs_in("known@example.test", PASSWORD)
    assert not _signs_in("known@example.test", NEW_PASSWORD)


@pytest.mark.django_db
def test_link_just_inside_the_hour_still_works(client, monkeypatch):
    UserFactory.create(email="known@example.test")
    _request_reset(client, "known@example.test")
    path = _reset_path("known@example.test")
    later = datetime.datetime.now() + datetime.timedelta(minutes=59)
    monkeypatch.setattr(PasswordResetTokenGenerator, "_now", lambda self: later)
    assert _set_new_password(client, path)["Location"] == KEY_DONE


@pytest.mark.django_db
def test_a_newer_link_does_not_revive_after_reset_and_older_links_die_with_the_password(client):
    UserFactory.create(email="known@example.test")
    _request_reset(client, "known@example.test")
    first = _reset_path("known@example.test")
    _request_reset(client, "known@example.test")
    second = _reset_path("known@example.test")
    _set_new_password(client, second)
    assert Client().get(first, follow=True).context["token_fail"]


@pytest.mark.django_db
def test_reset_signs_out_the_users_other_sessions():
    user = UserFactory.create(email="known@example.test")
    other_device = Client()
    assert other_device.post(LOGIN, {"login": "known@example.test", "password": PASSWORD}).status_code == 302
    assert other_device.get("/accounts/email/").status_code == 200

    resetter = Client()
    _request_reset(resetter, "known@example.test")
    _set_new_password(resetter, _reset_path("known@example.test"))

    response = other_device.get("/accounts/email/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert "_auth_user_id" not in other_device.session
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


@pytest.mark.django_db
def test_reset_ends_the_products_sessions_too():
    from allauth.idp.oidc.models import Client as OIDCClient
    from allauth.idp.oidc.models import Token

    user = UserFactory.create(email="known@example.test")
    someone_else = UserFactory.create()
    product = OIDCClient.objects.create(name="Payroll", id="payroll-test")
    for person, mark in ((user, "a"), (someone_else, "b")):
        Token.objects.create(client=product, user=person, type=Token.Type.REFRESH_TOKEN, hash=mark * 64)
    resetter = Client()
    _request_reset(resetter, "known@example.test")
    assert _set_new_password(resetter, _reset_path("known@example.test")).status_code == 302
    assert not Token.objects.filter(user=user).exists()
    assert Token.objects.filter(user=someone_else).exists()


@pytest.mark.django_db
def test_weak_new_password_is_refused_on_the_reset_form(client):
    UserFactory.create(email="known@example.test")
    _request_reset(client, "known@example.test")
    opened = client.get(_reset_path("known@example.test"))
    response = client.post(opened["Location"], {"password1": "password1234", "password2": "password1234"})
    assert response.status_code == 200
    assert "This password is too common." in response.context["form"].errors["password1"]
    assert _signs_in("known@example.test", PASSWORD)


@pytest.mark.django_db(transaction=True)
def test_emails_are_delivered_with_the_link_and_the_unknown_account_note(client, run_worker):
    UserFactory.create(email="known@example.test")
    _request_reset(client, "known@example.test")
    _request_reset(client, "nobody@example.test")
    run_worker()
    assert len(mail.outbox) == 2
    subject, body, html = delivered_to("known@example.test")
    link = re.search(r"http://\S+/accounts/password/reset/key/\S+/", body)
    assert link, body
    assert "1 hour" in body
    assert link.group(0) in html
    assert "\n" not in subject
    _, unknown_body, _ = delivered_to("nobody@example.test")
    assert "/accounts/signup/" in unknown_body
    assert "no Partnerdesk account" in unknown_body
    # The delivered link works end to end.
    assert _set_new_password(client, urlsplit(link.group(0)).path)["Location"] == KEY_DONE
