import pytest

from partnerdesk.audit.models import Event
from partnerdesk.identity.tests.factories import PASSWORD, UserFactory
from partnerdesk.notifications.models import OutboundEmail

pytestmark = pytest.mark.django_db


def _actions(user=None):
    events = Event.objects.all() if user is None else Event.objects.filter(actor=user)
    return list(events.order_by("id").values_list("action", flat=True))


def test_signup_and_verification_are_audited(client):
    client.post(
        "/accounts/signup/",
        {
            "email": "new@example.test",
            "password1": "a good long passphrase",
            "password2": "a good long passphrase",
            "full_name": "N",
        },
    )
    code = OutboundEmail.objects.get(template="account-email_confirmation_signup").context["code"]
    client.post("/accounts/confirm-email/", {"code": code})
    assert _actions() == ["identity.user.signup", "identity.email.verify", "identity.login.success"]


def test_sign_in_success_failure_and_sign_out_are_audited(client):
    user = UserFactory.create()
    client.post("/accounts/login/", {"login": user.email, "password": "wrong password!"}, REMOTE_ADDR="192.0.2.9")
    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    client.post("/accounts/logout/")
    assert _actions(user) == ["identity.login.failure", "identity.login.success", "identity.logout"]
    failure = Event.objects.get(action="identity.login.failure")
    assert failure.ip == "192.0.2.9"


def test_failed_sign_in_for_unknown_email_keeps_only_a_fingerprint(client):
    client.post("/accounts/login/", {"login": "ghost@example.test", "password": "whatever it is"})
    event = Event.objects.get(action="identity.login.failure")
    assert event.actor is None
    assert "ghost@example.test" not in str(event.data)
    assert len(event.data["email_sha256"]) == 16


def test_password_change_is_audited(client):
    user = UserFactory.create()
    client.force_login(user)
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": "another long passphrase", "password2": "another long passphrase"},
    )
    assert response.status_code == 302, response.context["form"].errors
    assert "identity.password.change" in _actions(user)
