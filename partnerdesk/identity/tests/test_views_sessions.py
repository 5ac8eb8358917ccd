import pytest
from allauth.usersessions.models import UserSession
from django.test import Client

from partnerdesk.audit.models import Event
from partnerdesk.identity.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _signed_in(user, agent):
    client = Client(HTTP_USER_AGENT=agent)
    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    client.get("/")
    return client


def test_end_one_other_session_signs_that_device_out():
    user = UserFactory.create()
    laptop = _signed_in(user, "Laptop Firefox")
    phone = _signed_in(user, "Phone Safari")
    phone_session = UserSession.objects.get(user=user, user_agent="Phone Safari")
    page = laptop.get("/accounts/sessions/").content.decode()
    assert "Phone Safari" in page
    assert f"/account/sessions/{phone_session.pk}/end/" in page

    response = laptop.post(f"/account/sessions/{phone_session.pk}/end/", follow=True)
    assert "That device has been signed out." in response.content.decode()
    assert phone.get("/account/security/").status_code == 302  # back to sign in
    assert laptop.get("/account/security/").status_code == 200
    assert Event.objects.filter(action="identity.session.end", actor=user).count() == 1


def test_cannot_end_the_current_session_or_someone_elses():
    user = UserFactory.create()
    laptop = _signed_in(user, "Laptop Firefox")
    own = UserSession.objects.get(user=user)
    response = laptop.post(f"/account/sessions/{own.pk}/end/", follow=True)
    assert "use Sign out instead" in response.content.decode()
    other = UserFactory.create()
    _signed_in(other, "Other")
    theirs = UserSession.objects.get(user=other)
    assert laptop.post(f"/account/sessions/{theirs.pk}/end/").status_code == 404
    assert UserSession.objects.filter(pk=theirs.pk).exists()


CHROME_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.0 Mobile/15E148 Safari/604.1"
)
EDGE_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
    "Safari/537.36 Edg/131.0.0.0"
)


def test_devices_are_named_as_people_name_them_with_the_raw_string_as_a_tooltip():
    user = UserFactory.create()
    laptop = _signed_in(user, CHROME_LINUX)
    _signed_in(user, SAFARI_IPHONE)
    _signed_in(user, EDGE_WINDOWS)
    _signed_in(user, "curl/8.5.0")
    page = laptop.get("/accounts/sessions/").content.decode()
    for name in ("Chrome on Linux", "Safari on iPhone", "Edge on Windows", "curl/8.5.0"):
        assert f">{name}</th>" in page, name
    assert f'title="{SAFARI_IPHONE}"' in page
    assert 'aria-label="Sign out Safari on iPhone (127.0.0.1)"' in page
