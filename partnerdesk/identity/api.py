"""JSON API for companies, linking and access requests (the portal's actions, for scripts and apps)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from partnerdesk.api.auth import api_user
from partnerdesk.api.schemas import MessageOut, PathId, problems
from partnerdesk.billing.selectors import service_codes_by_company
from partnerdesk.identity import selectors, services
from partnerdesk.identity.models import AccessRequest
from partnerdesk.lib.errors import NotFound, PermissionDenied

router = Router(tags=["companies"])
ERRORS = problems(400, 401, 403, 404, 409, 422, 429)


class CompanyOut(Schema):
    customer_number: str
    business_name: str
    role: str
    access_disabled: bool
    services: list[str] = Field(
        default=[],
        description="Codes of the services in force today (as in the OIDC companies claim); empty while the "
        "company's access is disabled or suspended",
    )


class CompanyMemberOut(Schema):
    user_id: int
    email: str
    full_name: str
    role: str


class LinkIn(Schema):
    number: str = Field(description="8-digit Customer Number, MBR + 8 digits, or the Registration ID's last 6 digits")
    email: str = Field(description="The Subscription Owner's email address (your own if you are the owner)")


class AccessRequestOut(Schema):
    id: uuid.UUID
    business_name: str
    requester_email: str
    status: str
    created_at: datetime
    expires_at: datetime


class LinkOut(Schema):
    outcome: str = Field(description="'owner' (linked at once) or 'requested' (waiting for approval)")
    company: CompanyOut | None = None
    access_request: AccessRequestOut | None = None
    decided_by: str | None = Field(
        None,
        description="For a request: who is asked to approve it, 'owner' (the Subscription Owner) or 'accountant' "
        "(the practice managing a company that has no owner yet)",
    )


def _request_out(access_request: AccessRequest) -> dict[str, Any]:
    return {
        "id": access_request.public_id,
        "business_name": access_request.company.business_name,
        "requester_email": access_request.requester.email,
        "status": access_request.status,
        "created_at": access_request.created_at,
        "expires_at": access_request.expires_at,
    }


@router.get("/companies", response={200: list[CompanyOut], **ERRORS}, summary="Companies you belong to")
def company_list(request: HttpRequest) -> Any:
    memberships = list(selectors.memberships_with_access(user=api_user(request)))
    usable = [m for m in memberships if not selectors.is_access_disabled(m)]
    codes = service_codes_by_company(company_ids=[m.company_id for m in usable])  # one query for them all
    return [
        {
            "customer_number": m.company.customer_number,
            "business_name": m.company.business_name,
            "role": m.role,
            "access_disabled": selectors.is_access_disabled(m),
            "services": codes.get(m.company_id, []),
        }
        for m in memberships
    ]


@router.get(
    "/companies/{customer_number}/members",
    response={200: list[CompanyMemberOut], **ERRORS},
    summary="A company's users (owner only)",
)
def member_list(request: HttpRequest, customer_number: str) -> Any:
    membership = selectors.usable_membership_for_company(user=api_user(request), customer_number=customer_number)
    if membership.role != "owner":
        raise PermissionDenied("Only the Subscription Owner can see the company's users.")
    return [
        {"user_id": m.user_id, "email": m.user.email, "full_name": m.user.full_name, "role": m.role}
        for m in selectors.company_members(company=membership.company)
    ]


@router.delete(
    "/companies/{customer_number}/members/{user_id}",
    response={204: None, **ERRORS},
    summary="Remove a user (owner only)",
)
def member_remove(request: HttpRequest, customer_number: str, user_id: PathId) -> Any:
    user = api_user(request)
    membership = selectors.usable_membership_for_company(user=user, customer_number=customer_number)
    services.company_member_remove(actor=user, company=membership.company, user_id=user_id, request=request)
    return Status(204, None)


@router.post("/links", response={201: LinkOut, **ERRORS}, summary="Link your account to a subscription")
def link_create(request: HttpRequest, payload: LinkIn) -> Any:
    result = services.company_link(user=api_user(request), number=payload.number, email=payload.email, request=request)
    body: dict[str, Any] = {"outcome": result.outcome}
    if result.outcome == "owner":
        body["company"] = {
            "customer_number": result.company.customer_number,
            "business_name": result.company.business_name,
            "role": "owner",
            "access_disabled": False,
            "services": service_codes_by_company(company_ids=[result.company.pk])[result.company.pk],
        }
    if result.access_request is not None:
        body["access_request"] = _request_out(result.access_request)
        body["decided_by"] = result.decided_by
    return Status(201, body)


@router.get(
    "/access-requests",
    response={200: list[AccessRequestOut], **ERRORS},
    summary="Your requests and those waiting for your decision",
)
def access_request_list(request: HttpRequest, role: str = "requester") -> Any:
    user = api_user(request)
    if role == "decider":
        requests = selectors.access_requests_to_decide(user=user)
    elif role == "requester":
        requests = selectors.access_requests_by(user=user)
    else:
        raise NotFound("role must be 'requester' or 'decider'")
    return [_request_out(r) for r in requests]


@router.post(
    "/access-requests/{request_id}/approve",
    response={200: AccessRequestOut, **ERRORS},
    summary="Approve a request",
    description="The Subscription Owner's approval makes the requester a user of the company. For a client your "
    "practice manages that has no owner yet, your approval gives the client access: the requester becomes the "
    "Subscription Owner and the client's access becomes 'both' (409 `client_details_incomplete` until the business "
    "details are complete, as for Give client access; 409 `requester_is_practice_member` for someone of your "
    "practice).",
)
def access_request_approve(request: HttpRequest, request_id: uuid.UUID) -> Any:
    return _request_out(services.access_request_approve(actor=api_user(request), public_id=request_id, request=request))


@router.post(
    "/access-requests/{request_id}/decline", response={200: AccessRequestOut, **ERRORS}, summary="Decline a request"
)
def access_request_decline(request: HttpRequest, request_id: uuid.UUID) -> Any:
    return _request_out(services.access_request_decline(actor=api_user(request), public_id=request_id, request=request))


@router.post(
    "/access-requests/{request_id}/cancel", response={200: AccessRequestOut, **ERRORS}, summary="Cancel your request"
)
def access_request_cancel(request: HttpRequest, request_id: uuid.UUID) -> Any:
    return _request_out(services.access_request_cancel(actor=api_user(request), public_id=request_id, request=request))


class InviteAccountantIn(Schema):
    email: str = Field(min_length=3, max_length=254, description="Your accountant's Partner Edition email address")


@router.post(
    "/companies/{customer_number}/accountant-invitation",
    response={202: MessageOut, **ERRORS},
    summary="Invite your accountant (owner only; the answer never says whether the address is a practice)",
)
def accountant_invite(request: HttpRequest, customer_number: str, payload: InviteAccountantIn) -> Any:
    from partnerdesk.practice import services as practice_services

    user = api_user(request)
    membership = selectors.membership_for_company(user=user, customer_number=customer_number)
    practice_services.accountant_invite(
        actor=user, company=membership.company, practice_email=payload.email, request=request
    )
    return Status(202, {"detail": practice_services.INVITE_ACCOUNTANT_SENT})


class AccountantInvitationOut(Schema):
    email: str = Field(description="The address you invited (whether it is a practice's is never said)")
    created_at: datetime


@router.get(
    "/companies/{customer_number}/accountant-invitation",
    response={200: AccountantInvitationOut, **ERRORS},
    summary="Your invitation to an accountant, while it waits (owner only; 404 no_accountant_invitation otherwise)",
)
def accountant_invitation(request: HttpRequest, customer_number: str) -> Any:
    user = api_user(request)
    membership = selectors.usable_membership_for_company(user=user, customer_number=customer_number)
    invitation = selectors.pending_accountant_invitation(company=membership.company)
    if membership.company.owner_id != user.pk or invitation is None:
        raise NotFound("No invitation to an accountant is waiting.", code="no_accountant_invitation")
    return invitation


@router.delete(
    "/companies/{customer_number}/accountant-invitation",
    response={204: None, **ERRORS},
    summary="Withdraw your invitation to an accountant (owner only), e.g. to invite another address",
)
def accountant_invitation_withdraw(request: HttpRequest, customer_number: str) -> Any:
    from partnerdesk.practice import services as practice_services

    user = api_user(request)
    membership = selectors.usable_membership_for_company(user=user, customer_number=customer_number)
    practice_services.accountant_invitation_withdraw(actor=user, company=membership.company, request=request)
    return Status(204, None)
