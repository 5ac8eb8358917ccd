import pytest

from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.lib.ratelimit import INVITATION_LINK_PER_IP

pytestmark = pytest.mark.django_db


def test_guessing_invitation_links_is_rate_limited_per_ip(client):
    for _ in range(INVITATION_LINK_PER_IP.limit):
        assert client.get("/partner/invitations/not-a-real-token/").status_code == 404
    limited = client.get("/partner/invitations/not-a-real-token/")
    assert limited.status_code == 429
    assert "Too many attempts" in limited.content.decode()
    minutes = -(-int(limited["Retry-After"]) // 60)
    assert 0 < int(limited["Retry-After"]) <= INVITATION_LINK_PER_IP.window_seconds
    assert f"try again in {minutes} minute" in limited.content.decode()


def test_guessing_activation_links_says_when_to_try_again(client):
    for _ in range(INVITATION_LINK_PER_IP.limit):
        assert client.get("/activate/not-a-real-token/").status_code == 404
    limited = client.get("/activate/not-a-real-token/")
    assert limited.status_code == 429
    assert "Please wait, then try again" not in limited.content.decode()
    assert "Too many attempts, try again in " in limited.content.decode()
    assert int(limited["Retry-After"]) > 0


def test_api_accept_is_rate_limited_with_a_problem(client):
    client.force_login(UserFactory.create())
    for _ in range(INVITATION_LINK_PER_IP.limit):
        client.post("/api/v1/practice/invitations/accept", {"token": "nope"}, content_type="application/json")
    limited = client.post("/api/v1/practice/invitations/accept", {"token": "nope"}, content_type="application/json")
    assert (limited.status_code, limited.json()["code"]) == (429, "rate_limited")
    assert int(limited["Retry-After"]) > 0
