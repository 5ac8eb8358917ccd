"""Security -> Change password: the current password is asked for, and the policy applies to the new one."""

import pytest
from django.test import Client

from partnerdesk.identity.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
URL = "/accounts/password/change/"
CURRENT = "the old lighthouse keeper"
NEW = "a brand new passphrase here"


@pytest.fixture
def signed_in():
    user = UserFactory.create(password=CURRENT)
    http = Client()
    http.force_login(user)
    return user, http


def test_a_wrong_current_password_is_called_wrong(signed_in):
    user, http = signed_in
    response = http.post(URL, {"oldpassword": "not it at all", "password1": NEW, "password2": NEW})
    assert response.status_code == 200
    assert response.context["form"].errors["oldpassword"] == ["That is not your current password."]
    user.refresh_from_db()
    assert user.check_password(CURRENT)


def test_the_new_password_follows_the_policy(signed_in):
    user, http = signed_in
    response = http.post(URL, {"oldpassword": CURRENT, "password1": " " * 14, "password2": " " * 14})
    assert response.context["form"].errors["password1"] == ["This password is only spaces."]
    changed = http.post(URL, {"oldpassword": CURRENT, "password1": NEW, "password2": NEW})
    assert changed.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW)


def test_a_new_password_ends_the_products_sessions(signed_in):
    from allauth.idp.oidc.models import Client as OIDCClient
    from allauth.idp.oidc.models import Token

    user, http = signed_in
    product = OIDCClient.objects.create(name="Payroll", id="payroll-test")
    Token.objects.create(client=product, user=user, type=Token.Type.REFRESH_TOKEN, hash="h" * 64)
    Token.objects.create(client=product, user=user, type=Token.Type.ACCESS_TOKEN, hash="a" * 64)
    assert http.post(URL, {"oldpassword": CURRENT, "password1": NEW, "password2": NEW}).status_code == 302
    assert not Token.objects.filter(user=user).exists()
