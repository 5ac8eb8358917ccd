"""What one sign-in writes, and that it writes it with few statements (bench/bench_login.py measures the cost).

The session store (partnerdesk.identity.sessions) INSERTs a sign-in's session row once at the end of the request;
the device list receiver (partnerdesk.identity.usersessions) INSERTs the device row directly; the adapter reads
the person's addresses once. The results must be exactly those of Django's and allauth's own code.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from partnerdesk.audit.models import Action, Event
from partnerdesk.identity import sessions
from partnerdesk.identity.sessions import SessionStore
from partnerdesk.identity.tasks import clear_expired_sessions
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
    assert statements.count("SELECT") == 3  # address (sign-in), addresses (once), two-factor
    assert statements.count("INSERT") == 3  # audit event, device, session (once)
    assert statements.count("UPDATE") == 1  # last_login
    assert statements.count("DELETE") == 1  # the person's ended devices, in one statement


def _live_session(user, *, agent: str, expires_in: timedelta = timedelta(days=1)) -> UserSession:
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store.create()
    Session.objects.filter(session_key=store.session_key).update(expire_date=timezone.now() + expires_in)
    return UserSession.objects.create(user=user, session_key=store.session_key, ip="10.0.0.1", user_agent=agent)


@pytest.mark.django_db(transaction=True)
def test_sign_in_statements_do_not_grow_with_the_persons_other_sessions(settings):
    """allauth's purge read each device's session and user: two statements per signed-in device."""
    settings.ACCOUNT_RATE_LIMITS = False
    user = UserFactory.create(email="who@example.test")

    def statements() -> int:
        browser = Client()
        browser.get(LOGIN)
        with CaptureQueriesContext(connection) as captured:
            assert _sign_in(browser, "who@example.test").status_code == 302
        return len(captured.captured_queries)

    few = statements()  # one other device: the first sign-in's
    for i in range(30):
        _live_session(user, agent=f"Device {i}")
    assert statements() == few
    assert UserSession.objects.filter(user=user).count() == 32  # 1 + 30 + this one: nothing live was purged


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
def test_sign_in_purges_expired_sessions_and_keeps_other_peoples():
    user = UserFactory.create(email="who@example.test")
    other = UserFactory.create(email="other@example.test")
    _live_session(user, agent="Expired", expires_in=timedelta(seconds=-1))
    _live_session(user, agent="Live")
    _live_session(other, agent="Someone else's expired", expires_in=timedelta(seconds=-1))
    _sign_in(Client(HTTP_USER_AGENT="New"), "who@example.test")
    assert set(UserSession.objects.filter(user=user).values_list("user_agent", flat=True)) == {"Live", "New"}
    assert UserSession.objects.filter(user=other).count() == 1  # only the person's own rows at their sign-in


@pytest.mark.django_db
def test_periodic_job_clears_expired_sessions_and_their_devices():
    user = UserFactory.create(email="who@example.test")
    _live_session(user, agent="Expired", expires_in=timedelta(seconds=-1))
    live = _live_session(user, agent="Live")
    orphan = UserSession.objects.create(user=user, session_key="gone" * 8, ip="10.0.0.2", user_agent="Orphan")
    anonymous = SessionStore()
    anonymous["product"] = "payroll"
    anonymous.create()
    Session.objects.filter(session_key=anonymous.session_key).update(expire_date=timezone.now() - timedelta(days=1))

    assert clear_expired_sessions.call() == 2  # the expired device and the orphan
    assert list(UserSession.objects.values_list("pk", flat=True)) == [live.pk]
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]
    assert not UserSession.objects.filter(pk=orphan.pk).exists()
    assert clear_expired_sessions.call() == 0


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
