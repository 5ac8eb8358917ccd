import pytest
from allauth.usersessions.models import UserSession
from django.core.cache import caches

from partnerdesk.identity.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_signed_in_requests_record_device_ip_and_last_seen_once_a_minute(client):
    user = UserFactory.create()
    client.force_login(user)
    client.get("/", HTTP_USER_AGENT="Firefox/140", REMOTE_ADDR="198.51.100.4")
    session = UserSession.objects.get(user=user)
    assert (session.ip, session.user_agent) == ("198.51.100.4", "Firefox/140")
    first_seen = session.last_seen_at

    client.get("/", HTTP_USER_AGENT="Firefox/140")
    session.refresh_from_db()
    assert session.last_seen_at == first_seen  # throttled: no write within the minute

    caches["local"].clear()  # the minute has passed
    client.get("/", HTTP_USER_AGENT="Firefox/140")
    session.refresh_from_db()
    assert session.last_seen_at > first_seen


def test_anonymous_requests_record_nothing(client):
    client.get("/")
    assert not UserSession.objects.exists()
