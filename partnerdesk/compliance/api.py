"""JSON API for a practice's Final Accounts data: one client's accounts periods and submissions (current or
former client). Another practice's client, or an unassigned one for restricted staff, is a 404."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import AwareDatetime

from partnerdesk.api.auth import api_user
from partnerdesk.api.schemas import PathId, problems
from partnerdesk.compliance import services
from partnerdesk.compliance.selectors import (
    client_for_compliance,
    period_for_client,
    periods_for_client,
    submission_for_client,
    submissions_for_client,
)
from partnerdesk.practice.models import Client, PracticeMember
from partnerdesk.practice.selectors import member_for_user

router = Router(tags=["final accounts"])
ERRORS = problems(400, 401, 404, 409, 422)
BASE = "/practice/clients/{int:client_id}/final-accounts"


class SubmissionOut(Schema):
    id: int
    period_id: int
    kind: Literal["accounts", "ct600"]
    kind_label: str = Field(alias="get_kind_display")
    reference: str
    submitted_at: dt.datetime
    created_at: dt.datetime


class PeriodOut(Schema):
    id: int
    client_id: int
    period_start: dt.date
    period_end: dt.date
    status: Literal["draft", "filed"]
    created_at: dt.datetime
    submissions: list[SubmissionOut]

    @staticmethod
    def resolve_submissions(obj: Any) -> list[Any]:
        return list(obj.submissions.all())


class PeriodIn(Schema):
    period_start: dt.date
    period_end: dt.date


class SubmissionIn(Schema):
    kind: Literal["accounts", "ct600"]
    reference: str = Field(min_length=1, max_length=services.MAX_REFERENCE)
    submitted_at: AwareDatetime = Field(description="With its time zone, e.g. 2025-06-30T14:05:00+01:00")


def _member_client(request: HttpRequest, client_id: int) -> tuple[PracticeMember, Client]:
    member = member_for_user(user=api_user(request))
    return member, client_for_compliance(member=member, client_id=client_id)


@router.get(f"{BASE}/periods", response={200: list[PeriodOut], **ERRORS}, summary="Accounts periods, newest first")
def period_list(request: HttpRequest, client_id: PathId) -> Any:
    _, client = _member_client(request, client_id)
    return list(periods_for_client(client=client))


@router.post(f"{BASE}/periods", response={201: PeriodOut, **ERRORS}, summary="Add an accounts period")
def period_create(request: HttpRequest, client_id: PathId, payload: PeriodIn) -> Any:
    member, client = _member_client(request, client_id)
    period = services.accounts_period_create(
        member=member,
        client_id=client.pk,
        period_start=payload.period_start,
        period_end=payload.period_end,
        request=request,
    )
    return Status(201, period_for_client(client=client, period_id=period.pk))


@router.get(f"{BASE}/periods/{{int:period_id}}", response={200: PeriodOut, **ERRORS}, summary="One accounts period")
def period_detail(request: HttpRequest, client_id: PathId, period_id: PathId) -> Any:
    _, client = _member_client(request, client_id)
    return period_for_client(client=client, period_id=period_id)


@router.delete(
    f"{BASE}/periods/{{int:period_id}}",
    response={204: None, **ERRORS},
    summary="Delete an accounts period (refused while it has submissions)",
)
def period_delete(request: HttpRequest, client_id: PathId, period_id: PathId) -> Any:
    member, client = _member_client(request, client_id)
    services.accounts_period_delete(member=member, client_id=client.pk, period_id=period_id, request=request)
    return Status(204, None)


@router.get(f"{BASE}/submissions", response={200: list[SubmissionOut], **ERRORS}, summary="Submissions, newest first")
def submission_list(request: HttpRequest, client_id: PathId) -> Any:
    _, client = _member_client(request, client_id)
    return list(submissions_for_client(client=client))


@router.post(
    f"{BASE}/periods/{{int:period_id}}/submissions",
    response={201: SubmissionOut, **ERRORS},
    summary="Record a submission (Companies House accounts mark the period filed)",
)
def submission_create(request: HttpRequest, client_id: PathId, period_id: PathId, payload: SubmissionIn) -> Any:
    member, client = _member_client(request, client_id)
    submission = services.submission_create(
        member=member,
        client_id=client.pk,
        period_id=period_id,
        kind=payload.kind,
        reference=payload.reference,
        submitted_at=payload.submitted_at,
        request=request,
    )
    return Status(201, submission_for_client(client=client, submission_id=submission.pk))


@router.delete(
    f"{BASE}/submissions/{{int:submission_id}}", response={204: None, **ERRORS}, summary="Delete a submission"
)
def submission_delete(request: HttpRequest, client_id: PathId, submission_id: PathId) -> Any:
    member, client = _member_client(request, client_id)
    services.submission_delete(member=member, client_id=client.pk, submission_id=submission_id, request=request)
    return Status(204, None)
