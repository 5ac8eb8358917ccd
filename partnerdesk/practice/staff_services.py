"""Writes for the practice's people: staff invitations, roles, removal, client visibility and assignments, and
the practice's settings. (Client-list writes are in services.py; same conventions.)"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from partnerdesk.audit.models import Action
from partnerdesk.audit.services import record_event
from partnerdesk.identity.models import Company, User
from partnerdesk.identity.services import company_business_name_apply, product_tokens_revoke
from partnerdesk.lib.errors import Conflict, DomainError, InvalidTransition, NotFound, PermissionDenied
from partnerdesk.lib.text import HIDDEN_CHARACTERS, HIDDEN_CHARACTERS_MESSAGE
from partnerdesk.lib.tokens import hash_token, new_token
from partnerdesk.notifications.services import message_post, message_subject, send_email
from partnerdesk.practice import contact_email as contact_addresses
from partnerdesk.practice.locks import lock_companies
from partnerdesk.practice.models import Client, ClientAssignment, Practice, PracticeInvitation, PracticeMember

INVITATION_DAYS = 14
INVITATION_TOKEN_PREFIX = "pdi_"
MAX_BULK_ASSIGN = 1000


class InvalidInput(DomainError):
    code = "invalid_input"
    status = 422  # as every other service's bad input
    title = "Check the details you entered"


class AlreadyMember(Conflict):
    code = "already_member"
    title = "That person is already a member of this practice."


class AlreadyInvited(Conflict):
    code = "invitation_pending"
    title = "That email address already has a pending invitation: use Resend to send it again."


class LastAdmin(InvalidTransition):
    code = "last_admin"
    title = "A practice needs at least one admin: make someone else an admin first."


class InvitationClosed(InvalidTransition):
    code = "invitation_closed"
    title = "This invitation can no longer be used."


class InvitationEmailMismatch(PermissionDenied):
    code = "invitation_email_mismatch"
    title = "This invitation was sent to a different email address."


class MemberOfAnotherPractice(Conflict):
    code = "member_of_another_practice"
    title = "Your account already belongs to another practice."


def invitation_path(token: str) -> str:
    return f"/partner/invitations/{token}/"


def _clean_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput("Enter a valid email address.", code="email_invalid") from None
    return email


def _lock_practice_as_admin(*, actor: User, practice: Practice) -> PracticeMember:
    """Lock the practice row (the mutex for every change to its people) and return the actor's admin
    membership. Anyone who is not an admin of this practice gets a 404: the practice's objects do not exist
    for them."""
    Practice.objects.select_for_update().filter(pk=practice.pk).first()
    member = PracticeMember.objects.filter(practice=practice, user=actor, role=PracticeMember.Role.ADMIN).first()
    if member is None:
        raise NotFound("No such practice")
    return member


def _locked_member(*, practice: Practice, member_id: int) -> PracticeMember:
    member = (
        PracticeMember.objects.select_for_update()
        .select_related("user")
        .filter(practice=practice, pk=member_id)
        .first()
    )
    if member is None:
        raise NotFound("No such member")
    return member


def _locked_invitation(*, practice: Practice, invitation_id: int) -> PracticeInvitation:
    invitation = PracticeInvitation.objects.select_for_update().filter(practice=practice, pk=invitation_id).first()
    if invitation is None:
        raise NotFound("No such invitation")
    return invitation


def _other_admins(practice: Practice, member: PracticeMember) -> bool:
    return (
        PracticeMember.objects.filter(practice=practice, role=PracticeMember.Role.ADMIN).exclude(pk=member.pk).exists()
    )


def _send_invitation(invitation: PracticeInvitation, token: str, *, actor: User, inviter_name: str = "") -> None:
    send_email(
        template="practice-staff-invitation",
        to=invitation.email,
        context={
            "practice_name": invitation.practice.name,
            "inviter_name": inviter_name or actor.full_name or actor.email,
            "role": invitation.get_role_display().lower(),
            "invitation_path": invitation_path(token),
            "expires_on": f"{timezone.localtime(invitation.expires_at):%-d %B %Y}",
        },
        about=invitation,
    )


def invitation_create(
    *,
    actor: User,
    practice: Practice,
    email: str,
    role: str,
    sees_all_clients: bool = False,
    request: HttpRequest | None = None,
) -> PracticeInvitation:
    """An admin invites someone by email; they get a single-use link valid for 14 days. ``sees_all_clients``: what
    a staff member sees once they join (only the clients assigned to them unless said otherwise; admins see all)."""
    email = _clean_email(email)
    if role not in PracticeMember.Role.values:
        raise InvalidInput("Choose admin or staff.", code="invalid_role")
    try:
        with transaction.atomic():
            _lock_practice_as_admin(actor=actor, practice=practice)
            if PracticeMember.objects.filter(practice=practice, user__email__iexact=email).exists():
                raise AlreadyMember()
            if PracticeInvitation.objects.filter(
                practice=practice, email=email, status=PracticeInvitation.Status.PENDING
            ).exists():
                raise AlreadyInvited()
            invitation = _invitation_issue(
                actor=actor,
                practice=practice,
                email=email,
                role=role,
                sees_all_clients=sees_all_clients,
                request=request,
            )
    except IntegrityError:  # a concurrent invitation to the same address won the partial unique index
        raise AlreadyInvited() from None
    return invitation


def first_admin_invite(
    *, actor: User, practice: Practice, email: str, inviter_name: str, request: HttpRequest | None = None
) -> PracticeInvitation:
    """Customer services invites a new practice's first admin (setting up the practice): the same invitation as an
    admin's (role admin, sees every client, single-use hashed link, 14 days, the same email and audit event), but the
    inviter is not a member. Runs inside the caller's transaction, with ``practice`` just created; ``email`` is
    clean and lower-case."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("first_admin_invite must run inside the calling service's transaction")
    return _invitation_issue(
        actor=actor,
        practice=practice,
        email=email,
        role=PracticeMember.Role.ADMIN,
        sees_all_clients=True,
        request=request,
        inviter_name=inviter_name,
    )


def _invitation_issue(
    *,
    actor: User,
    practice: Practice,
    email: str,
    role: str,
    sees_all_clients: bool,
    request: HttpRequest | None,
    inviter_name: str = "",
) -> PracticeInvitation:
    """The invitation row (single-use link stored hashed, 14 days), its audit event and its email, inside the
    caller's transaction once the caller has checked who may invite whom."""
    now = timezone.now()
    token = new_token(INVITATION_TOKEN_PREFIX)
    invitation = PracticeInvitation.objects.create(
        practice=practice,
        email=email,
        role=role,
        sees_all_clients=sees_all_clients,
        token_hash=hash_token(token),
        invited_by=actor,
        created_at=now,
        expires_at=now + timedelta(days=INVITATION_DAYS),
    )
    record_event(
        action=Action.STAFF_INVITE,
        actor=actor,
        request=request,
        practice=practice,
        data={"invitation": invitation.pk, "email": email, "role": role, "sees_all_clients": sees_all_clients},
    )
    _send_invitation(invitation, token, actor=actor, inviter_name=inviter_name)
    return invitation


def invitation_resend(
    *, actor: User, practice: Practice, invitation_id: int, request: HttpRequest | None = None
) -> PracticeInvitation:
    """Send a pending invitation again with a new link (the old link stops working) and a fresh 14 days."""
    now = timezone.now()
    token = new_token(INVITATION_TOKEN_PREFIX)
    with transaction.atomic():
        _lock_practice_as_admin(actor=actor, practice=practice)
        invitation = _locked_invitation(practice=practice, invitation_id=invitation_id)
        if invitation.status == PracticeInvitation.Status.ACCEPTED:
            raise InvitationClosed("They accepted: they are already a member.")
        if invitation.status != PracticeInvitation.Status.PENDING:
            raise InvitationClosed(
                f"This invitation is {invitation.get_status_display().lower()}: only pending invitations can be "
                "resent. Invite the person again instead.",
            )
        invitation.token_hash = hash_token(token)
        invitation.expires_at = now + timedelta(days=INVITATION_DAYS)
        invitation.save(update_fields=["token_hash", "expires_at"])
        record_event(
            action=Action.STAFF_INVITE_RESEND,
            actor=actor,
            request=request,
            practice=practice,
            data={"invitation": invitation.pk, "email": invitation.email},
        )
        _send_invitation(invitation, token, actor=actor)
    return invitation


def invitation_revoke(
    *, actor: User, practice: Practice, invitation_id: int, request: HttpRequest | None = None
) -> PracticeInvitation:
    """Withdraw a pending invitation (only pending ones can be): its link stops working."""
    with transaction.atomic():
        _lock_practice_as_admin(actor=actor, practice=practice)
        invitation = _locked_invitation(practice=practice, invitation_id=invitation_id)
        if invitation.status != PracticeInvitation.Status.PENDING:
            raise InvitationClosed(
                f"This invitation is {invitation.get_status_display().lower()}: only pending invitations can be revoked."
            )
        invitation.status = PracticeInvitation.Status.REVOKED
        invitation.save(update_fields=["status"])
        record_event(
            action=Action.STAFF_INVITE_REVOKE,
            actor=actor,
            request=request,
            practice=practice,
            data={"invitation": invitation.pk, "email": invitation.email},
        )
    return invitation


def _expire_if_due(invitation: PracticeInvitation, now: datetime) -> None:
    if invitation.status == PracticeInvitation.Status.PENDING and invitation.expires_at <= now:
        invitation.status = PracticeInvitation.Status.EXPIRED
        invitation.save(update_fields=["status"])
        record_event(
            action=Action.STAFF_INVITE_EXPIRE,
            practice=invitation.practice,
            data={"invitation": invitation.pk, "email": invitation.email},
        )


def invitation_accept(*, user: User, token: str, request: HttpRequest | None = None) -> PracticeMember:
    """The invited person, signed in with the verified address the invitation went to, joins the practice."""
    now = timezone.now()
    token_hash = hash_token(token or "")
    with transaction.atomic():
        invitation = (
            PracticeInvitation.objects.select_for_update()
            .select_related("practice")
            .filter(token_hash=token_hash)
            .first()
        )
        if invitation is None:
            raise NotFound("This invitation link is not valid.", code="invitation_not_found")
        _expire_if_due(invitation, now)  # kept even though the block below then refuses (see the end)
        if invitation.status == PracticeInvitation.Status.PENDING:
            if not EmailAddress.objects.filter(user=user, email__iexact=invitation.email, verified=True).exists():
                raise InvitationEmailMismatch()
            existing = PracticeMember.objects.filter(user=user).select_related("practice").first()
            if existing is not None and existing.practice_id != invitation.practice_id:
                raise MemberOfAnotherPractice()
            if existing is None:
                try:
                    with transaction.atomic():
                        member = PracticeMember.objects.create(
                            practice=invitation.practice,
                            user=user,
                            role=invitation.role,
                            # An admin's flag stays at the column's default (they see all as admins anyway).
                            sees_all_clients=invitation.sees_all_clients
                            or invitation.role == PracticeMember.Role.ADMIN,
                        )
                except IntegrityError:  # another practice's invitation accepted at the same moment
                    raise MemberOfAnotherPractice() from None
            else:
                member = existing  # already a member (added another way): the invitation is simply used up
            invitation.status = PracticeInvitation.Status.ACCEPTED
            invitation.accepted_at = now
            invitation.accepted_by = user
            invitation.save(update_fields=["status", "accepted_at", "accepted_by"])
            record_event(
                action=Action.STAFF_INVITE_ACCEPT,
                actor=user,
                request=request,
                practice=invitation.practice,
                data={"invitation": invitation.pk, "role": member.role},
            )
            return member
    raise InvitationClosed(
        {
            PracticeInvitation.Status.ACCEPTED: "This invitation has already been used.",
            PracticeInvitation.Status.REVOKED: "This invitation was withdrawn by the practice.",
            PracticeInvitation.Status.EXPIRED: "This invitation has expired.",
        }[PracticeInvitation.Status(invitation.status)],
        code=f"invitation_{invitation.status}",
    )


def invitations_expire(*, now: datetime | None = None) -> int:
    """Mark every pending invitation past its 14 days as expired (the periodic task). Returns how many."""
    now = now or timezone.now()
    expired = 0
    with transaction.atomic():
        due = list(
            PracticeInvitation.objects.select_for_update(skip_locked=True)
            .select_related("practice")
            .filter(status=PracticeInvitation.Status.PENDING, expires_at__lte=now)
            .order_by("expires_at")[:1000]
        )
        for invitation in due:
            _expire_if_due(invitation, now)
            expired += 1
    return expired


def member_change_role(
    *, actor: User, practice: Practice, member_id: int, role: str, request: HttpRequest | None = None
) -> PracticeMember:
    """Make a member an admin or staff; the practice's last admin cannot be demoted."""
    if role not in PracticeMember.Role.values:
        raise InvalidInput("Choose admin or staff.", code="invalid_role")
    with transaction.atomic():
        _lock_practice_as_admin(actor=actor, practice=practice)
        member = _locked_member(practice=practice, member_id=member_id)
        if member.role == role:
            return member
        if member.role == PracticeMember.Role.ADMIN and not _other_admins(practice, member):
            raise LastAdmin()
        previous = member.role
        member.role = role
        member.save(update_fields=["role"])
        record_event(
            action=Action.STAFF_ROLE_CHANGE,
            actor=actor,
            request=request,
            practice=practice,
            data={"member": member.pk, "user": member.user.email, "from": previous, "to": role},
        )
    return member


def member_remove(*, actor: User, practice: Practice, member_id: int, request: HttpRequest | None = None) -> None:
    """Remove a member: their access to every client of the practice ends at once (membership and assignments
    go together). The practice's last admin cannot be removed."""
    with transaction.atomic():
        _lock_practice_as_admin(actor=actor, practice=practice)
        member = _locked_member(practice=practice, member_id=member_id)
        if member.role == PracticeMember.Role.ADMIN and not _other_admins(practice, member):
            raise LastAdmin("A practice needs at least one admin: the last admin cannot be removed.")
        removed_email = member.user.email
        removed = {"member": member.pk, "user": removed_email, "role": member.role}
        assignments = ClientAssignment.objects.filter(member=member).count()
        member.delete()  # cascades to the member's client assignments
        product_tokens_revoke(user_ids=[member.user_id])  # e.g. Partner Edition: signed in again, as a non-member
        record_event(
            action=Action.STAFF_REMOVE,
            actor=actor,
            request=request,
            practice=practice,
            data={**removed, "assignments": assignments},
        )
        send_email(
            template="practice-member-removed",
            to=removed_email,
            context={"practice_name": practice.name, "remover_name": actor.full_name or actor.email},
        )


def member_set_visibility(
    *, actor: User, practice: Practice, member_id: int, sees_all_clients: bool, request: HttpRequest | None = None
) -> PracticeMember:
    """Let a staff member see every client, or only the clients assigned to them (admins always see all)."""
    with transaction.atomic():
        _lock_practice_as_admin(actor=actor, practice=practice)
        member = _locked_member(practice=practice, member_id=member_id)
        if member.role == PracticeMember.Role.ADMIN:
            raise InvalidTransition("Admins always see every client.", code="admin_sees_all_clients")
        if member.sees_all_clients == sees_all_clients:
            return member
        member.sees_all_clients = sees_all_clients
        member.save(update_fields=["sees_all_clients"])
        record_event(
            action=Action.STAFF_VISIBILITY,
            actor=actor,
            request=request,
            practice=practice,
            data={"member": member.pk, "user": member.user.email, "sees_all_clients": sees_all_clients},
        )
    return member


def _practice_clients(practice: Practice, client_ids: Iterable[int]) -> list[int]:
    wanted = sorted(set(client_ids))
    if not wanted:
        raise InvalidInput("Choose at least one client.", code="no_clients")
    if len(wanted) > MAX_BULK_ASSIGN:
        raise InvalidInput(f"Choose at most {MAX_BULK_ASSIGN} clients at once.", code="too_many_clients")
    found = list(Client.objects.filter(practice=practice, pk__in=wanted).values_list("pk", flat=True))
    if len(found) != len(wanted):
        raise NotFound("No such client")  # another practice's client, or none at all: never say which
    return sorted(found)


def clients_assign(
    *, actor: User, practice: Practice, member_id: int, client_ids: Iterable[int], request: HttpRequest | None = None
) -> int:
    """Assign one or many clients to a staff member (already assigned ones are left as they are). Returns how
    many were newly assigned."""
    with transaction.atomic():
        _lock_practice_as_admin(actor=actor, practice=practice)
        member = _locked_member(practice=practice, member_id=member_id)
        if member.role == PracticeMember.Role.ADMIN:
            raise InvalidTransition("Admins always see every client: assign clients to staff.", code="assign_admin")
        ids = _practice_clients(practice, client_ids)
        already = set(
            ClientAssignment.objects.filter(member=member, client_id__in=ids).values_list("client_id", flat=True)
        )
        new_ids = [pk for pk in ids if pk not in already]
        now = timezone.now()
        ClientAssignment.objects.bulk_create(
            [ClientAssignment(member=member, client_id=pk, assigned_by=actor, created_at=now) for pk in new_ids]
        )
        _record_assignments(Action.STAFF_ASSIGN, actor=actor, request=request, member=member, client_ids=new_ids)
    return len(new_ids)


def _record_assignments(
    action: Action, *, actor: User, request: HttpRequest | None, member: PracticeMember, client_ids: list[int]
) -> None:
    """One audit event per client, on the client, so each client's History says who it was (un)assigned to."""
    for client in Client.objects.filter(pk__in=client_ids).order_by("pk"):
        record_event(
            action=action,
            actor=actor,
            request=request,
            practice=member.practice,
            client=client,
            data={
                "member": member.pk,
                "user": member.user.email,
                "name": member.user.full_name or member.user.email,
                "clients": [client.pk],
            },
        )


def clients_unassign(
    *, actor: User, practice: Practice, member_id: int, client_ids: Iterable[int], request: HttpRequest | None = None
) -> int:
    """Take one or many clients away from a staff member. Returns how many assignments ended."""
    with transaction.atomic():
        _lock_practice_as_admin(actor=actor, practice=practice)
        member = _locked_member(practice=practice, member_id=member_id)
        ids = _practice_clients(practice, client_ids)
        removed_ids = sorted(
            ClientAssignment.objects.filter(member=member, client_id__in=ids).values_list("client_id", flat=True)
        )
        ClientAssignment.objects.filter(member=member, client_id__in=removed_ids).delete()
        _record_assignments(Action.STAFF_UNASSIGN, actor=actor, request=request, member=member, client_ids=removed_ids)
    return len(removed_ids)


def practice_update_settings(
    *,
    actor: User,
    practice: Practice,
    name: str | None = None,
    contact_email: str | None = None,
    resend_contact_email_link: bool = False,
    request: HttpRequest | None = None,
) -> Practice:
    """An admin changes the practice's name and contact email (the discount rate is not theirs to change). A new
    contact email waits for confirmation through a link emailed to it (``contact_addresses.request_change``).

    The practice is its own billing company (a Company with the Partner Edition subscription): a new name is the
    company's business name too (invoices, the products' claims, another practice's client record of the firm), in
    the same transaction and audit event, as customer services' rename of that company renames the practice. The
    company's owner is told on the company's page when someone else renamed it."""
    changes: dict[str, str] = {}
    if name is not None:
        name = " ".join(name.split())
        if not name or len(name) > 200:
            raise InvalidInput("Enter the practice's name (up to 200 characters).", code="invalid_name")
        if HIDDEN_CHARACTERS.search(name):
            raise InvalidInput(HIDDEN_CHARACTERS_MESSAGE, code="invalid_name")
        changes["name"] = name
    if contact_email is not None:
        contact_email = contact_email.strip().lower()
        changes["contact_email"] = _clean_email(contact_email) if contact_email else ""
    with transaction.atomic():
        if "name" in changes:
            lock_companies([practice.company_id])  # the company before anything else (decision 74)
        _lock_practice_as_admin(actor=actor, practice=practice)
        locked = Practice.objects.select_related("company__owner").get(pk=practice.pk)
        diff: dict[str, object] = {}
        renamed_company = False
        if "name" in changes:
            new_name = changes["name"]
            if locked.name != new_name:
                diff["name"] = {"from": locked.name, "to": new_name}
                locked.name = new_name
                locked.save(update_fields=["name"])
            company = locked.company
            if company.business_name != new_name:
                diff["company_business_name"] = {"from": company.business_name, "to": new_name}
                _rename_own_company(actor=actor, company=company, business_name=new_name)
                renamed_company = True
        if "contact_email" in changes:
            diff.update(
                contact_addresses.request_change(
                    practice=locked, actor=actor, email=changes["contact_email"], resend=resend_contact_email_link
                )
            )
        if diff:
            record_event(
                action=Action.PRACTICE_SETTINGS_UPDATE,
                actor=actor,
                request=request,
                practice=locked,
                company=locked.company if renamed_company else None,
                data=diff,
            )
    return locked


def _rename_own_company(*, actor: User, company: Company, business_name: str) -> None:
    """The practice's own company takes the practice's new name (its row is locked). Its Subscription Owner, when
    that is not the admin who did it, finds a note on the company's page (owner-only, as customer services' rename
    posts one)."""
    old = company.business_name
    company_business_name_apply(company=company, business_name=business_name)
    if company.owner_id is not None and company.owner_id != actor.pk:
        who = actor.full_name or actor.email
        message_post(
            company=company,
            subject=message_subject("Your business name is now {name}", name=business_name),
            body=f'{who} renamed your practice in Partner Edition Settings from "{old}" to "{business_name}". '
            "It is also the business name on this subscription, and on your invoices from the next one (invoices "
            "already issued keep the name they were issued to).",
            owner_only=True,
        )
