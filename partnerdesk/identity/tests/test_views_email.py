"""Security -> Manage email: allauth's page, with a single address shown as a fact."""

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from partnerdesk.identity.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _page(user) -> str:
    http = Client()
    http.force_login(user)
    return http.get("/accounts/email/").content.decode()


def test_one_address_is_shown_without_actions_that_have_nothing_to_do():
    user = UserFactory.create(email="nia@example.test")
    EmailAddress.objects.get_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
    page = _page(user)
    assert "Your account's email address is <strong>nia@example.test</strong>" in page
    for action in ("action_primary", "action_send", "action_remove"):
        assert action not in page
    assert 'name="action_add"' in page  # a new address can still be added


def test_with_two_addresses_the_choices_come_back():
    user = UserFactory.create(email="nia@example.test")
    EmailAddress.objects.get_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
    EmailAddress.objects.create(user=user, email="nia@work.test", verified=False, primary=False)
    page = _page(user)
    for action in ("action_primary", "action_send", "action_remove"):
        assert f'name="{action}"' in page
