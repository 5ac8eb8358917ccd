"""Rate limits (issue 3, "Abuse and bad input"): allauth's limits from ACCOUNT_RATE_LIMITS, kept in the shared cache.

A limited request says "Too many attempts, try again in N minutes", N the real time left on the limit that
fired, rounded up. The clock allauth's limits read is controlled here (``clock``), so N is exact.
"""

from __future__ import annotations

import time as real_time

import pytest
from allauth.core.internal import ratelimit as allauth_ratelimit
from django.conf import settings
from django.test import Client

from partnerdesk.identity import ratelimits
from partnerdesk.identity.tests.conftest import outbox_for
from partnerdesk.identity.tests.factories import PASSWORD, UserFactory
from partnerdesk.lib import ratelimit as lib_ratelimit
from partnerdesk.lib.ratelimit import too_many_attempts_message

LOGIN = "/accounts/login/"
RESET = "/accounts/password/reset/"
SIGNUP = "/accounts/signup/"
CONFIRM = "/accounts/confirm-email/"
API = "/_allauth/browser/v1"
APP_API = "/_allauth/app/v1"
NEW_PASSWORD = "a quiet harbour at dawn"


def _try_again_in(minutes: int) -> str:
    return f"Too many attempts, try again in {minutes} minute{'' if minutes == 1 else 's'}."


TOO_MANY_LOGINS = "Too many attempts, try again in"


class Clock:
    """Stands in for the ``time`` module where the rate limits read it: ``time()`` is frozen until ``advance``."""

    def __init__(self, start: float) -> None:
        self.now = start

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    # allauth's cache lock waits in real time.
    monotonic = staticmethod(real_time.monotonic)
    sleep = staticmethod(real_time.sleep)


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    frozen = Clock(float(int(real_time.time())))
    for module in (allauth_ratelimit, ratelimits, lib_ratelimit):
        monkeypatch.setattr(module, "time", frozen)
    return frozen


def _rate(action: str, per: str) -> tuple[int, int]:
    """(count, seconds) of ``action`` per ``per`` ("ip" or "key") as configured, e.g. (5, 300) from "10/m/ip,5/5m/key"."""
    for rate in allauth_ratelimit.parse_rates(settings.ACCOUNT_RATE_LIMITS[action]):
        if rate.per == per:
            return rate.amount, int(rate.duration)
    raise AssertionError(f"no per-{per} limit for {action}")


def _limit(action: str, per: str) -> int:
    return _rate(action, per)[0]


def _minutes(seconds: float) -> int:
    return max(1, -(-int(seconds) // 60))


def _sign_in(client: Client, email: str, password: str):
    return client.post(LOGIN, {"login": email, "password": password})


def _signup(client: Client, email: str):
    return client.post(
        SIGNUP, {"email": email, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "full_name": "Nia Evans"}
    )


def _api_client() -> Client:
    client = Client(enforce_csrf_checks=True)
    client.get("/signin/")
    return client


def _api_post(client: Client, path: str, data: dict):
    token = client.cookies["csrftoken"].value if "csrftoken" in client.cookies else ""
    return client.post(path, data, content_type="application/json", headers={"X-CSRFToken": token})


def _assert_429_page(response, seconds: int) -> None:
    assert response.status_code == 429
    assert response["Retry-After"] == str(seconds)
    body = response.content.decode()
    assert "<h1>Too many attempts</h1>" in body
    assert _try_again_in(_minutes(seconds)) in body
    assert "few minutes" not in body


def _assert_problem(response, seconds: int) -> dict:
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    assert response["Retry-After"] == str(seconds)
    body = response.json()
    assert (body["status"], body["code"], body["retry_after"]) == (429, "rate_limited", seconds)
    assert body["detail"] == _try_again_in(_minutes(seconds))
    return body


# --- The wording ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (1, "Too many attempts, try again in 1 minute."),
        (60, "Too many attempts, try again in 1 minute."),
        (61, "Too many attempts, try again in 2 minutes."),
        (150, "Too many attempts, try again in 3 minutes."),
        (3600, "Too many attempts, try again in 60 minutes."),
    ],
)
def test_minutes_are_rounded_up_and_one_is_singular(seconds, expected):
    assert too_many_attempts_message(seconds) == expected


def test_allauth_consume_is_wrapped():
    """Every allauth limit goes through allauth.core.internal.ratelimit.consume; an upgrade that renames it fails here."""
    assert hasattr(allauth_ratelimit.consume, "partnerdesk_wrapped")


# --- Failed sign-ins per account and per IP ------------------------------------------------------------


@pytest.mark.django_db
def test_failed_sign_ins_for_one_account_lock_it_even_with_the_right_password():
    UserFactory.create(email="target@example.test")
    per_account, window = _rate("login_failed", "key")
    for attempt in range(per_account):
        response = _sign_in(Client(), "target@example.test", f"wrong guess {attempt}")
        assert response.status_code == 200
        assert TOO_MANY_LOGINS not in response.content.decode(), attempt

    locked = Client()
    response = _sign_in(locked, "target@example.test", PASSWORD)
    assert response.status_code == 200
    expected = _try_again_in(_minutes(window))
    assert response.context["form"].non_field_errors() == [expected]
    assert expected in response.content.decode()
    assert "_auth_user_id" not in locked.session


@pytest.mark.django_db
def test_account_lock_says_the_time_left_from_the_oldest_failure_and_ends_on_time(clock):
    UserFactory.create(email="target@example.test")
    per_account, window = _rate("login_failed", "key")
    started = clock.now
    for attempt in range(per_account):
        _sign_in(Client(), "target@example.test", f"wrong guess {attempt}")
        clock.advance(30)
    # Now 30 x per_account seconds after the first failure: the lock lasts until that one is `window` old.
    response = _sign_in(Client(), "target@example.test", PASSWORD)
    left = started + window - clock.now
    assert response.context["form"].non_field_errors() == [_try_again_in(_minutes(left))]

    clock.advance(left - 1)
    response = _sign_in(Client(), "target@example.test", PASSWORD)
    assert response.context["form"].non_field_errors() == [_try_again_in(1)]

    clock.advance(1)
    assert _sign_in(Client(), "target@example.test", PASSWORD).status_code == 302


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
def test_successful_sign_ins_do_not_reset_the_failure_count(clock):
    UserFactory.create(email="target@example.test")
    per_account = _limit("login_failed", "key")
    for _ in range(per_account - 1):
        _sign_in(Client(), "target@example.test", "wrong guess")
        clock.advance(1)  # allauth takes a successful attempt's own hit back by its timestamp
    assert _sign_in(Client(), "target@example.test", PASSWORD).status_code == 302
    clock.advance(1)
    _sign_in(Client(), "target@example.test", "wrong guess")
    assert TOO_MANY_LOGINS in _sign_in(Client(), "target@example.test", PASSWORD).content.decode()


@pytest.mark.django_db
def test_failed_sign_ins_from_one_ip_across_accounts_are_limited(clock):
    per_ip, window = _rate("login_failed", "ip")
    browser = Client()
    for n in range(per_ip):
        assert TOO_MANY_LOGINS not in _sign_in(browser, f"guess{n}@example.test", "wrong guess").content.decode()
    clock.advance(window // 2)
    response = _sign_in(browser, "another@example.test", "wrong guess")
    assert _try_again_in(_minutes(window - window // 2)) in response.content.decode()


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


# --- The sign-in page ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sign_in_page_limit_says_the_minutes_left(settings, clock):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "3/10m/ip"}
    started = clock.now
    for n in range(3):
        assert _sign_in(Client(), f"someone{n}@example.test", "wrong guess").status_code == 200
        clock.advance(60)
    response = _sign_in(Client(), "late@example.test", "wrong guess")
    _assert_429_page(response, int(started + 600 - clock.now))  # 420 s: "7 minutes"
    assert _try_again_in(7) in response.content.decode()

    clock.now = started + 599
    _assert_429_page(_sign_in(Client(), "late@example.test", "wrong guess"), 1)
    clock.now = started + 600
    assert _sign_in(Client(), "late@example.test", "wrong guess").status_code == 200


@pytest.mark.django_db
def test_sign_in_page_limit_as_configured(clock):
    per_ip, window = _rate("login", "ip")
    for n in range(per_ip):
        _sign_in(Client(), f"someone{n}@example.test", "wrong guess")
        clock.advance(1)
    response = _sign_in(Client(), "late@example.test", "wrong guess")
    _assert_429_page(response, window - per_ip)


# --- Password reset ------------------------------------------------------------------------------------


@pytest.mark.parametrize("known", [True, False], ids=["known", "unknown"])
@pytest.mark.django_db
def test_repeated_reset_requests_for_one_address_are_limited_the_same_for_known_and_unknown(known, clock):
    if known:
        UserFactory.create(email="target@example.test")
    per_address, window = _rate("reset_password", "key")
    started = clock.now
    for attempt in range(per_address):
        response = Client().post(RESET, {"email": "target@example.test"})
        assert response.status_code == 302, attempt
        clock.advance(60)
    clock.now = started + 5 * 60
    limited = Client().post(RESET, {"email": "Target@Example.test"})
    _assert_429_page(limited, window - 5 * 60)
    assert _try_again_in(10) in limited.content.decode()  # 15 minutes from the first, 5 gone
    assert len(outbox_for("target@example.test")) == per_address  # no email beyond the limit


@pytest.mark.django_db
def test_reset_requests_from_one_ip_are_limited_across_addresses():
    per_ip, window = _rate("reset_password", "ip")
    browser = Client()
    for n in range(per_ip):
        assert browser.post(RESET, {"email": f"someone{n}@example.test"}).status_code == 302
    response = browser.post(RESET, {"email": "one-more@example.test"})
    _assert_429_page(response, window)
    assert not outbox_for("one-more@example.test")


# --- Sign-up, the code, Resend code --------------------------------------------------------------------


@pytest.mark.django_db
def test_sign_ups_from_one_ip_are_limited(clock):
    per_ip, window = _rate("signup", "ip")
    started = clock.now
    for n in range(per_ip):
        response = _signup(Client(), f"new{n}@example.test")
        assert response.status_code == 302, n
        clock.advance(60)
    clock.now = started + 20 * 60
    response = _signup(Client(), "late@example.test")
    _assert_429_page(response, window - 20 * 60)
    assert _try_again_in(40) in response.content.decode()
    assert not outbox_for("late@example.test")


@pytest.mark.django_db
def test_resend_code_within_the_cooldown_says_when_it_can_be_sent(clock):
    per_address, window = _rate("confirm_email", "key")
    assert per_address == 1
    browser = Client()
    _signup(browser, "new@example.test")
    clock.advance(15)
    response = browser.post(CONFIRM, {"action": "resend"})
    _assert_429_page(response, window - 15)
    assert _try_again_in(1) in response.content.decode()
    assert len(outbox_for("new@example.test")) == 1

    clock.advance(window - 15)
    assert browser.post(CONFIRM, {"action": "resend"}).status_code == 302
    assert len(outbox_for("new@example.test")) == 2


@pytest.mark.django_db
def test_signing_in_again_before_a_new_code_may_be_sent_says_when(settings, clock):
    """Code entry: the code died after three wrong tries; a new one is sent at the next sign-in, at most one a
    minute per address (confirm_email). Here that limit is set to 3 minutes to check N."""
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "confirm_email": "1/3m/key"}
    browser = Client()
    _signup(browser, "new@example.test")
    for _ in range(3):
        browser.post(CONFIRM, {"code": "not-the-code"})
    clock.advance(50)
    response = _sign_in(browser, "new@example.test", NEW_PASSWORD)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [_try_again_in(3)]  # 130 s left
    clock.advance(130)
    assert _sign_in(browser, "new@example.test", NEW_PASSWORD)["Location"] == CONFIRM


@pytest.mark.django_db
def test_too_many_wrong_codes_says_how_to_get_a_new_one():
    browser = Client()
    _signup(browser, "new@example.test")
    for _ in range(2):
        browser.post(CONFIRM, {"code": "not-the-code"})
    third = browser.post(CONFIRM, {"code": "not-the-code"}, follow=True)
    assert third.redirect_chain == [(LOGIN, 302)]
    assert (
        "Too many incorrect codes. In a minute, sign in again and we&#x27;ll email you a new one."
        in third.content.decode()
    )


@pytest.mark.django_db
def test_rate_limited_pages_use_the_site_layout(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "reset_password": "1/m/ip"}
    client.post("/accounts/password/reset/", {"email": "a@example.test"})
    response = client.post("/accounts/password/reset/", {"email": "b@example.test"})
    assert response.status_code == 429
    body = response.content.decode()
    assert "<h1>Too many attempts</h1>" in body
    assert "Skip to main content" in body


# --- The account API (allauth headless) ----------------------------------------------------------------


@pytest.mark.django_db
def test_api_password_reset_limit_is_a_problem_with_retry_after(clock):
    per_address, window = _rate("reset_password", "key")
    client = _api_client()
    for _ in range(per_address):
        assert _api_post(client, f"{API}/auth/password/request", {"email": "x@example.test"}).status_code == 200
    clock.advance(5 * 60)
    response = _api_post(client, f"{API}/auth/password/request", {"email": "x@example.test"})
    _assert_problem(response, window - 5 * 60)


@pytest.mark.django_db
def test_api_sign_up_limit_is_a_problem_with_retry_after(clock):
    per_ip, window = _rate("signup", "ip")
    for n in range(per_ip):
        response = _api_post(
            _api_client(),
            f"{API}/auth/signup",
            {"email": f"a{n}@example.test", "password": NEW_PASSWORD, "full_name": "A"},
        )
        assert response.status_code == 401, response.json()
    clock.advance(90)
    response = _api_post(
        _api_client(), f"{API}/auth/signup", {"email": "late@example.test", "password": NEW_PASSWORD, "full_name": "L"}
    )
    _assert_problem(response, window - 90)


@pytest.mark.django_db
def test_api_account_lock_is_a_problem_keeping_allauths_error_code(clock):
    user = UserFactory.create(email="target@example.test")
    per_account, window = _rate("login_failed", "key")
    for _ in range(per_account):
        wrong = Client().post(
            f"{APP_API}/auth/login", {"email": user.email, "password": "wrong"}, content_type="application/json"
        )
        assert wrong.status_code == 400
    clock.advance(150)
    response = Client().post(
        f"{APP_API}/auth/login", {"email": user.email, "password": PASSWORD}, content_type="application/json"
    )
    body = _assert_problem(response, window - 150)
    assert [error["code"] for error in body["errors"]] == ["too_many_login_attempts"]
    assert body["errors"][0]["message"] == _try_again_in(_minutes(window - 150))


@pytest.mark.django_db
def test_api_requests_no_limit_refused_are_untouched():
    response = Client().post(
        f"{APP_API}/auth/login", {"email": "x@example.test", "password": "wrong"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert not response.has_header("Retry-After")


@pytest.mark.django_db
def test_our_api_link_lookup_limit_says_the_minutes_left(clock):
    """The Partnerdesk API (ninja): looking up subscriptions is limited per person per hour (fixed windows)."""
    user = UserFactory.create()
    api = Client()
    api.force_login(user)
    clock.now = (clock.now // 3600) * 3600 + 15 * 60  # a quarter of the hour gone
    limiter = lib_ratelimit.LINK_LOOKUP_PER_USER
    for _ in range(limiter.limit):
        response = api.post(
            "/api/v1/links", {"number": "99999999", "email": user.email}, content_type="application/json"
        )
        assert response.status_code == 400
    response = api.post("/api/v1/links", {"number": "99999999", "email": user.email}, content_type="application/json")
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    assert response["Retry-After"] == str(45 * 60)
    body = response.json()
    assert (body["code"], body["detail"]) == ("rate_limited", _try_again_in(45))


def _resend_section(response) -> str:
    body = response.content.decode()
    return body[body.index('<section class="resend"') : body.index("</section>", body.index('<section class="resend"'))]


@pytest.mark.django_db
def test_the_code_page_counts_down_what_is_left_of_the_cooldown_however_often_it_is_shown(clock):
    """Resend code waits for the server's cooldown, which started when the code was sent: a wrong code typed 15
    seconds later shows the page again with 45 seconds left, not 60. When it is over the button is there with
    nothing to wait for; the live region that says so (app.js) is in the page from the start, empty."""
    _, window = _rate("confirm_email", "key")
    browser = Client()
    _signup(browser, "new@example.test")
    first = _resend_section(browser.get(CONFIRM))
    assert f'data-cooldown="{window}"' in first
    assert f'You can ask for a new code in <span class="cooldown-seconds">{window} seconds</span>.' in first
    assert '<p class="cooldown-ready" id="resend-ready" role="status" aria-live="polite"></p>' in first
    assert ">Resend code</button>" in first

    clock.advance(15)
    wrong = browser.post(CONFIRM, {"code": "00000000"})
    assert wrong.status_code == 200
    assert wrong.context["form"].errors["code"] == ["Incorrect code."]
    assert f'data-cooldown="{window - 15}"' in _resend_section(wrong)
    assert f">{window - 15} seconds</span>." in _resend_section(wrong)

    clock.advance(window - 16)
    assert ">1 second</span>." in _resend_section(browser.get(CONFIRM))
    clock.advance(1)
    over = _resend_section(browser.get(CONFIRM))
    assert "data-cooldown" not in over
    assert "resend-cooldown" not in over
    assert ">Resend code</button>" in over

    assert browser.post(CONFIRM, {"action": "resend"}).status_code == 302
    assert f'data-cooldown="{window}"' in _resend_section(browser.get(CONFIRM))  # a new code: a new wait


@pytest.mark.django_db
def test_changing_the_email_address_shows_the_same_cooldown(clock):
    """Security -> Manage email -> a new address: the same code page, the same wait from when its code was sent."""
    _, window = _rate("confirm_email", "key")
    user = UserFactory.create(email="nia@example.test")
    browser = Client()
    browser.force_login(user)
    added = browser.post("/accounts/email/", {"action_add": "", "email": "nia@work.test"})
    assert added["Location"] == CONFIRM
    clock.advance(20)
    page = browser.get(CONFIRM)
    assert "We sent a code to <strong>nia@work.test</strong>" in page.content.decode()
    assert f'data-cooldown="{window - 20}"' in _resend_section(page)
    early = browser.post(CONFIRM, {"action": "resend"})  # without JavaScript the button is there: refused, timed
    assert early.status_code == 429
    assert _try_again_in(1) in early.content.decode()
