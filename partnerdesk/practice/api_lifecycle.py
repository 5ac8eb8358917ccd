"""JSON API for the client access lifecycle: Give client access (invite, resend, cancel), Disable/Enable,
Stop Managing This Client, former clients, the client's activation link, and the client removing their
accountant. Thin endpoints over ``practice.lifecycle``: every refusal is a domain error with a stable code,
returned as problem+json. Another practice's client (or one a restricted staff member is not assigned) is a 404.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Path, Router, Schema, Status

from partnerdesk.api.auth import api_user
from partnerdesk.api.schemas import PathId, Problem, problems
from partnerdesk.identity.models import CompanyMembership
from partnerdesk.identity.selectors import membership_for_company
from partnerdesk.lib.errors import NotFound
from partnerdesk.lib.ratelimit import INVITATION_LINK_PER_IP
from partnerdesk.lib.request import client_ip
from partnerdesk.practice import lifecycle
from partnerdesk.practice.api_clients import ClientOut
from partnerdesk.practice.models import PracticeMember
from partnerdesk.practice.selectors import client_for_member, former_clients, member_for_user

router = Router(tags=["client access lifecycle"])
ERRORS = problems(400, 401, 403, 404, 409, 422, 429)
LINK_ERRORS: dict[int | Any, Any] = {**ERRORS, 410: Problem}
# Tokens are 43 URL-safe characters; anything much longer cannot be one of ours.
Token = Path(..., min_length=1, max_length=200, description="The token from the activation link")


class LifecycleClientOut(ClientOut):
    """The client as the client endpoints return it, plus how the relationship ended (if it has)."""

    ended_at: datetime | None = None
    ended_reason: str = Field("", description="'transferred', 'deleted' or 'revoked_by_client' once ended")
    grace_ends_on: date | None = Field(None, description="Transfers: the first day without free access")


class AccessInviteIn(Schema):
    email: str = Field(max_length=254, description="The client's email address")
    email_confirm: str = Field(max_length=254, description="The same address again")


class StopIn(Schema):
    mode: Literal["participating", "transfer", "delete"] = Field(
        description="'participating' for a client with their own login (Yes); otherwise 'transfer' the data "
        "and subscription to the client, or 'delete' the data and cancel the subscription"
    )
    confirm_business_name: str = Field(
        "", max_length=200, description="'delete' only: the business name, typed exactly as shown"
    )


class StopOut(Schema):
    client: LifecycleClientOut
    mode: str
    grace_ends_on: date | None = Field(
        None, description="Transfers: the first day without free access (the last free day is the day before)"
    )
    ledger_entries_deleted: int = 0


class ActivationOut(Schema):
    business_name: str
    practice_name: str
    email: str
    purpose: str = Field(description="'access' (Give client access) or 'transfer' (the practice stopped managing)")
    account_exists: bool


class ActivationAcceptedOut(Schema):
    customer_number: str
    business_name: str


class AccountantRemovedOut(Schema):
    customer_number: str
    business_name: str
    practice_name: str = Field(description="The practice that no longer manages this subscription")
    ended_at: datetime


def _member(request: HttpRequest) -> PracticeMember:
    return member_for_user(user=api_user(request))


def _link_hit(request: HttpRequest) -> None:
    INVITATION_LINK_PER_IP.hit(client_ip(request) or "unknown")


@router.post(
    "/practice/clients/{int:client_id}/access-invitation",
    response={201: LifecycleClientOut, **ERRORS},
    summary="Give client access: Invite & Continue (the email twice; an activation link valid 14 days)",
)
def access_invite(request: HttpRequest, client_id: PathId, payload: AccessInviteIn) -> Any:
    client, _token = lifecycle.client_access_invite(
        member=_member(request),
        client_id=client_id,
        email=payload.email,
        email_confirm=payload.email_confirm,
        request=request,
    )
    return Status(201, client)


@router.post(
    "/practice/clients/{int:client_id}/access-invitation/resend",
    response={200: LifecycleClientOut, **ERRORS},
    summary="Resend the invitation (a new link; the previous one stops working)",
)
def access_resend(request: HttpRequest, client_id: PathId) -> Any:
    member = _member(request)
    lifecycle.client_access_resend(member=member, client_id=client_id, request=request)
    return client_for_member(member=member, client_id=client_id)


@router.delete(
    "/practice/clients/{int:client_id}/access-invitation",
    response={200: LifecycleClientOut, **ERRORS},
    summary="Cancel the invitation (back to No client access; the link stops working)",
)
def access_cancel(request: HttpRequest, client_id: PathId) -> Any:
    return lifecycle.client_access_cancel(member=_member(request), client_id=client_id, request=request)


@router.post(
    "/practice/clients/{int:client_id}/disable",
    response={200: LifecycleClientOut, **ERRORS},
    summary="Disable client access (the practice keeps access and keeps paying)",
)
def access_disable(request: HttpRequest, client_id: PathId) -> Any:
    return lifecycle.client_access_disable(member=_member(request), client_id=client_id, request=request)


@router.post(
    "/practice/clients/{int:client_id}/enable",
    response={200: LifecycleClientOut, **ERRORS},
    summary="Enable client access again",
)
def access_enable(request: HttpRequest, client_id: PathId) -> Any:
    return lifecycle.client_access_enable(member=_member(request), client_id=client_id, request=request)


@router.post(
    "/practice/clients/{int:client_id}/stop",
    response={200: StopOut, **ERRORS},
    summary="Stop Managing This Client (the licence becomes client-paying; irreversible)",
)
def stop_managing(request: HttpRequest, client_id: PathId, payload: StopIn) -> Any:
    result = lifecycle.client_stop_managing(
        member=_member(request),
        client_id=client_id,
        mode=payload.mode,
        confirm_business_name=payload.confirm_business_name,
        request=request,
    )
    # Never the transfer link's token: it goes to the client's inbox only.
    return {
        "client": result.client,
        "mode": result.mode,
        "grace_ends_on": result.grace_ends_on,
        "ledger_entries_deleted": result.ledger_entries_deleted,
    }


@router.get(
    "/practice/former-clients",
    response={200: list[LifecycleClientOut], **ERRORS},
    summary="Former clients whose Final Accounts data the practice still holds",
)
def former_client_list(request: HttpRequest) -> Any:
    return list(former_clients(member=_member(request), with_services=True))


@router.get(
    "/activations/{token}",
    response={200: ActivationOut, **LINK_ERRORS},
    summary="What a client activation link is for (404 unknown; 410 used, cancelled, replaced or expired)",
)
def activation_detail(request: HttpRequest, token: str = Token) -> Any:
    _link_hit(request)
    view = lifecycle.activation_for_token(token=token)
    return {
        "business_name": view.business_name,
        "practice_name": view.practice_name,
        "email": view.invitation.email,
        "purpose": view.invitation.purpose,
        "account_exists": view.account_exists,
    }


@router.post(
    "/activations/{token}/accept",
    response={200: ActivationAcceptedOut, **LINK_ERRORS},
    summary="Accept a client activation link: you become the company's owner (signed in with the invited address)",
)
def activation_accept(request: HttpRequest, token: str = Token) -> Any:
    _link_hit(request)
    company = lifecycle.client_access_accept(token=token, user=api_user(request), request=request)
    return {"customer_number": company.customer_number, "business_name": company.business_name}


@router.post(
    "/companies/{customer_number}/accountant/remove",
    response={200: AccountantRemovedOut, **ERRORS},
    summary="Remove my accountant (the company's owner): you pay for your own subscription from tomorrow",
)
def accountant_remove(request: HttpRequest, customer_number: str) -> Any:
    user = api_user(request)
    membership = membership_for_company(user=user, customer_number=customer_number)
    # Open to the owner while the accountant has disabled access: the business is theirs to take elsewhere.
    if membership.role != CompanyMembership.Role.OWNER:
        raise NotFound("No such company")
    client = lifecycle.accountant_remove(actor=user, company=membership.company, request=request)
    return {
        "customer_number": membership.company.customer_number,
        "business_name": membership.company.business_name,
        "practice_name": client.practice.name,
        "ended_at": client.ended_at,
    }
