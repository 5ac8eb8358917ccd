import json

import pytest
from django.test import Client

from partnerdesk.identity.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _is_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["title"]
    assert body["instance"] == response.wsgi_request.path
    return body


def test_unauthenticated_request_is_a_401_problem_with_bearer_challenge(client):
    response = client.get("/api/v1/me")
    _is_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_garbage_bearer_token_is_a_401_problem(client):
    _is_problem(client.get("/api/v1/me", headers={"Authorization": "Bearer pdt_nope"}), 401, "not_authenticated")


@pytest.mark.parametrize(
    "path",
    ["/api/v1/no-such-thing", "/api/v1/nonexistent/", "/api/v1/practice/clients/abc", "/api/v1/practice/clients/8/"],
)
def test_unknown_api_path_is_a_404_problem(client, path):
    body = _is_problem(client.get(path), 404, "not_found")
    assert body["type"] == "/api/v1/problems/not_found"


def test_trailing_slash_404_says_api_paths_have_none(client):
    assert "trailing slash" in client.get("/api/v1/practice/clients/8/").json()["detail"]
    assert "trailing slash" not in client.get("/api/v1/nonexistent/").json()["detail"]


def test_a_404_outside_the_api_stays_a_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("patch", "/api/v1/practice/clients/62", {"GET", "PUT", "DELETE"}),
        ("post", "/api/v1/me", {"GET"}),
        ("put", "/api/v1/tokens", {"GET", "POST"}),
    ],
)
def test_wrong_method_is_a_405_problem_with_allow(client, method, path, allowed):
    response = getattr(client, method)(path, "{}", content_type="application/json")
    body = _is_problem(response, 405, "method_not_allowed")
    assert {m.strip() for m in response["Allow"].split(",")} == allowed
    assert method.upper() in body["detail"]


def test_malformed_json_is_a_problem_not_a_500():
    client = Client()
    client.force_login(UserFactory.create())
    response = client.post("/api/v1/tokens", "{not json", content_type="application/json")
    assert response.status_code in {400, 401, 403, 422}
    assert response["Content-Type"] == "application/problem+json"


def test_unexpected_error_is_a_500_problem_without_internals(monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr("partnerdesk.api.services.token_revoke", explode)
    client = Client()
    client.force_login(UserFactory.create())
    client.cookies.load({"csrftoken": "a" * 32})
    response = client.delete("/api/v1/tokens/1", headers={"X-CSRFToken": "a" * 32})
    body = _is_problem(response, 500, "internal_error")
    assert "secret internal detail" not in response.content.decode()
    assert body["title"] == "Something went wrong on our side"


def test_openapi_document_and_docs_are_served(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert spec["info"]["title"] == "Partnerdesk API"
    assert "/api/v1/tokens" in spec["paths"]
    assert client.get("/api/v1/docs").status_code == 200


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_request_body_over_the_upload_limit_is_a_413_problem(settings, content_type):
    client = Client()
    client.force_login(UserFactory.create())
    body = json.dumps({"business_name": "x" * 3 * 1024 * 1024})
    response = client.post("/api/v1/practice/clients", body, content_type=content_type)
    problem = _is_problem(response, 413, "request_too_large")
    assert problem["title"] == "The request body is too large"
    assert str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) in problem["detail"]
    assert problem["max_bytes"] == settings.DATA_UPLOAD_MAX_MEMORY_SIZE


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    ("body", "content_type"),
    [("{not json", "application/json"), ("name=x&days=3", "application/x-www-form-urlencoded"), ("name", "text/plain")],
)
def test_unparseable_body_has_a_stable_title_and_the_parser_text_only_in_detail(settings, debug, body, content_type):
    settings.DEBUG = debug  # with DEBUG, ninja adds the parser's exception text to its message
    client = Client()
    client.force_login(UserFactory.create())
    problem = _is_problem(client.post("/api/v1/tokens", body, content_type=content_type), 400, "bad_request")
    assert problem["title"] == "The request body could not be parsed"
    assert problem["detail"].startswith("Send the body as JSON")
    assert ("Expecting" in problem["detail"]) is debug


def test_csrf_refusal_keeps_its_reason_in_detail():
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory.create())
    problem = _is_problem(
        client.post("/api/v1/tokens", "{}", content_type="application/json"), 403, "permission_denied"
    )
    assert problem["title"] == "The request was refused"
    assert "CSRF" in problem["detail"]
