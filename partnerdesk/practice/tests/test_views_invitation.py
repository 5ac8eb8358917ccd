import re
from datetime import timedelta

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.practice import staff_services
from partnerdesk.practice.models import PracticeInvitation, PracticeMember
from partnerdesk.practice.tests.staff_factories import add_member, invitation_token, make_practice

pytestmark = pytest.mark.django_db


@pytest.fixture
def invited():
    practice, admin = make_practice()
    invitation = staff_services.invitation_create(
        actor=admin, practice=practice, email="sam@example.test", role="staff"
    )
    return practice, admin, invitation, invitation_token(invitation)


def _as(user) -> HttpClient:
    client = HttpClient()
    client.force_login(user)
    return client


def test_anonymous_sees_the_practice_and_sign_in_or_create_account_with_next(invited):
    _practice, _, _, token = invited
    response = HttpClient().get(f"/partner/invitations/{token}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Join Hartley LLP" in body
    assert f"/accounts/login/?next=%2Fpartner%2Finvitations%2F{token}%2F" in body
    assert f"/accounts/signup/?next=%2Fpartner%2Finvitations%2F{token}%2F&amp;email=sam%40example.test" in body


def test_create_account_from_an_invitation_opens_sign_up_with_the_invited_email(invited):
    _practice, _, _, token = invited
    client = HttpClient()
    body = client.get(f"/partner/invitations/{token}/").content.decode()
    link = re.search(r'href="(/accounts/signup/[^"]+)"', body)
    assert link is not None
    form = client.get(link.group(1).replace("&amp;", "&")).content.decode()
    email_input = re.search(r'<input[^>]*name="email"[^>]*>', form)
    assert email_input is not None
    assert 'value="sam@example.test"' in email_input.group(0)


def test_matching_signed_in_person_accepts(invited):
    practice, _, _invitation, token = invited
    sam = UserFactory.create(email="sam@example.test")
    client = _as(sam)
    assert "Accept invitation" in client.get(f"/partner/invitations/{token}/").content.decode()
    response = client.post(f"/partner/invitations/{token}/")
    assert response.status_code == 302
    assert response["Location"] == "/partner/clients/"
    assert PracticeMember.objects.get(user=sam).practice == practice
    used = client.get(f"/partner/invitations/{token}/")
    assert used.status_code == 410
    assert "already been used" in used.content.decode()


def test_a_different_signed_in_email_is_told_so(invited):
    _, _, _, token = invited
    other = UserFactory.create(email="other@example.test")
    client = _as(other)
    body = client.get(f"/partner/invitations/{token}/").content.decode()
    assert "sent to sam@example.test, but you are signed in as other@example.test" in body
    assert "Accept invitation" not in body
    client.post(f"/partner/invitations/{token}/")
    assert not PracticeMember.objects.filter(user=other).exists()


def test_expired_revoked_and_superseded_links_get_a_clear_page(invited):
    practice, admin, invitation, token = invited
    PracticeInvitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = HttpClient().get(f"/partner/invitations/{token}/")
    assert (expired.status_code, "has expired" in expired.content.decode()) == (410, True)

    PracticeInvitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() + timedelta(days=1))
    staff_services.invitation_resend(actor=admin, practice=practice, invitation_id=invitation.pk)
    superseded = HttpClient().get(f"/partner/invitations/{token}/")
    assert superseded.status_code == 404
    assert "only the link in the newest email works" in superseded.content.decode()

    staff_services.invitation_revoke(actor=admin, practice=practice, invitation_id=invitation.pk)
    revoked = HttpClient().get(f"/partner/invitations/{invitation_token(invitation)}/")
    assert (revoked.status_code, "withdrawn by the practice" in revoked.content.decode()) == (410, True)


def test_member_of_another_practice_gets_a_message(invited):
    _, _, _, token = invited
    other, _ = make_practice("Other LLP", "boss@other.test")
    sam = add_member(other, "sam@example.test").user
    response = _as(sam).post(f"/partner/invitations/{token}/", follow=True)
    assert "already belongs to another practice" in response.content.decode()
