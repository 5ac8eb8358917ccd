"""What one sign-in writes, and that it writes it with few statements (bench/bench_login.py measures the cost).

The session store (partnerdesk.identity.sessions) INSERTs a sign-in's session row once at the end of the request;
the device list receiver (partnerdesk.identity.usersessions) INSERTs the device row directly; the adapter reads
the person's addresses once. The results must be exactly those of Django's and allauth's own code.
"""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from partnerdesk.audit.models import Action, Event
from partnerdesk.identity import sessions
from partnerdesk.identity.sessions import SessionStore
from partnerdesk.identity.tests.factories import PASSWORD, UserFactory

LOGIN = "/accounts/login/"
LONG_AGENT = "Mozilla/5.0 " + "x" * 400


def _sign_in(client: Client, email: str, password: str = PASSWORD):
    return client.post(LOGIN, {"login": email, "password": password})


def _writes(user) -> tuple[Session, UserSession, Event]:
    [session] = [s for s in Session.objects.all() if s.get_decoded().get(SESSION_KEY) == str(user.pk)]
    [device] = UserSession.objects.filter(user=user)
    [event] = Event.objects.filter(action=Action.IDENTITY_LOGIN, actor=user)
    return session, device, event


def _check_sign_in() -> None:
    user = UserFactory.create(email="who@example.test")
    browser = Client(HTTP_USER_AGENT=LONG_AGENT)
    browser.get(LOGIN)
    browser.post("/signin/", {"portal": "accounting", "product": "payroll"})  # an anonymous session first
    before = browser.cookies["sessionid"].value

    response = _sign_in(browser, "who@example.test")
    assert response.status_code == 302
    session, device, event = _writes(user)
    key = browser.cookies["sessionid"].value
    # A new key (no fixation), the old row gone, the data carried over, the person signed in.
    assert key == session.session_key != before
    assert not Session.objects.filter(session_key=before).exists()
    assert session.get_decoded()["product"] == "payroll"
    assert browser.session[SESSION_KEY] == str(user.pk)
    # The device row is allauth's: same key, IP, user agent cut to the column's length.
    max_agent = UserSession._meta.get_field("user_agent").max_length
    assert (device.session_key, device.ip, device.user_agent) == (key, "127.0.0.1", LONG_AGENT[:max_agent])
    assert event.ip == "127.0.0.1"
    # Later requests read and update the same row.
    assert browser.get("/account/security/").status_code == 200
    assert browser.post("/signin/", {"portal": "accounting", "product": "accounting"}).status_code == 302
    assert Session.objects.get(session_key=key).get_decoded()["product"] == "accounting"


@pytest.mark.django_db
def test_sign_in_writes_one_new_session_one_device_and_one_audit_event():
    _check_sign_in()


@pytest.mark.django_db(transaction=True)
def test_sign_in_writes_the_same_outside_a_test_transaction():
    """As under gunicorn: the end-of-request save runs with no transaction around it (one INSERT)."""
    _check_sign_in()


@pytest.mark.django_db(transaction=True)
def test_sign_in_statements_are_few(settings):
    """The sign-in's own statements (the rate limits' cache round trips are left out, as in the benchmark)."""
    settings.ACCOUNT_RATE_LIMITS = False
    UserFactory.create(email="who@example.test")
    browser = Client()
    browser.get(LOGIN)
    with CaptureQueriesContext(connection) as captured:
        assert _sign_in(browser, "who@example.test").status_code == 302
    statements = [q["sql"].split()[0].upper() for q in captured.captured_queries]
    # BEGIN is not logged on every backend; SAVEPOINTs would be, and there are none.
    assert [s for s in statements if s in ("SAVEPOINT", "RELEASE", "DECLARE")] == []
    assert statements.count("SELECT") == 4  # address (sign-in), addresses (once), two-factor, device list
    assert statements.count("INSERT") == 3  # audit event, device, session (once)
    assert statements.count("UPDATE") == 1  # last_login


@pytest.mark.django_db(transaction=True)
def test_a_clashing_new_session_key_never_overwrites_another_session(monkeypatch):
    UserFactory.create(email="who@example.test")
    other = SessionStore()
    other["mine"] = "yes"
    other.create()
    monkeypatch.setattr(sessions, "get_random_string", lambda length, chars: other.session_key)
    response = _sign_in(Client(), "who@example.test")
    assert response.status_code == 400  # SessionInterrupted
    assert SessionStore(other.session_key).load() == {"mine": "yes"}


@pytest.mark.django_db
def test_sign_in_purges_ended_sessions_from_the_device_list():
    user = UserFactory.create(email="who@example.test")
    first = Client(HTTP_USER_AGENT="First")
    _sign_in(first, "who@example.test")
    second = Client(HTTP_USER_AGENT="Second")
    _sign_in(second, "who@example.test")
    assert set(UserSession.objects.filter(user=user).values_list("user_agent", flat=True)) == {"First", "Second"}
    Session.objects.filter(session_key=first.cookies["sessionid"].value).delete()  # the first device's session ended
    _sign_in(Client(HTTP_USER_AGENT="Third"), "who@example.test")
    assert set(UserSession.objects.filter(user=user).values_list("user_agent", flat=True)) == {"Second", "Third"}


@pytest.mark.django_db
def test_unverified_address_still_goes_to_the_code_after_the_addresses_are_read_once():
    user = UserFactory.create(email="new@example.test")
    EmailAddress.objects.filter(user=user).update(verified=False)
    response = _sign_in(Client(), "new@example.test")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"


@pytest.mark.django_db
def test_session_saved_before_sign_in_is_created_at_once():
    """Only a sign-in's key is left to the end of the request; ``save()`` on a new store inserts at once."""
    store = SessionStore()
    store["a"] = 1
    store.save()
    assert Session.objects.filter(session_key=store.session_key).exists()
    assert not store.is_new
