"""Rate limits (issue 3, "Abuse and bad input"): allauth's limits from ACCOUNT_RATE_LIMITS, kept in the shared cache."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from partnerdesk.identity.tests.conftest import outbox_for
from partnerdesk.identity.tests.factories import PASSWORD, UserFactory

LOGIN = "/accounts/login/"
RESET = "/accounts/password/reset/"
SIGNUP = "/accounts/signup/"
TOO_MANY_LOGINS = "Too many failed login attempts. Try again later."


def _limit(action: str, per: str) -> int:
    """The allowed count of ``action`` per ``per`` ("ip" or "key") as configured, e.g. 5 from "10/m/ip,5/5m/key"."""
    for rate in settings.ACCOUNT_RATE_LIMITS[action].split(","):
        amount, _duration, rate_per = rate.strip().split("/")
        if rate_per == per:
            return int(amount)
    raise AssertionError(f"no per-{per} limit for {action}")


def _sign_in(client: Client, email: str, password: str):
    return client.post(LOGIN, {"login": email, "password": password})


@pytest.mark.django_db
def test_failed_sign_ins_for_one_account_lock_it_even_with_the_right_password():
    UserFactory.create(email="target@example.test")
    per_account = _limit("login_failed", "key")
    for attempt in range(per_account):
        response = _sign_in(Client(), "target@example.test", f"wrong guess {attempt}")
        assert response.status_code == 200
        assert TOO_MANY_LOGINS not in response.content.decode(), attempt

    locked = Client()
    response = _sign_in(locked, "target@example.test", PASSWORD)
    assert response.status_code == 200
    assert TOO_MANY_LOGINS in response.context["form"].non_field_errors()
    assert TOO_MANY_LOGINS in response.content.decode()
    assert "_auth_user_id" not in locked.session


@pytest.mark.django_db
def test_account_lock_counts_the_address_in_any_case():
    UserFactory.create(email="target@example.test")
    for attempt in range(_limit("login_failed", "key")):
        _sign_in(Client(), "Target@Example.test" if attempt % 2 else "target@example.test", "wrong guess")
    response = _sign_in(Client(), "TARGET@example.test", PASSWORD)
    assert TOO_MANY_LOGINS in response.content.decode()


@pytest.mark.django_db
def test_lock_on_one_account_does_not_affect_another():
    UserFactory.create(email="target@example.test")
    UserFactory.create(email="bystander@example.test")
    for _ in range(_limit("login_failed", "key")):
        _sign_in(Client(), "target@example.test", "wrong guess")
    bystander = Client()
    assert _sign_in(bystander, "bystander@example.test", PASSWORD).status_code == 302
    assert "_auth_user_id" in bystander.session


@pytest.mark.django_db
def test_successful_sign_ins_do_not_reset_the_failure_count():
    UserFactory.create(email="target@example.test")
    per_account = _limit("login_failed", "key")
    for _ in range(per_account - 1):
        _sign_in(Client(), "target@example.test", "wrong guess")
    assert _sign_in(Client(), "target@example.test", PASSWORD).status_code == 302
    _sign_in(Client(), "target@example.test", "wrong guess")
    assert TOO_MANY_LOGINS in _sign_in(Client(), "target@example.test", PASSWORD).content.decode()


@pytest.mark.django_db
def test_failed_sign_ins_from_one_ip_across_accounts_are_limited():
    per_ip = _limit("login_failed", "ip")
    browser = Client()
    for n in range(per_ip):
        assert TOO_MANY_LOGINS not in _sign_in(browser, f"guess{n}@example.test", "wrong guess").content.decode()
    response = _sign_in(browser, "another@example.test", "wrong guess")
    assert TOO_MANY_LOGINS in response.content.decode()


@pytest.mark.django_db
def test_password_reset_unlocks_a_locked_account():
    UserFactory.create(email="target@example.test")
    for _ in range(_limit("login_failed", "key")):
        _sign_in(Client(), "target@example.test", "wrong guess")
    owner = Client()
    owner.post(RESET, {"email": "target@example.test"})
    [message] = outbox_for("target@example.test")
    opened = owner.get(message.context["password_reset_url"].removeprefix("http://testserver"))
    owner.post(
        opened["Location"], {"password1": "a brand new lighthouse keeper", "password2": "a brand new lighthouse keeper"}
    )
    assert _sign_in(Client(), "target@example.test", "a brand new lighthouse keeper").status_code == 302


@pytest.mark.parametrize("known", [True, False], ids=["known", "unknown"])
@pytest.mark.django_db
def test_repeated_reset_requests_for_one_address_are_limited_the_same_for_known_and_unknown(known):
    if known:
        UserFactory.create(email="target@example.test")
    per_address = _limit("reset_password", "key")
    for attempt in range(per_address):
        response = Client().post(RESET, {"email": "target@example.test"})
        assert response.status_code == 302, attempt
    limited = Client().post(RESET, {"email": "Target@Example.test"})
    assert limited.status_code == 429
    assert "too many attempts" in limited.content.decode().lower()
    assert len(outbox_for("target@example.test")) == per_address  # no email beyond the limit


@pytest.mark.django_db
def test_reset_requests_from_one_ip_are_limited_across_addresses():
    per_ip = _limit("reset_password", "ip")
    browser = Client()
    for n in range(per_ip):
        assert browser.post(RESET, {"email": f"someone{n}@example.test"}).status_code == 302
    assert browser.post(RESET, {"email": "one-more@example.test"}).status_code == 429
    assert not outbox_for("one-more@example.test")


@pytest.mark.django_db
def test_sign_ups_from_one_ip_are_limited():
    per_ip = _limit("signup", "ip")
    browser = Client()
    password = "a quiet harbour at dawn"
    for n in range(per_ip):
        response = Client().post(
            SIGNUP,
            {"email": f"new{n}@example.test", "password1": password, "password2": password, "full_name": "Nia Evans"},
        )
        assert response.status_code == 302, n
    response = browser.post(
        SIGNUP, {"email": "late@example.test", "password1": password, "password2": password, "full_name": "Nia Evans"}
    )
    assert response.status_code == 429
    assert not outbox_for("late@example.test")


@pytest.mark.django_db
def test_rate_limited_pages_use_the_site_layout(client, settings):
    from django.core.cache import cache

    cache.clear()
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "reset_password": "1/m/ip"}
    client.post("/accounts/password/reset/", {"email": "a@example.test"})
    response = client.post("/accounts/password/reset/", {"email": "b@example.test"})
    assert response.status_code == 429
    body = response.content.decode()
    assert "<h1>Too many attempts</h1>" in body
    assert "Skip to main content" in body
