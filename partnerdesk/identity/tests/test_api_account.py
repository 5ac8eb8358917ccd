"""The account journeys through the JSON API (allauth headless): browser client (session + CSRF) and app client."""

import pytest
from django.test import Client

from partnerdesk.identity.models import User
from partnerdesk.identity.tests.factories import PASSWORD, UserFactory
from partnerdesk.notifications.models import OutboundEmail

pytestmark = pytest.mark.django_db
BROWSER = "/_allauth/browser/v1"
APP = "/_allauth/app/v1"
STRONG = "a good long passphrase"


def _csrf_client() -> Client:
    client = Client(enforce_csrf_checks=True)
    client.get("/signin/")
    return client


def _post(client: Client, path: str, data: dict, **headers):
    token = client.cookies["csrftoken"].value if "csrftoken" in client.cookies else ""
    return client.post(path, data, content_type="application/json", headers={"X-CSRFToken": token, **headers})


def test_signup_then_code_signs_in_with_full_name():
    client = _csrf_client()
    response = _post(
        client, f"{BROWSER}/auth/signup", {"email": "Api@Example.test ", "password": STRONG, "full_name": "Api Person"}
    )
    assert response.status_code == 401
    assert {"id": "verify_email", "is_pending": True} in response.json()["data"]["flows"]
    code = OutboundEmail.objects.get(template="account-email_confirmation_signup").context["code"]
    assert len(code) == 8
    assert code.isdigit()

    response = _post(client, f"{BROWSER}/auth/email/verify", {"key": code})
    assert response.status_code == 200
    body = response.json()
    assert body["meta"]["is_authenticated"] is True
    assert body["data"]["user"]["display"] == "Api Person"
    assert User.objects.get(email="api@example.test").full_name == "Api Person"


def test_signup_requires_csrf_for_the_browser_client():
    client = _csrf_client()
    response = client.post(
        f"{BROWSER}/auth/signup",
        {"email": "x@example.test", "password": STRONG, "full_name": "X"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not User.objects.filter(email="x@example.test").exists()


def test_wrong_code_is_refused_with_a_specific_error():
    client = _csrf_client()
    _post(client, f"{BROWSER}/auth/signup", {"email": "w@example.test", "password": STRONG, "full_name": "W"})
    response = _post(client, f"{BROWSER}/auth/email/verify", {"key": "00000000"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["param"] == "key"


def test_existing_email_signup_looks_the_same_and_creates_nothing():
    UserFactory.create(email="taken@example.test")
    new = _post(
        _csrf_client(), f"{BROWSER}/auth/signup", {"email": "fresh@example.test", "password": STRONG, "full_name": "F"}
    )
    taken = _post(
        _csrf_client(), f"{BROWSER}/auth/signup", {"email": "taken@example.test", "password": STRONG, "full_name": "T"}
    )
    assert (new.status_code, new.json()) == (taken.status_code, taken.json())
    assert User.objects.filter(email="taken@example.test").count() == 1
    assert OutboundEmail.objects.filter(template="account-account_already_exists", to=["taken@example.test"]).exists()


def test_password_reset_request_is_identical_for_known_and_unknown():
    UserFactory.create(email="known@example.test")
    known = _post(_csrf_client(), f"{BROWSER}/auth/password/request", {"email": "known@example.test"})
    unknown = _post(_csrf_client(), f"{BROWSER}/auth/password/request", {"email": "unknown@example.test"})
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json()) == (200, {"status": 200})
    assert OutboundEmail.objects.filter(template="account-password_reset_key", to=["known@example.test"]).exists()
    assert OutboundEmail.objects.filter(template="account-unknown_account", to=["unknown@example.test"]).exists()


def test_weak_password_gets_its_own_message():
    response = _post(
        _csrf_client(),
        f"{BROWSER}/auth/signup",
        {"email": "p@example.test", "password": "123456789012345", "full_name": "P"},
    )
    assert response.status_code == 400
    messages = [e["message"] for e in response.json()["errors"]]
    assert "This password is entirely numeric." in messages


def test_app_client_signs_in_with_a_session_token_and_lists_sessions():
    user = UserFactory.create(full_name="App User")
    client = Client()
    response = client.post(
        f"{APP}/auth/login", {"email": user.email, "password": PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 200
    token = response.json()["meta"]["session_token"]
    sessions = Client().get(f"{APP}/auth/sessions", headers={"X-Session-Token": token})
    assert sessions.status_code == 200
    assert len(sessions.json()["data"]) == 1
    wrong = client.post(
        f"{APP}/auth/login", {"email": user.email, "password": "not the password"}, content_type="application/json"
    )
    assert wrong.status_code == 400


def test_account_api_specification_is_served(client):
    assert client.get("/_allauth/openapi.json").status_code == 200
