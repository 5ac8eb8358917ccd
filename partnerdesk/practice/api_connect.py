"""JSON API for Connect existing client: the practice asks to manage a company (always the same 202 answer,
whether or not the details match), and the company's owner lists, accepts or declines practices' requests.
Thin endpoints over ``practice.connect``; errors are problem+json with a stable ``code``. Another company's
request, or any company of which the caller is not the Subscription Owner, is a 404."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Path, Router, Schema, Status

from partnerdesk.api.auth import api_user
from partnerdesk.api.schemas import MessageOut, PathId, problems
from partnerdesk.practice import connect
from partnerdesk.practice.models import Client
from partnerdesk.practice.selectors import member_for_user

router = Router(tags=["connect existing client"])
ERRORS = problems(400, 401, 403, 404, 409, 422, 429)
CustomerNumber = Path(..., min_length=1, max_length=20, description="The company's 8-digit Customer Number")


class ConnectRequestIn(Schema):
    number: str = Field(
        min_length=1,
        max_length=20,
        description="The company's 8-digit Customer Number, or its Registration ID (MBR + 8 digits, or its last 6)",
    )
    owner_email: str = Field(min_length=3, max_length=254, description="The Subscription Owner's email address")


class ConnectRequestOut(Schema):
    id: int
    practice_name: str = Field(alias="practice.name")
    practice_email: str = Field(alias="practice.contact_email", description="The practice's contact email, if any")
    requested_by_email: str = Field(
        "", alias="requester_email", description="Who in the practice asked (their login email)"
    )
    requested_at: datetime = Field(alias="created_at")
    expires_at: datetime = Field(alias="request_expires_at", description="Answer before then")

    @staticmethod
    def resolve_requested_by_email(obj: Client) -> str:
        return getattr(obj, "requester_email", None) or ""


class ConnectDecisionOut(Schema):
    id: int
    customer_number: str
    practice_name: str
    decision: Literal["accepted", "declined"]


@router.post(
    "/practice/connect-requests",
    response={202: MessageOut, **ERRORS},
    summary="Connect existing client: ask a company's owner to let your practice manage it (same answer whether "
    "or not the details match)",
)
def connect_request_create(request: HttpRequest, payload: ConnectRequestIn) -> Any:
    connect.connect_request_create(
        member=member_for_user(user=api_user(request)),
        number=payload.number,
        owner_email=payload.owner_email,
        request=request,
    )
    return Status(202, {"detail": connect.CONNECT_REQUEST_SENT})


@router.get(
    "/companies/{customer_number}/practice-requests",
    response={200: list[ConnectRequestOut], **ERRORS},
    summary="Practices asking to manage your company (the Subscription Owner only)",
)
def connect_request_list(request: HttpRequest, customer_number: str = CustomerNumber) -> Any:
    company = connect.company_for_owner(user=api_user(request), customer_number=customer_number)
    return list(connect.connect_requests_for_company(company=company))


@router.post(
    "/companies/{customer_number}/practice-requests/{int:client_id}/accept",
    response={200: ConnectDecisionOut, **ERRORS},
    summary="Accept: the practice manages your company from now on; you keep paying for your subscription",
)
def connect_request_accept(request: HttpRequest, client_id: PathId, customer_number: str = CustomerNumber) -> Any:
    user = api_user(request)
    company = connect.company_for_owner(user=user, customer_number=customer_number)
    client = connect.connect_request_accept(actor=user, company=company, client_id=client_id, request=request)
    return _decision(client_id, client, company.customer_number, "accepted")


@router.post(
    "/companies/{customer_number}/practice-requests/{int:client_id}/decline",
    response={200: ConnectDecisionOut, **ERRORS},
    summary="Decline: the request is removed and the practice is told you declined",
)
def connect_request_decline(request: HttpRequest, client_id: PathId, customer_number: str = CustomerNumber) -> Any:
    user = api_user(request)
    company = connect.company_for_owner(user=user, customer_number=customer_number)
    client = connect.connect_request_decline(actor=user, company=company, client_id=client_id, request=request)
    return _decision(client_id, client, company.customer_number, "declined")


def _decision(client_id: int, client: Client, customer_number: str, decision: str) -> dict[str, Any]:
    return {
        "id": client_id,  # a declined request's row is gone (its pk is None now)
        "customer_number": customer_number,
        "practice_name": client.practice.name,
        "decision": decision,
    }
