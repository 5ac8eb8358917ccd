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
