"""The OpenID Connect provider end to end: code + PKCE (S256), ID tokens, refusals, logout."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from allauth.idp.oidc.adapter import get_adapter as get_oidc_adapter
from allauth.idp.oidc.models import Client as AllauthClient
from allauth.idp.oidc.models import Token
from django.test import Client as HttpClient
from django.utils import timezone

from partnerdesk.backoffice.periodic import SCHEDULE
from partnerdesk.identity.models import CompanyMembership, SpentRefreshToken
from partnerdesk.identity.oidc_clients import ensure_product_clients
from partnerdesk.identity.services import company_create
from partnerdesk.identity.tasks import clear_expired_oidc_tokens
from partnerdesk.identity.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

POLICY_MIDDLEWARE = "partnerdesk.identity.oidc.OIDCPolicyMiddleware"
BASE_URL = "http://127.0.0.1:8000"
CLIENT_ID = "partnerdesk-accounting"
REDIRECT_URI = f"{BASE_URL}/products/accounting/callback"
SIGNED_OUT_URI = f"{BASE_URL}/products/accounting/signed-out"
AUTHORIZE_URL = "/identity/o/authorize"
TOKEN_URL = "/identity/o/api/token"
LOGOUT_URL = "/identity/o/logout"
USERINFO_URL = "/identity/o/api/userinfo"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(autouse=True)
def _policy_middleware(settings):
    """The provider is only as strict as documented with OIDCPolicyMiddleware installed."""
    if POLICY_MIDDLEWARE not in settings.MIDDLEWARE:
        settings.MIDDLEWARE = [*settings.MIDDLEWARE, POLICY_MIDDLEWARE]


@pytest.fixture(autouse=True)
def products():
    return ensure_product_clients(base_url=BASE_URL)


@pytest.fixture
def person():
    return UserFactory.create(email="ada@example.test", full_name="Ada Lovelace")


@pytest.fixture
def company(person):
    company = company_create(business_name="Analytical Engines Ltd", owner_email=person.email, owner=person)
    CompanyMembership.objects.create(user=person, company=company, role=CompanyMembership.Role.OWNER)
    return company


@pytest.fixture
def browser(client, person, company):
    client.force_login(person)
    return client


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_params(**overrides: Any) -> dict[str, str]:
    params = {
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "scope": "openid profile email",
        "state": secrets.token_urlsafe(16),
        "nonce": secrets.token_urlsafe(16),
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def authorize(http: HttpClient, **overrides: Any):
    return http.get(f"{AUTHORIZE_URL}?{urlencode(authorize_params(**overrides))}")


def get_code(http: HttpClient, challenge: str, **overrides: Any) -> str:
    params = authorize_params(code_challenge=challenge, **overrides)
    response = http.get(f"{AUTHORIZE_URL}?{urlencode(params)}")
    assert response.status_code == 302, response.content
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == params["redirect_uri"]
    query = parse_qs(location.query)
    assert query["state"] == [params["state"]]
    return query["code"][0]


def post_token(http: HttpClient, data: dict[str, str]):
    return http.post(TOKEN_URL, urlencode(data), content_type=FORM)


def exchange(http: HttpClient, code: str, verifier: str, **overrides: str):
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "client_id": CLIENT_ID,
        "code_verifier": verifier,
        **overrides,
    }
    return post_token(http, data)


def sign_in_to_product(http: HttpClient, **overrides: Any) -> dict[str, Any]:
    verifier, challenge = pkce_pair()
    code = get_code(http, challenge, **overrides)
    response = exchange(http, code, verifier)
    assert response.status_code == 200, response.content
    return response.json()


def verify_id_token(http: HttpClient, id_token: str, *, nonce: str | None = None) -> dict[str, Any]:
    discovery = http.get("/.well-known/openid-configuration").json()
    jwks = http.get(urlsplit(discovery["jwks_uri"]).path).json()
    header = jwt.get_unverified_header(id_token)
    assert header["alg"] == "RS256"
    keys = {key["kid"]: key for key in jwks["keys"]}
    assert header["kid"] in keys
    public_key = jwt.PyJWK.from_dict(keys[header["kid"]]).key
    claims = jwt.decode(
        id_token,
        public_key,
        algorithms=["RS256"],
        audience=CLIENT_ID,
        issuer=discovery["issuer"],
        options={"require": ["exp", "iat", "iss", "aud", "sub"]},
    )
    if nonce is not None:
        assert claims["nonce"] == nonce
    return claims


# --- the happy path -----------------------------------------------------------------------


def test_code_flow_with_pkce_through_the_real_sign_in_form(client, person):
    verifier, challenge = pkce_pair()
    params = authorize_params(code_challenge=challenge)
    authorize_url = f"{AUTHORIZE_URL}?{urlencode(params)}"

    to_login = client.get(authorize_url)
    assert to_login.status_code == 302
    login_url = to_login["Location"]
    assert login_url.startswith("/accounts/login/")
    next_url = parse_qs(urlsplit(login_url).query)["next"][0]

    signed_in = client.post("/accounts/login/", {"login": person.email, "password": PASSWORD, "next": next_url})
    assert signed_in.status_code == 302
    assert signed_in["Location"] == next_url

    back = client.get(next_url)
    assert back.status_code == 302
    location = urlsplit(back["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    query = parse_qs(location.query)
    assert query["state"] == [params["state"]]

    tokens = exchange(client, query["code"][0], verifier)
    assert tokens.status_code == 200, tokens.content
    body = tokens.json()
    assert body["token_type"].lower() == "bearer"
    assert body["access_token"]
    assert body["refresh_token"]
    assert set(body["scope"].split()) == {"openid", "profile", "email"}
    claims = verify_id_token(client, body["id_token"], nonce=params["nonce"])
    assert claims["sub"] == str(person.pk)


def test_id_token_carries_email_name_and_companies(browser, company):
    body = sign_in_to_product(browser)
    claims = verify_id_token(browser, body["id_token"])
    assert claims["email"] == "ada@example.test"
    assert claims["email_verified"] is True
    assert claims["name"] == "Ada Lovelace"
    assert "given_name" not in claims
    assert claims["companies"] == [
        {
            "customer_number": company.customer_number,
            "business_name": "Analytical Engines Ltd",
            "role": "owner",
            "services": [],
        }
    ]


def test_a_practice_member_is_told_to_the_product_by_the_practice_claim(browser, person):
    from partnerdesk.practice.models import Practice, PracticeMember

    assert verify_id_token(browser, sign_in_to_product(browser)["id_token"])["practice"] is None
    practice = Practice.objects.create(company=company_create(business_name="Ledger LLP"), name="Ledger LLP")
    PracticeMember.objects.create(practice=practice, user=person, role="staff", sees_all_clients=False)
    claims = verify_id_token(browser, sign_in_to_product(browser)["id_token"])
    assert claims["practice"] == {
        "name": "Ledger LLP",
        "customer_number": practice.company.customer_number,
        "role": "staff",
        "sees_all_clients": False,
    }


def test_companies_claim_is_read_when_the_token_is_issued(browser, person):
    CompanyMembership.objects.filter(user=person).delete()
    body = sign_in_to_product(browser)
    assert verify_id_token(browser, body["id_token"])["companies"] == []


def test_unverified_email_is_reported_as_unverified(browser, person):
    person.emailaddress_set.update(verified=False)
    claims = verify_id_token(browser, sign_in_to_product(browser)["id_token"])
    assert claims["email_verified"] is False


def test_every_product_can_sign_in(browser, products):
    for product in products:
        redirect_uri = product.get_redirect_uris()[0]
        verifier, challenge = pkce_pair()
        code = get_code(browser, challenge, client_id=product.id, redirect_uri=redirect_uri)
        response = exchange(browser, code, verifier, client_id=product.id, redirect_uri=redirect_uri)
        assert response.status_code == 200, (product.id, response.content)


# --- redirect URIs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "redirect_uri",
    [
        f"{BASE_URL}/products/accounting/callback/evil",
        f"{BASE_URL}/products/payroll/callback",
        f"{BASE_URL}/products/accounting/callback?next=https://evil.test/",
        "http://127.0.0.1:9999/products/accounting/callback",
        "https://127.0.0.1:8000/products/accounting/callback",
        "http://localhost:8000/products/accounting/callback",
        "https://evil.test/products/accounting/callback",
        f"{BASE_URL}/products/accounting/callback#fragment",
        "",
    ],
)
def test_unregistered_redirect_uri_is_refused_without_redirecting(browser, redirect_uri):
    _, challenge = pkce_pair()
    response = authorize(browser, code_challenge=challenge, redirect_uri=redirect_uri)
    assert response.status_code != 302
    assert "Location" not in response
    assert not Token.objects.exists()


@pytest.mark.parametrize(
    ("redirect_uri", "method"),
    [
        (f"{REDIRECT_URI}?extra=1", "S256"),
        ("http://127.0.0.1:9999/products/accounting/callback", "S256"),
        (REDIRECT_URI, "plain"),
    ],
)
def test_head_is_held_to_the_same_rules_as_get(browser, redirect_uri, method):
    # Django answers HEAD with the view's get(): it must not be a way round the policy.
    verifier, challenge = pkce_pair()
    params = authorize_params(
        redirect_uri=redirect_uri,
        code_challenge=verifier if method == "plain" else challenge,
        code_challenge_method=method,
    )
    response = browser.head(f"{AUTHORIZE_URL}?{urlencode(params)}")
    assert response.status_code == 400
    assert "Location" not in response


def test_head_of_a_valid_request_behaves_as_get(browser):
    _, challenge = pkce_pair()
    response = browser.head(f"{AUTHORIZE_URL}?{urlencode(authorize_params(code_challenge=challenge))}")
    assert response.status_code == 302
    assert response["Location"].startswith(f"{REDIRECT_URI}?")


def test_token_exchange_with_another_redirect_uri_is_refused(browser):
    verifier, challenge = pkce_pair()
    code = get_code(browser, challenge)
    response = exchange(browser, code, verifier, redirect_uri=f"{BASE_URL}/products/payroll/callback")
    assert response.status_code == 400
    assert "access_token" not in response.json()


@pytest.mark.parametrize("client_id", ["not-a-client", "", None])
def test_unknown_client_is_refused_without_redirecting(browser, client_id):
    _, challenge = pkce_pair()
    response = authorize(browser, client_id=client_id, code_challenge=challenge)
    assert response.status_code == 400
    assert "Location" not in response
    assert "not known" in response.content.decode()


@pytest.mark.parametrize("redirect_uri", ["", None])
def test_missing_redirect_uri_is_a_400(browser, redirect_uri):
    _, challenge = pkce_pair()
    response = authorize(browser, code_challenge=challenge, redirect_uri=redirect_uri)
    assert response.status_code == 400
    assert "Location" not in response


@pytest.mark.parametrize("name", ["client_id", "redirect_uri", "response_type", "scope", "state"])
def test_repeated_parameter_is_a_400(browser, name):
    _, challenge = pkce_pair()
    params = authorize_params(code_challenge=challenge)
    query = f"{urlencode(params)}&{urlencode({name: params[name]})}"
    response = browser.get(f"{AUTHORIZE_URL}?{query}")
    assert response.status_code == 400
    assert "Location" not in response


# --- PKCE ---------------------------------------------------------------------------------


def test_missing_pkce_challenge_is_refused(browser):
    response = authorize(browser, code_challenge_method=None)
    assert response.status_code == 400
    assert "Location" not in response
    assert not Token.objects.exists()


@pytest.mark.parametrize("method", ["plain", None, "S512"])
def test_pkce_method_other_than_s256_is_refused(browser, method):
    verifier, _ = pkce_pair()
    response = authorize(browser, code_challenge=verifier, code_challenge_method=method)
    assert response.status_code == 400
    assert "Location" not in response


def test_wrong_code_verifier_is_refused(browser):
    _, challenge = pkce_pair()
    code = get_code(browser, challenge)
    other_verifier, _ = pkce_pair()
    response = exchange(browser, code, other_verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert not Token.objects.exists()


def test_missing_code_verifier_is_refused(browser):
    _, challenge = pkce_pair()
    code = get_code(browser, challenge)
    response = post_token(
        browser,
        {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "client_id": CLIENT_ID},
    )
    assert response.status_code == 400
    assert not Token.objects.exists()


# --- authorization codes ------------------------------------------------------------------


def test_reused_code_is_refused_and_revokes_the_tokens_it_issued(browser):
    verifier, challenge = pkce_pair()
    code = get_code(browser, challenge)
    first = exchange(browser, code, verifier)
    assert first.status_code == 200
    refresh_token = first.json()["refresh_token"]
    assert Token.objects.filter(type__in=[Token.Type.ACCESS_TOKEN, Token.Type.REFRESH_TOKEN]).count() == 2

    again = exchange(browser, code, verifier)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert "access_token" not in again.json()
    # allauth alone only refuses; OIDCPolicyMiddleware also revokes what the first exchange issued.
    assert not Token.objects.filter(type__in=[Token.Type.ACCESS_TOKEN, Token.Type.REFRESH_TOKEN]).exists()
    refreshed = post_token(
        browser, {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": CLIENT_ID}
    )
    assert refreshed.status_code == 400


def test_code_is_bound_to_its_client(browser):
    verifier, challenge = pkce_pair()
    code = get_code(browser, challenge)
    response = exchange(
        browser,
        code,
        verifier,
        client_id="partnerdesk-payroll",
        redirect_uri=f"{BASE_URL}/products/payroll/callback",
    )
    assert response.status_code == 400
    assert not Token.objects.exists()


# --- response types and grants ------------------------------------------------------------


@pytest.mark.parametrize("response_type", ["token", "id_token", "id_token token", "code id_token", "code token"])
def test_implicit_and_hybrid_response_types_are_refused(browser, response_type):
    _, challenge = pkce_pair()
    response = authorize(browser, response_type=response_type, code_challenge=challenge)
    assert not Token.objects.exists()
    if response.status_code == 302:
        # The error may go back to the (registered) redirect URI, never a token.
        assert response["Location"].startswith(REDIRECT_URI)
        assert "error=" in response["Location"]
        assert "access_token" not in response["Location"]
        assert "id_token" not in response["Location"]
        assert "code=" not in response["Location"]
    else:
        assert "Location" not in response


@pytest.mark.parametrize(
    "data",
    [
        {"grant_type": "password", "username": "ada@example.test", "password": PASSWORD},
        {"grant_type": "client_credentials"},
        {"grant_type": "urn:ietf:params:oauth:grant-type:device_code", "device_code": "x"},
        {"grant_type": "implicit"},
    ],
)
def test_other_grants_are_refused_at_the_token_endpoint(client, person, data):
    response = post_token(client, {**data, "client_id": CLIENT_ID, "scope": "openid profile email"})
    assert response.status_code in (400, 401)
    assert "access_token" not in response.json()
    assert not Token.objects.exists()


def test_device_flow_is_not_offered(browser):
    response = browser.post("/identity/o/api/device/code", urlencode({"client_id": CLIENT_ID}), content_type=FORM)
    assert response.status_code == 404
    assert b"user_code" not in response.content
    assert browser.get("/identity/o/device").status_code == 404
    assert browser.get("/identity/o/device?code=ABCD-EFGH").status_code == 404
    assert browser.post("/identity/o/device?code=ABCD-EFGH", {"action": "confirm"}).status_code == 404


# --- refresh tokens -----------------------------------------------------------------------


def test_refresh_rotates_and_the_old_refresh_token_stops_working(browser, company):
    first = sign_in_to_product(browser)
    refreshed = post_token(
        browser, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"], "client_id": CLIENT_ID}
    )
    assert refreshed.status_code == 200, refreshed.content
    second = refreshed.json()
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    claims = verify_id_token(browser, second["id_token"])
    assert claims["companies"][0]["customer_number"] == company.customer_number

    replay = post_token(
        browser, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"], "client_id": CLIENT_ID}
    )
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"

    # The replay also revoked what replaced it (test_reuse_of_a_spent_refresh_token_revokes_its_whole_family).
    again = post_token(
        browser, {"grant_type": "refresh_token", "refresh_token": second["refresh_token"], "client_id": CLIENT_ID}
    )
    assert again.status_code == 400


def refresh(http: HttpClient, refresh_token: str):
    return post_token(http, {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": CLIENT_ID})


def userinfo(http: HttpClient, access_token: str):
    return http.get(USERINFO_URL, headers={"Authorization": f"Bearer {access_token}"})


def test_reuse_of_a_spent_refresh_token_revokes_its_whole_family(browser):
    t0 = sign_in_to_product(browser)
    t1 = refresh(browser, t0["refresh_token"]).json()
    t2 = refresh(browser, t1["refresh_token"]).json()
    assert userinfo(browser, t2["access_token"]).status_code == 200
    other_device = sign_in_to_product(browser)  # another sign-in: another family

    replay = refresh(browser, t0["refresh_token"])
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    # Everything descended from the same code is revoked ...
    assert userinfo(browser, t2["access_token"]).status_code == 401
    assert refresh(browser, t2["refresh_token"]).status_code == 400
    # ... and nothing else.
    assert userinfo(browser, other_device["access_token"]).status_code == 200
    assert refresh(browser, other_device["refresh_token"]).status_code == 200


def test_spent_refresh_tokens_are_stored_hashed_and_expire_with_the_family(browser):
    t0 = sign_in_to_product(browser)
    t1 = refresh(browser, t0["refresh_token"]).json()
    t2 = refresh(browser, t1["refresh_token"]).json()
    spent = list(SpentRefreshToken.objects.order_by("spent_at"))
    assert len(spent) == 2
    assert {s.hash for s in spent} == {get_oidc_adapter().hash_token(t["refresh_token"]) for t in (t0, t1)}
    assert len({s.family for s in spent}) == 1
    current = Token.objects.get(type=Token.Type.REFRESH_TOKEN, hash=get_oidc_adapter().hash_token(t2["refresh_token"]))
    assert [s.expires_at for s in spent] == [current.expires_at, current.expires_at]


def test_expired_tokens_and_spent_refresh_tokens_are_cleared_daily(browser):
    t0 = sign_in_to_product(browser)
    t1 = refresh(browser, t0["refresh_token"]).json()
    assert clear_expired_oidc_tokens.call() == 0
    Token.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    SpentRefreshToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert clear_expired_oidc_tokens.call() == 4  # t0's and t1's access tokens, t1's refresh token, t0 spent
    assert not Token.objects.exists()
    assert not SpentRefreshToken.objects.exists()
    assert refresh(browser, t1["refresh_token"]).status_code == 400
    assert "identity.clear_expired_oidc_tokens" in {p.name for p in SCHEDULE}


def test_refresh_token_is_bound_to_its_client(browser):
    first = sign_in_to_product(browser)
    response = post_token(
        browser,
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"], "client_id": "partnerdesk-payroll"},
    )
    assert response.status_code == 400


# --- max_age and auth_time ---------------------------------------------------------------

REAUTHENTICATE_URL = "/accounts/reauthenticate/"


def sign_in_with_password(http: HttpClient, person) -> None:
    response = http.post("/accounts/login/", {"login": person.email, "password": PASSWORD})
    assert response.status_code == 302, response.content


def age_authentication(http: HttpClient, seconds: int) -> None:
    session = http.session
    records = session["account_authentication_methods"]
    for record in records:
        record["at"] -= seconds
    session["account_authentication_methods"] = records
    session.save()


def last_authentication(http: HttpClient) -> int:
    return int(max(record["at"] for record in http.session["account_authentication_methods"]))


def follow_to_code(http: HttpClient, url: str, verifier: str) -> dict[str, Any]:
    back = http.get(url)
    assert back.status_code == 302
    assert back["Location"].startswith(f"{REDIRECT_URI}?"), back["Location"]
    response = exchange(http, parse_qs(urlsplit(back["Location"]).query)["code"][0], verifier)
    assert response.status_code == 200, response.content
    return response.json()


def test_auth_time_is_in_every_id_token_and_kept_on_refresh(client, person):
    sign_in_with_password(client, person)
    signed_in_at = last_authentication(client)
    first = sign_in_to_product(client)
    assert verify_id_token(client, first["id_token"])["auth_time"] == signed_in_at
    refreshed = refresh(client, first["refresh_token"]).json()
    assert verify_id_token(client, refreshed["id_token"])["auth_time"] == signed_in_at
    again = refresh(client, refreshed["refresh_token"]).json()
    assert verify_id_token(client, again["id_token"])["auth_time"] == signed_in_at


def test_recent_enough_authentication_satisfies_max_age(client, person):
    sign_in_with_password(client, person)
    age_authentication(client, 100)
    body = sign_in_to_product(client, max_age="300")
    assert verify_id_token(client, body["id_token"])["auth_time"] == last_authentication(client)


@pytest.mark.parametrize(("age", "max_age"), [(0, "0"), (600, "300")])
def test_older_authentication_than_max_age_asks_for_it_again_and_comes_back(client, person, age, max_age):
    sign_in_with_password(client, person)
    age_authentication(client, age + 1)
    verifier, challenge = pkce_pair()
    url = f"{AUTHORIZE_URL}?{urlencode(authorize_params(code_challenge=challenge, max_age=max_age))}"

    response = client.get(url)
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == REAUTHENTICATE_URL
    next_url = parse_qs(location.query)["next"][0]
    assert next_url == url
    assert client.get(url)["Location"] == response["Location"]  # no code until the person authenticates

    before = int(time.time())
    confirmed = client.post(REAUTHENTICATE_URL, {"password": PASSWORD, "next": next_url})
    assert confirmed.status_code == 302
    assert confirmed["Location"] == next_url
    body = follow_to_code(client, next_url, verifier)  # once: max_age=0 does not ask forever
    assert verify_id_token(client, body["id_token"])["auth_time"] >= before


def test_session_without_authentication_records_counts_as_too_old(browser):
    _, challenge = pkce_pair()
    response = authorize(browser, code_challenge=challenge, max_age="3600")
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == REAUTHENTICATE_URL


def test_signed_out_person_with_max_age_0_signs_in_once(client, person):
    verifier, challenge = pkce_pair()
    url = f"{AUTHORIZE_URL}?{urlencode(authorize_params(code_challenge=challenge, max_age='0'))}"
    to_login = client.get(url)
    assert to_login["Location"].startswith("/accounts/login/")
    next_url = parse_qs(urlsplit(to_login["Location"]).query)["next"][0]
    signed_in = client.post("/accounts/login/", {"login": person.email, "password": PASSWORD, "next": next_url})
    assert signed_in["Location"] == next_url
    follow_to_code(client, next_url, verifier)


def test_prompt_login_with_max_age_0_asks_once(client, person):
    sign_in_with_password(client, person)
    age_authentication(client, 5)
    verifier, challenge = pkce_pair()
    response = authorize(client, code_challenge=challenge, max_age="0", prompt="login")
    assert urlsplit(response["Location"]).path == REAUTHENTICATE_URL
    next_url = parse_qs(urlsplit(response["Location"]).query)["next"][0]
    confirmed = client.post(REAUTHENTICATE_URL, {"password": PASSWORD, "next": next_url})
    assert confirmed["Location"] == next_url
    follow_to_code(client, next_url, verifier)


def test_prompt_none_with_too_old_authentication_is_login_required(client, person):
    sign_in_with_password(client, person)
    age_authentication(client, 600)
    _, challenge = pkce_pair()
    response = authorize(client, code_challenge=challenge, max_age="300", prompt="none", state="st")
    assert response.status_code == 302
    assert response["Location"] == f"{REDIRECT_URI}?error=login_required&state=st"


@pytest.mark.parametrize("max_age", ["-1", "soon", ""])
def test_malformed_max_age_is_refused(browser, max_age):
    _, challenge = pkce_pair()
    response = authorize(browser, code_challenge=challenge, max_age=max_age)
    assert response.status_code == 400
    assert "Location" not in response


def test_prompt_login_asks_to_sign_in_again_to_the_product(browser):
    _, challenge = pkce_pair()
    response = authorize(browser, code_challenge=challenge, prompt="login")
    assert urlsplit(response["Location"]).path == REAUTHENTICATE_URL
    page = browser.get(response["Location"])
    html = page.content.decode()
    assert "Sign in again to continue to Business Cloud Accounting" in html
    assert "before changing security settings" not in html

    next_url = parse_qs(urlsplit(response["Location"]).query)["next"][0]
    wrong = browser.post(REAUTHENTICATE_URL, {"password": "not the password", "next": next_url})
    assert wrong.status_code == 200
    assert "Sign in again to continue to Business Cloud Accounting" in wrong.content.decode()


@pytest.mark.parametrize("next_url", ["", "/account/security/", "https://evil.test/identity/o/authorize?client_id=x"])
def test_confirm_its_you_keeps_its_words_elsewhere(browser, next_url):
    page = browser.get(f"{REAUTHENTICATE_URL}?{urlencode({'next': next_url})}")
    html = page.content.decode()
    assert "before changing security settings" in html
    assert "Sign in again" not in html


# --- prompt=none -------------------------------------------------------------------------


def test_prompt_none_for_a_signed_in_person_on_a_skip_consent_client_issues_a_code(browser):
    assert not Token.objects.exists()  # no token of any client yet
    verifier, challenge = pkce_pair()
    code = get_code(browser, challenge, prompt="none")
    response = exchange(browser, code, verifier)
    assert response.status_code == 200, response.content


def test_prompt_none_for_a_signed_out_person_is_login_required(client, person):
    _, challenge = pkce_pair()
    response = authorize(client, code_challenge=challenge, prompt="none", state="st")
    assert response.status_code == 302
    assert response["Location"] == f"{REDIRECT_URI}?error=login_required&state=st"


def test_prompt_none_with_another_persons_id_token_hint_is_login_required(client, person):
    other = UserFactory.create(email="charles@example.test")
    client.force_login(other)
    other_id_token = sign_in_to_product(client)["id_token"]
    client.force_login(person)
    _, challenge = pkce_pair()
    response = authorize(client, code_challenge=challenge, prompt="none", id_token_hint=other_id_token)
    assert response.status_code == 302
    assert response["Location"].startswith(f"{REDIRECT_URI}?error=login_required")
    assert "code=" not in response["Location"]


# --- inactive users -----------------------------------------------------------------------


def test_inactive_user_cannot_authorize(browser, person):
    person.is_active = False
    person.save(update_fields=["is_active"])
    _, challenge = pkce_pair()
    response = authorize(browser, code_challenge=challenge)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_user_deactivated_before_the_exchange_gets_no_token(browser, person):
    verifier, challenge = pkce_pair()
    code = get_code(browser, challenge)
    person.is_active = False
    person.save(update_fields=["is_active"])
    response = exchange(browser, code, verifier)
    assert response.status_code == 400
    assert "access_token" not in response.json()


def test_user_deactivated_later_cannot_refresh(browser, person):
    first = sign_in_to_product(browser)
    person.is_active = False
    person.save(update_fields=["is_active"])
    response = post_token(
        browser, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"], "client_id": CLIENT_ID}
    )
    assert response.status_code == 400
    assert "access_token" not in response.json()


# --- RP-initiated logout ------------------------------------------------------------------


def _csrf_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def test_rp_initiated_logout_asks_then_signs_out_and_redirects_to_registered_uri(person):
    browser = HttpClient(enforce_csrf_checks=True)
    browser.force_login(person)
    id_token = sign_in_to_product(browser)["id_token"]
    params = {"id_token_hint": id_token, "post_logout_redirect_uri": SIGNED_OUT_URI, "state": "bye"}

    confirm = browser.get(f"{LOGOUT_URL}?{urlencode(params)}")
    assert confirm.status_code == 200
    html = confirm.content.decode()
    assert "Are you sure you want to sign out?" in html
    assert "_auth_user_id" in browser.session  # asking does not sign out

    # A cross-site POST (no CSRF token) does not sign the user out.
    forged = browser.post(LOGOUT_URL, {**params, "action": "logout"})
    assert "_auth_user_id" in browser.session
    assert forged.status_code in (200, 403)

    done = browser.post(LOGOUT_URL, {**params, "action": "logout", "csrfmiddlewaretoken": _csrf_token(html)})
    assert done.status_code == 302
    assert done["Location"] == f"{SIGNED_OUT_URI}?state=bye"
    assert "_auth_user_id" not in browser.session
    # The product's tokens for this user are revoked too.
    assert not Token.objects.filter(user=person, client_id=CLIENT_ID).exists()


@pytest.mark.parametrize(
    "post_logout_redirect_uri",
    [
        "https://evil.test/signed-out",
        f"{BASE_URL}/products/payroll/signed-out",
        f"{BASE_URL}/elsewhere",
    ],
)
def test_logout_never_redirects_to_an_unregistered_uri(browser, post_logout_redirect_uri):
    id_token = sign_in_to_product(browser)["id_token"]
    params = {"id_token_hint": id_token, "post_logout_redirect_uri": post_logout_redirect_uri}
    response = browser.get(f"{LOGOUT_URL}?{urlencode(params)}")
    assert "Location" not in response
    posted = browser.post(LOGOUT_URL, {**params, "action": "logout", "csrfmiddlewaretoken": "x"})
    assert not posted.get("Location", "").startswith(post_logout_redirect_uri)
    if posted.status_code == 302:
        assert urlsplit(posted["Location"]).netloc == ""


@pytest.mark.parametrize(
    "post_logout_redirect_uri",
    [
        f"{SIGNED_OUT_URI}?next=http://evil.example",
        f"{SIGNED_OUT_URI}#frag",
        "http://127.0.0.1:9999/products/accounting/signed-out",
        f"{SIGNED_OUT_URI}/",
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_post_logout_redirect_uri_must_match_exactly(browser, post_logout_redirect_uri, method):
    params = {"client_id": CLIENT_ID, "post_logout_redirect_uri": post_logout_redirect_uri, "state": "s"}
    if method == "get":
        response = browser.get(f"{LOGOUT_URL}?{urlencode(params)}")
    else:
        response = browser.post(LOGOUT_URL, {**params, "action": "logout"})
    assert response.status_code == 400
    assert "Location" not in response
    html = response.content.decode()
    assert "Enter a valid URL." not in html
    assert "not registered for this application" in html
    assert "_auth_user_id" in browser.session


def test_signed_out_user_with_unregistered_post_logout_redirect_uri_is_not_redirected(client):
    params = {"client_id": CLIENT_ID, "post_logout_redirect_uri": f"{SIGNED_OUT_URI}?next=http://evil.example"}
    response = client.get(f"{LOGOUT_URL}?{urlencode(params)}")
    assert response.status_code == 400
    assert "Location" not in response


def test_registered_post_logout_redirect_uri_with_client_id_only(client):
    params = {"client_id": CLIENT_ID, "post_logout_redirect_uri": SIGNED_OUT_URI, "state": "s"}
    response = client.get(f"{LOGOUT_URL}?{urlencode(params)}")
    assert response.status_code == 302
    assert response["Location"] == f"{SIGNED_OUT_URI}?state=s"


# --- discovery ----------------------------------------------------------------------------


def test_discovery_document_advertises_only_code_flow_with_s256(client):
    response = client.get("/.well-known/openid-configuration")
    assert response.status_code == 200
    doc = response.json()
    assert doc["issuer"] == "http://testserver"
    assert doc["response_types_supported"] == ["code"]
    assert sorted(doc["grant_types_supported"]) == ["authorization_code", "refresh_token"]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["response_modes_supported"] == ["query"]
    assert doc["token_endpoint_auth_methods_supported"] == ["none"]
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert "device_authorization_endpoint" not in doc
    assert {"email", "email_verified", "name", "companies", "practice"} <= set(doc["claims_supported"])
    assert doc["authorization_endpoint"] == f"http://testserver{AUTHORIZE_URL}"
    assert doc["token_endpoint"] == f"http://testserver{TOKEN_URL}"
    assert doc["end_session_endpoint"] == f"http://testserver{LOGOUT_URL}"
    assert doc["revocation_endpoint"] == "http://testserver/identity/o/api/revoke"
    assert doc["jwks_uri"] == "http://testserver/.well-known/jwks.json"


@pytest.mark.parametrize("response_mode", ["fragment", "form_post", "query.jwt", ""])
def test_response_modes_other_than_query_are_refused(browser, response_mode):
    _, challenge = pkce_pair()
    response = authorize(browser, code_challenge=challenge, response_mode=response_mode, state="st")
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    assert location.fragment == ""
    query = parse_qs(location.query)
    assert query["error"] == ["invalid_request"]
    assert query["state"] == ["st"]
    assert "code" not in query


def test_response_mode_query_is_accepted(browser):
    verifier, challenge = pkce_pair()
    code = get_code(browser, challenge, response_mode="query")
    assert exchange(browser, code, verifier).status_code == 200


def test_a_client_secret_is_not_a_way_to_authenticate(browser, products):
    client = products[0]
    client.type = AllauthClient.Type.CONFIDENTIAL
    client.set_secret("s3cret")
    client.save()
    verifier, challenge = pkce_pair()
    code = get_code(browser, challenge)
    response = exchange(browser, code, verifier, client_secret="s3cret")
    assert response.status_code in (400, 401)
    assert "access_token" not in response.json()


def test_jwks_publishes_the_rs256_public_key_only(client):
    keys = client.get("/.well-known/jwks.json").json()["keys"]
    assert keys
    for key in keys:
        assert key["kty"] == "RSA"
        assert "d" not in key
        assert "kid" in key


# --- what allauth does on its own (pins why OIDCPolicyMiddleware exists) -------------------


@pytest.mark.parametrize(
    ("redirect_uri", "method"),
    [
        (f"{REDIRECT_URI}?extra=1", "S256"),
        ("http://127.0.0.1:9999/products/accounting/callback", "S256"),
        (f"{REDIRECT_URI};x", "S256"),
        (REDIRECT_URI, "plain"),
    ],
)
def test_without_the_policy_middleware_allauth_is_looser(settings, browser, redirect_uri, method):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != POLICY_MIDDLEWARE]
    verifier, challenge = pkce_pair()
    response = authorize(
        browser,
        redirect_uri=redirect_uri,
        code_challenge=verifier if method == "plain" else challenge,
        code_challenge_method=method,
    )
    assert response.status_code == 302
    assert response["Location"].startswith(redirect_uri)
    assert "code=" in response["Location"]


def test_allauth_alone_requires_pkce_from_public_clients(settings, browser):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != POLICY_MIDDLEWARE]
    response = authorize(browser, code_challenge_method=None)
    assert response.status_code == 302
    assert response["Location"].startswith(f"{REDIRECT_URI}?error=invalid_request")
    assert "code=" not in response["Location"]
