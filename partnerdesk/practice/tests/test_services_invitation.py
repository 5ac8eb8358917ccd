from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from partnerdesk.audit.models import Event
from partnerdesk.backoffice.periodic import SCHEDULE
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.lib.errors import NotFound
from partnerdesk.lib.tokens import hash_token
from partnerdesk.notifications.models import OutboundEmail
from partnerdesk.notifications.tasks import deliver_email
from partnerdesk.practice import staff_services as services
from partnerdesk.practice.models import PracticeInvitation, PracticeMember
from partnerdesk.practice.tasks import expire_staff_invitations
from partnerdesk.practice.tests.staff_factories import add_member, invitation_token, make_practice

pytestmark = pytest.mark.django_db


@pytest.fixture
def practice_admin():
    return make_practice()


def _invite(practice, admin, email="sam@example.test", role="staff"):
    return services.invitation_create(actor=admin, practice=practice, email=email, role=role)


def test_invite_creates_a_pending_invitation_for_14_days_and_emails_the_link(practice_admin):
    practice, admin = practice_admin
    invitation = _invite(practice, admin, email=" Sam@Example.TEST ")
    assert invitation.status == "pending"
    assert invitation.email == "sam@example.test"
    assert invitation.role == "staff"
    assert invitation.invited_by == admin
    assert invitation.expires_at - invitation.created_at == timedelta(days=14)
    email = OutboundEmail.objects.get(template="practice-staff-invitation")
    assert email.to == ["sam@example.test"]
    assert email.context["practice_name"] == "Hartley LLP"
    assert email.context["invitation_path"].startswith("/partner/invitations/pdi_")
    assert Event.objects.filter(action="practice.staff.invite", practice=practice, actor=admin).exists()


def test_the_token_is_stored_only_as_its_hash(practice_admin):
    practice, admin = practice_admin
    invitation = _invite(practice, admin)
    token = invitation_token(invitation)
    invitation.refresh_from_db()
    assert invitation.token_hash == hash_token(token)
    assert token not in invitation.token_hash
    # once the worker has delivered it, the outbox keeps no link either
    email = OutboundEmail.objects.get(template="practice-staff-invitation")
    assert deliver_email.call(str(email.id)) == "sent"
    with connection.cursor() as cursor:
        for table in ("practice_practiceinvitation", "audit_event", "notifications_outboundemail"):
            cursor.execute(f"SELECT * FROM {table}")
            assert token not in repr(cursor.fetchall()), table


def test_staff_cannot_invite_and_another_practices_admin_gets_404(practice_admin):
    practice, _admin = practice_admin
    staff = add_member(practice, "staff@hartley.test")
    _other, other_admin = make_practice("Other LLP", "boss@other.test")
    for actor in (staff.user, other_admin):
        with pytest.raises(NotFound):
            services.invitation_create(actor=actor, practice=practice, email="x@example.test", role="staff")
    assert not PracticeInvitation.objects.exists()


@pytest.mark.parametrize("email", ["", "not-an-email", "a@", "@b.test"])
def test_invite_refuses_a_bad_email(practice_admin, email):
    practice, admin = practice_admin
    with pytest.raises(services.InvalidInput):
        _invite(practice, admin, email=email)


def test_invite_refuses_a_bad_role(practice_admin):
    practice, admin = practice_admin
    with pytest.raises(services.InvalidInput):
        _invite(practice, admin, role="owner")


def test_invite_refuses_an_existing_member(practice_admin):
    practice, admin = practice_admin
    add_member(practice, "staff@hartley.test")
    with pytest.raises(services.AlreadyMember):
        _invite(practice, admin, email="STAFF@hartley.test")


def test_one_pending_invitation_per_practice_and_email(practice_admin):
    practice, admin = practice_admin
    _invite(practice, admin)
    with pytest.raises(services.AlreadyInvited):
        _invite(practice, admin)
    other, other_admin = make_practice("Other LLP", "boss@other.test")
    _invite(other, other_admin)  # another practice may invite the same person


def test_database_backs_one_pending_invitation_per_practice_and_email(practice_admin):
    practice, admin = practice_admin
    first = _invite(practice, admin)
    with pytest.raises(IntegrityError), transaction.atomic():
        PracticeInvitation.objects.create(
            practice=practice, email=first.email, token_hash="x" * 64, expires_at=first.expires_at
        )
    services.invitation_revoke(actor=admin, practice=practice, invitation_id=first.pk)
    assert _invite(practice, admin).status == "pending"  # a closed invitation does not block a new one


def test_accept_with_the_matching_verified_email_makes_a_member(practice_admin):
    practice, admin = practice_admin
    invitation = _invite(practice, admin, email="sam@example.test", role="admin")
    sam = UserFactory.create(email="sam@example.test")
    member = services.invitation_accept(user=sam, token=invitation_token(invitation))
    assert (member.practice, member.user, member.role, member.sees_all_clients) == (practice, sam, "admin", True)
    invitation.refresh_from_db()
    assert invitation.status == "accepted"
    assert invitation.accepted_by == sam
    assert invitation.accepted_at is not None
    assert Event.objects.filter(action="practice.staff.invite_accept", actor=sam, practice=practice).exists()


def test_the_link_is_single_use(practice_admin):
    practice, admin = practice_admin
    invitation = _invite(practice, admin)
    token = invitation_token(invitation)
    sam = UserFactory.create(email="sam@example.test")
    services.invitation_accept(user=sam, token=token)
    with pytest.raises(services.InvitationClosed) as exc:
        services.invitation_accept(user=sam, token=token)
    assert exc.value.code == "invitation_accepted"


def test_accept_refuses_a_different_email(practice_admin):
    practice, admin = practice_admin
    invitation = _invite(practice, admin)
    other = UserFactory.create(email="someone-else@example.test")
    with pytest.raises(services.InvitationEmailMismatch):
        services.invitation_accept(user=other, token=invitation_token(invitation))
    assert not PracticeMember.objects.filter(user=other).exists()
    invitation.refresh_from_db()
    assert invitation.status == "pending"


def test_accept_refuses_an_unverified_matching_email(practice_admin):
    practice, admin = practice_admin
    invitation = _invite(practice, admin)
    sam = UserFactory.create(email="sam@example.test", verified=False)
    EmailAddress.objects.create(user=sam, email=sam.email, verified=False, primary=True)
    with pytest.raises(services.InvitationEmailMismatch):
        services.invitation_accept(user=sam, token=invitation_token(invitation))


def test_accept_refuses_a_member_of_another_practice(practice_admin):
    practice, admin = practice_admin
    other, _ = make_practice("Other LLP", "boss@other.test")
    sam = add_member(other, "sam@example.test").user
    invitation = _invite(practice, admin)
    with pytest.raises(services.MemberOfAnotherPractice):
        services.invitation_accept(user=sam, token=invitation_token(invitation))


def test_unknown_token_is_not_found(practice_admin):
    with pytest.raises(NotFound):
        services.invitation_accept(user=UserFactory.create(), token="pdi_nope")


def test_resend_invalidates_the_old_link_and_renews_14_days(practice_admin):
    practice, admin = practice_admin
    invitation = _invite(practice, admin)
    old = invitation_token(invitation)
    PracticeInvitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() + timedelta(days=1))
    services.invitation_resend(actor=admin, practice=practice, invitation_id=invitation.pk)
    new = invitation_token(invitation)
    assert new != old
    invitation.refresh_from_db()
    assert invitation.expires_at > timezone.now() + timedelta(days=13)
    assert OutboundEmail.objects.filter(template="practice-staff-invitation").count() == 2
    assert Event.objects.filter(action="practice.staff.invite_resend").count() == 1
    sam = UserFactory.create(email="sam@example.test")
    with pytest.raises(NotFound):
        services.invitation_accept(user=sam, token=old)
    assert services.invitation_accept(user=sam, token=new).practice == practice


def test_revoke_kills_the_link_and_only_pending_invitations_can_be_revoked_or_resent(practice_admin):
    practice, admin = practice_admin
    invitation = _invite(practice, admin)
    token = invitation_token(invitation)
    services.invitation_revoke(actor=admin, practice=practice, invitation_id=invitation.pk)
    assert Event.objects.filter(action="practice.staff.invite_revoke").exists()
    with pytest.raises(services.InvitationClosed) as exc:
        services.invitation_accept(user=UserFactory.create(email="sam@example.test"), token=token)
    assert exc.value.code == "invitation_revoked"
    with pytest.raises(services.InvitationClosed):
        services.invitation_revoke(actor=admin, practice=practice, invitation_id=invitation.pk)
    with pytest.raises(services.InvitationClosed):
        services.invitation_resend(actor=admin, practice=practice, invitation_id=invitation.pk)


def test_another_practices_invitation_is_not_found(practice_admin):
    practice, admin = practice_admin
    invitation = _invite(practice, admin)
    other, other_admin = make_practice("Other LLP", "boss@other.test")
    for service in (services.invitation_resend, services.invitation_revoke):
        with pytest.raises(NotFound):
            service(actor=other_admin, practice=other, invitation_id=invitation.pk)
        with pytest.raises(NotFound):
            service(actor=other_admin, practice=practice, invitation_id=invitation.pk)


def test_an_expired_link_is_refused_and_the_expiry_is_recorded(practice_admin):
    practice, admin = practice_admin
    invitation = _invite(practice, admin)
    PracticeInvitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(services.InvitationClosed) as exc:
        services.invitation_accept(
            user=UserFactory.create(email="sam@example.test"), token=invitation_token(invitation)
        )
    assert exc.value.code == "invitation_expired"
    invitation.refresh_from_db()
    assert invitation.status == "expired"
    assert Event.objects.filter(action="practice.staff.invite_expire").exists()


def test_periodic_task_expires_due_invitations_only(practice_admin):
    practice, admin = practice_admin
    due = _invite(practice, admin, email="due@example.test")
    fresh = _invite(practice, admin, email="fresh@example.test")
    PracticeInvitation.objects.filter(pk=due.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert services.invitations_expire() == 1
    due.refresh_from_db()
    fresh.refresh_from_db()
    assert (due.status, fresh.status) == ("expired", "pending")
    assert expire_staff_invitations.call() == 0
    assert "practice.expire_staff_invitations" in {p.name for p in SCHEDULE}
