"""JSON API for a practice's people: staff invitations, members, roles, client visibility and assignments, and the
practice's settings. Every member may read the members list; everything else here is its admins': for a staff
member of the practice the other members and invitations endpoints are a 403 ("Only your practice's admins manage
its members.") and the settings a 404; for anyone else (other practices) every object here is a 404."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Path, Router, Schema, Status
from pydantic import StrictBool

from partnerdesk.api.auth import api_user
from partnerdesk.api.schemas import StrictDbId, problems
from partnerdesk.identity.models import User
from partnerdesk.lib.errors import NotFound, PermissionDenied
from partnerdesk.lib.ratelimit import INVITATION_LINK_PER_IP
from partnerdesk.lib.request import client_ip
from partnerdesk.practice import permissions, selectors, staff_services
from partnerdesk.practice.models import Practice, PracticeInvitation, PracticeMember
from partnerdesk.practice.permissions import practice_admin

router = Router(tags=["practice staff"])
ERRORS = problems(400, 401, 403, 404, 409, 422, 429)
MAX_ID = 2**63 - 1
Role = Literal["admin", "staff"]


class PracticeMemberOut(Schema):
    id: int
    user_id: int
    email: str
    full_name: str
    role: str
    sees_all_clients: bool
    assigned_clients: int
    joined_at: datetime


class InvitationOut(Schema):
    id: int
    email: str
    role: str
    sees_all_clients: bool
    status: str
    invited_by: str | None
    created_at: datetime
    expires_at: datetime


class InvitationIn(Schema):
    email: str = Field(min_length=3, max_length=254)
    role: Role = "staff"
    sees_all_clients: StrictBool = Field(
        False,
        description="Staff only: true to let them see every client once they join; false (the default) for only "
        "the clients assigned to them. Admins always see every client.",
    )


class AcceptIn(Schema):
    token: str = Field(min_length=1, max_length=200, description="The token from the invitation link")


class RoleIn(Schema):
    role: Role


class MemberVisibilityIn(Schema):
    sees_all_clients: StrictBool = Field(description="True: every client; false: only the clients assigned to them")


class ClientIdsIn(Schema):
    client_ids: list[StrictDbId] = Field(min_length=1, max_length=staff_services.MAX_BULK_ASSIGN)


class AssignedOut(Schema):
    changed: int = Field(description="How many assignments were added or ended")
    client_ids: list[int] = Field(description="Every client assigned to the member afterwards")


class AssignedClientsOut(Schema):
    client_ids: list[int] = Field(description="Every live client assigned to the member")


class SettingsOut(Schema):
    name: str
    contact_email: str = Field(description="The contact email in use: always one the practice has confirmed")
    contact_email_pending: str = Field(
        description="A new contact email waiting for confirmation (a link was emailed to it); '' when none. "
        "It is used for nothing until someone opens that link."
    )
    discount_rate: Decimal = Field(
        description="Percent off RRP on accountant-paying licences, in force today (read-only)"
    )


class SettingsIn(Schema):
    name: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="The practice's name, which is also the business name of its own company (its subscription, "
        "and its invoices from the next one on: an issued invoice keeps the name it was issued to): both change "
        "together",
    )
    contact_email: str | None = Field(
        None,
        max_length=254,
        description="A new address waits for confirmation by a link emailed to it (your own verified login address "
        "needs none); '' removes the contact email at once",
    )
    resend_contact_email_link: StrictBool = Field(
        False, description="Send a new confirmation link to the address waiting (the previous link stops working)"
    )


def _admin(request: HttpRequest) -> tuple[User, PracticeMember]:
    user = api_user(request)
    return user, practice_admin(user=user, page="its settings")


def _members_admin(request: HttpRequest) -> tuple[User, PracticeMember]:
    """The admin for the members and invitations endpoints. A staff member of the practice is told these are
    for its admins (403: the practice is theirs, so saying it does not exist would be wrong); anyone outside a
    practice gets a 404."""
    user = api_user(request)
    member = selectors.membership_for_user(user=user)
    if member is None:
        raise NotFound("No such practice")
    if member.role != PracticeMember.Role.ADMIN:
        raise PermissionDenied(permissions.MEMBERS_ADMIN_ONLY, code="practice_admin_only")
    return user, member


def _practice_member(request: HttpRequest) -> PracticeMember:
    """Any member of a practice, for what the whole team may read (the members list); a 404 for anyone else."""
    member = selectors.membership_for_user(user=api_user(request))
    if member is None:
        raise NotFound("No such practice")
    return member


def _member_out(member: PracticeMember) -> dict[str, Any]:
    return {
        "id": member.pk,
        "user_id": member.user_id,
        "email": member.user.email,
        "full_name": member.user.full_name,
        "role": member.role,
        "sees_all_clients": selectors.sees_every_client(member),
        "assigned_clients": getattr(member, "assigned_count", 0),
        "joined_at": member.created_at,
    }


def _invitation_out(invitation: PracticeInvitation) -> dict[str, Any]:
    return {
        "id": invitation.pk,
        "email": invitation.email,
        "role": invitation.role,
        "sees_all_clients": invitation.role == PracticeMember.Role.ADMIN or invitation.sees_all_clients,
        # A pending invitation past its 14 days is expired (the periodic task marks it so later), as the UI says.
        "status": PracticeInvitation.Status.EXPIRED
        if invitation.status == PracticeInvitation.Status.PENDING and invitation.expires_at <= timezone.now()
        else invitation.status,
        "invited_by": invitation.invited_by.email if invitation.invited_by else None,
        "created_at": invitation.created_at,
        "expires_at": invitation.expires_at,
    }


def _member(member: PracticeMember, member_id: int) -> PracticeMember:
    return selectors.staff_list(practice=member.practice).filter(pk=member_id).first() or _raise_not_found()


def _raise_not_found() -> Any:
    raise NotFound("No such member")


def _assigned(member: PracticeMember) -> list[int]:
    return sorted(selectors.assigned_client_ids(member=member))


@router.get(
    "/practice/members",
    response={200: list[PracticeMemberOut], **ERRORS},
    summary="The practice's members",
    description="Every member of the practice may read who is in its team (admins first): staff read it as they "
    "see the Staff page, read-only. Changing members and invitations is for its admins: staff get 403 "
    "`practice_admin_only` there.",
)
def member_list(request: HttpRequest) -> Any:
    member = _practice_member(request)
    return [_member_out(m) for m in selectors.staff_list(practice=member.practice)]


@router.put(
    "/practice/members/{member_id}/role",
    response={200: PracticeMemberOut, **ERRORS},
    summary="Make a member admin or staff",
)
def member_role(request: HttpRequest, payload: RoleIn, member_id: int = Path(..., ge=1, le=MAX_ID)) -> Any:
    user, admin = _members_admin(request)
    staff_services.member_change_role(
        actor=user, practice=admin.practice, member_id=member_id, role=payload.role, request=request
    )
    return _member_out(_member(admin, member_id))


@router.put(
    "/practice/members/{member_id}/visibility",
    response={200: PracticeMemberOut, **ERRORS},
    summary="Let a staff member see all clients or only assigned ones",
)
def member_visibility(
    request: HttpRequest, payload: MemberVisibilityIn, member_id: int = Path(..., ge=1, le=MAX_ID)
) -> Any:
    user, admin = _members_admin(request)
    staff_services.member_set_visibility(
        actor=user,
        practice=admin.practice,
        member_id=member_id,
        sees_all_clients=payload.sees_all_clients,
        request=request,
    )
    return _member_out(_member(admin, member_id))


@router.delete(
    "/practice/members/{member_id}",
    response={204: None, **ERRORS},
    summary="Remove a member (their access to every client ends at once)",
)
def member_remove(request: HttpRequest, member_id: int = Path(..., ge=1, le=MAX_ID)) -> Any:
    user, admin = _members_admin(request)
    staff_services.member_remove(actor=user, practice=admin.practice, member_id=member_id, request=request)
    return Status(204, None)


@router.get(
    "/practice/members/{member_id}/clients",
    response={200: AssignedClientsOut, **ERRORS},
    summary="The clients assigned to a member",
)
def member_clients(request: HttpRequest, member_id: int = Path(..., ge=1, le=MAX_ID)) -> Any:
    _, admin = _members_admin(request)
    member = selectors.member_of_practice(practice=admin.practice, member_id=member_id)
    return {"client_ids": _assigned(member)}


@router.post(
    "/practice/members/{member_id}/clients",
    response={200: AssignedOut, **ERRORS},
    summary="Assign one or many clients to a staff member",
)
def member_clients_assign(
    request: HttpRequest, payload: ClientIdsIn, member_id: int = Path(..., ge=1, le=MAX_ID)
) -> Any:
    user, admin = _members_admin(request)
    changed = staff_services.clients_assign(
        actor=user, practice=admin.practice, member_id=member_id, client_ids=payload.client_ids, request=request
    )
    member = selectors.member_of_practice(practice=admin.practice, member_id=member_id)
    return {"changed": changed, "client_ids": _assigned(member)}


@router.post(
    "/practice/members/{member_id}/clients/unassign",
    response={200: AssignedOut, **ERRORS},
    summary="Unassign one or many clients from a staff member",
)
def member_clients_unassign(
    request: HttpRequest, payload: ClientIdsIn, member_id: int = Path(..., ge=1, le=MAX_ID)
) -> Any:
    user, admin = _members_admin(request)
    changed = staff_services.clients_unassign(
        actor=user, practice=admin.practice, member_id=member_id, client_ids=payload.client_ids, request=request
    )
    member = selectors.member_of_practice(practice=admin.practice, member_id=member_id)
    return {"changed": changed, "client_ids": _assigned(member)}


@router.get("/practice/invitations", response={200: list[InvitationOut], **ERRORS}, summary="Pending staff invitations")
def invitation_list(request: HttpRequest) -> Any:
    _, admin = _members_admin(request)
    return [_invitation_out(i) for i in selectors.pending_invitations(practice=admin.practice)]


@router.post(
    "/practice/invitations",
    response={201: InvitationOut, **ERRORS},
    summary="Invite someone by email (they get a single-use link valid for 14 days)",
)
def invitation_create(request: HttpRequest, payload: InvitationIn) -> Any:
    user, admin = _members_admin(request)
    invitation = staff_services.invitation_create(
        actor=user,
        practice=admin.practice,
        email=payload.email,
        role=payload.role,
        sees_all_clients=payload.sees_all_clients,
        request=request,
    )
    return Status(201, _invitation_out(invitation))


# Registered before /practice/invitations/{invitation_id} so that 'accept' is not read as an id.
@router.post(
    "/practice/invitations/accept",
    response={200: PracticeMemberOut, **ERRORS},
    summary="Accept an invitation sent to your verified email address",
)
def invitation_accept(request: HttpRequest, payload: AcceptIn) -> Any:
    INVITATION_LINK_PER_IP.hit(client_ip(request) or "unknown")
    member = staff_services.invitation_accept(user=api_user(request), token=payload.token, request=request)
    return _member_out(selectors.staff_list(practice=member.practice).get(pk=member.pk))


@router.post(
    "/practice/invitations/{invitation_id}/resend",
    response={200: InvitationOut, **ERRORS},
    summary="Send a pending invitation again with a new link (the old link stops working)",
)
def invitation_resend(request: HttpRequest, invitation_id: int = Path(..., ge=1, le=MAX_ID)) -> Any:
    user, admin = _members_admin(request)
    invitation = staff_services.invitation_resend(
        actor=user, practice=admin.practice, invitation_id=invitation_id, request=request
    )
    return _invitation_out(invitation)


@router.delete(
    "/practice/invitations/{invitation_id}",
    response={204: None, **ERRORS},
    summary="Revoke a pending invitation (only pending ones can be deleted)",
)
def invitation_revoke(request: HttpRequest, invitation_id: int = Path(..., ge=1, le=MAX_ID)) -> Any:
    user, admin = _members_admin(request)
    staff_services.invitation_revoke(actor=user, practice=admin.practice, invitation_id=invitation_id, request=request)
    return Status(204, None)


@router.get("/practice/settings", response={200: SettingsOut, **ERRORS}, summary="The practice's settings")
def settings_get(request: HttpRequest) -> Any:
    _, admin = _admin(request)
    return _settings_out(admin.practice)


def _settings_out(practice: Practice) -> dict[str, Any]:
    """The discount rate is the one in force today (it is dated: a change may be announced for later)."""
    from partnerdesk.billing.selectors import discount_rate_in_force, today

    return {
        "name": practice.name,
        "contact_email": practice.contact_email,
        "contact_email_pending": practice.contact_email_pending,
        "discount_rate": discount_rate_in_force(practice=practice, on=today()),
    }


@router.patch(
    "/practice/settings",
    response={200: SettingsOut, **ERRORS},
    summary="Change the practice's name or contact email (the discount rate is read-only)",
)
def settings_update(request: HttpRequest, payload: SettingsIn) -> Any:
    user, admin = _admin(request)
    practice = staff_services.practice_update_settings(
        actor=user,
        practice=admin.practice,
        name=payload.name,
        contact_email=payload.contact_email,
        resend_contact_email_link=payload.resend_contact_email_link,
        request=request,
    )
    return _settings_out(practice)
