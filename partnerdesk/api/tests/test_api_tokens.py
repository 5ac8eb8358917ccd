from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from partnerdesk.api.models import PersonalAccessToken
from partnerdesk.audit.models import Event
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.lib.tokens import hash_token
from partnerdesk.notifications.models import OutboundEmail

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return UserFactory.create(email="dev@example.test", full_name="Dev Person")


@pytest.fixture
def session_client(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def _csrf(client: Client) -> str:
    client.get("/")  # sets the CSRF cookie
    return client.cookies["csrftoken"].value


def _create_token(session_client, name="deploy script", days=30):
    return session_client.post(
        "/api/v1/tokens",
        {"name": name, "days": days},
        content_type="application/json",
        headers={"X-CSRFToken": _csrf(session_client)},
    )


def test_create_token_returns_it_once_and_stores_only_its_hash(session_client, user):
    response = _create_token(session_client)
    assert response.status_code == 201
    body = response.json()
    token = body["token"]
    assert token.startswith("pdt_")
    assert len(token) > 40
    stored = PersonalAccessToken.objects.get(pk=body["id"])
    assert stored.token_hash == hash_token(token)
    assert token not in {stored.hint, stored.token_hash, stored.name}
    assert session_client.get("/api/v1/tokens").json()[0].get("token") is None
    assert Event.objects.filter(action="api.token.create", actor=user).count() == 1
    assert OutboundEmail.objects.filter(template="api-token-created", to=["dev@example.test"]).count() == 1


def test_bearer_token_authenticates_scripts(session_client):
    token = _create_token(session_client).json()["token"]
    response = Client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json() == {"id": response.json()["id"], "email": "dev@example.test", "full_name": "Dev Person"}


def test_a_token_cannot_create_tokens(session_client, user):
    token = _create_token(session_client).json()["token"]
    refused = Client().post(
        "/api/v1/tokens",
        {"name": "child", "days": 366},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "token_needs_signed_in_session"
    assert PersonalAccessToken.objects.filter(user=user).count() == 1


def test_revoked_token_no_longer_works(session_client, user):
    body = _create_token(session_client).json()
    response = session_client.delete(f"/api/v1/tokens/{body['id']}", headers={"X-CSRFToken": _csrf(session_client)})
    assert response.status_code == 204
    assert (response.content, response.has_header("Content-Type")) == (b"", False)
    assert Client().get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"}).status_code == 401
    assert Event.objects.filter(action="api.token.revoke", actor=user).count() == 1


def test_expired_token_and_inactive_user_are_refused(session_client, user):
    body = _create_token(session_client).json()
    PersonalAccessToken.objects.filter(pk=body["id"]).update(
        created_at=timezone.now() - timedelta(days=2), expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert Client().get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"}).status_code == 401
    PersonalAccessToken.objects.filter(pk=body["id"]).update(expires_at=timezone.now() + timedelta(days=1))
    user.is_active = False
    user.save()
    assert Client().get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"}).status_code == 401


def test_session_post_without_csrf_token_is_refused(session_client):
    response = session_client.post("/api/v1/tokens", {"name": "x"}, content_type="application/json")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert not PersonalAccessToken.objects.exists()


def _is_401(response) -> None:
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/tokens"),
        ("put", "/api/v1/practice/members/1/role"),
        ("patch", "/api/v1/practice/settings"),
        ("delete", "/api/v1/tokens/1"),
    ],
)
@pytest.mark.parametrize("authorization", [None, "Bearer pdt_nope", "Bearer ", "Basic dXNlcjpwYXNz"])
def test_unsafe_method_without_a_good_token_is_401_not_a_csrf_403(method, path, authorization):
    client = Client(enforce_csrf_checks=True)
    headers = {"Authorization": authorization} if authorization else {}
    response = getattr(client, method)(path, "{}", content_type="application/json", headers=headers)
    _is_401(response)


def test_revoked_token_on_unsafe_method_is_401(session_client):
    body = _create_token(session_client).json()
    session_client.delete(f"/api/v1/tokens/{body['id']}", headers={"X-CSRFToken": _csrf(session_client)})
    script = Client(enforce_csrf_checks=True)
    response = script.post(
        "/api/v1/tokens",
        {"name": "x"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {body['token']}"},
    )
    _is_401(response)


def test_bad_token_is_judged_alone_even_with_a_signed_in_session(session_client):
    """The Authorization header decides: a bad token is never rescued by the session cookie (nor its CSRF token)."""
    headers = {"Authorization": "Bearer pdt_nope", "X-CSRFToken": _csrf(session_client)}
    _is_401(session_client.get("/api/v1/me", headers=headers))
    _is_401(session_client.post("/api/v1/tokens", {"name": "x"}, content_type="application/json", headers=headers))
    assert not PersonalAccessToken.objects.exists()


def test_good_token_needs_no_csrf_token(session_client):
    token = _create_token(session_client).json()["token"]
    other = _create_token(session_client, name="other").json()
    script = Client(enforce_csrf_checks=True)
    response = script.delete(f"/api/v1/tokens/{other['id']}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 204


def test_another_users_token_is_not_found(session_client):
    other = UserFactory.create()
    client = Client()
    client.force_login(other)
    theirs = _create_token(client).json()
    response = session_client.delete(f"/api/v1/tokens/{theirs['id']}", headers={"X-CSRFToken": _csrf(session_client)})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert PersonalAccessToken.objects.get(pk=theirs["id"]).revoked_at is None


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"name": ""}, "name"), ({"name": "x", "days": 0}, "days"), ({"name": "x", "days": 400}, "days"), ({}, "name")],
)
def test_invalid_token_requests_get_validation_problems(session_client, payload, field):
    response = session_client.post(
        "/api/v1/tokens", payload, content_type="application/json", headers={"X-CSRFToken": _csrf(session_client)}
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert any(field in err["loc"] for err in problem["errors"])


def test_blank_name_after_trimming_is_a_domain_error(session_client):
    response = _create_token(session_client, name="   ")
    assert response.status_code == 400
    assert response.json()["code"] == "token_name_required"


def test_token_limit_is_enforced(session_client, user, monkeypatch):
    monkeypatch.setattr("partnerdesk.api.services.MAX_TOKENS_PER_USER", 2)
    assert _create_token(session_client).status_code == 201
    assert _create_token(session_client).status_code == 201
    response = _create_token(session_client)
    assert response.status_code == 409
    assert response.json()["code"] == "token_limit_reached"
    assert PersonalAccessToken.objects.filter(user=user).count() == 2
