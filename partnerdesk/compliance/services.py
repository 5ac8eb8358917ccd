"""Writes to a practice's Final Accounts data: accounts periods and their submissions.

Each service is one transaction that locks the row it changes (the client for a new period, the period for a
new or deleted submission) and records its audit event with the practice and client, so it shows in the
client's History. Clients are reached as in ``selectors.client_for_compliance``: ended relationships (former
clients) included, restricted staff limited to their assigned clients.

A period's status follows its submissions (one transition table):

    draft -> filed   when Companies House accounts are recorded for it
    filed -> draft   when its last Companies House accounts submission is deleted
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from partnerdesk.audit.models import Action
from partnerdesk.audit.services import record_event
from partnerdesk.compliance.models import AccountsPeriod, Submission
from partnerdesk.compliance.selectors import client_for_compliance
from partnerdesk.lib.errors import Conflict, DomainError, NotFound
from partnerdesk.practice.models import Client, PracticeMember

MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2099, 12, 31)
MAX_PERIOD_MONTHS = 18  # the longest accounting reference period Companies House accepts
MAX_REFERENCE = 100
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")

STATUS_AFTER_ACCOUNTS_RECORDED = {AccountsPeriod.Status.DRAFT: AccountsPeriod.Status.FILED}
STATUS_AFTER_LAST_ACCOUNTS_DELETED = {AccountsPeriod.Status.FILED: AccountsPeriod.Status.DRAFT}


class FinalAccountsInvalid(DomainError):
    code = "final_accounts_invalid"
    status = 422
    title = "The Final Accounts details are not valid"


class ClientNotActive(Conflict):
    code = "client_not_active"
    title = "Final Accounts data can be kept only for Active clients and former clients."


class PeriodOverlaps(Conflict):
    code = "accounts_period_overlaps"
    title = "This period overlaps an accounts period already recorded for the client."


class PeriodHasSubmissions(Conflict):
    code = "accounts_period_has_submissions"
    title = "This period has submissions. Delete its submissions first."


def _record(
    action: Action, *, member: PracticeMember, client: Client, request: HttpRequest | None, data: dict[str, Any]
) -> None:
    """The audit event of a Final Accounts change, in the caller's transaction."""
    record_event(
        action=action,
        actor=member.user,
        request=request,
        practice=member.practice,
        company=client.company,
        client=client,
        data=data,
    )


def _months_later(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _long_date(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"


def _check_period(period_start: dt.date, period_end: dt.date) -> None:
    for label, day in (("start", period_start), ("end", period_end)):
        if not MIN_DATE <= day <= MAX_DATE:
            raise FinalAccountsInvalid(f"The period {label} must be between {MIN_DATE.year} and {MAX_DATE.year}.")
    if period_end <= period_start:
        raise FinalAccountsInvalid("The period must end after it starts.")
    if period_end >= _months_later(period_start, MAX_PERIOD_MONTHS):
        raise FinalAccountsInvalid(f"An accounts period can be at most {MAX_PERIOD_MONTHS} months long.")


def _clean_reference(reference: str) -> str:
    if CONTROL_CHARACTERS.search(reference):
        raise FinalAccountsInvalid("The reference must not contain control characters.")
    reference = reference.strip()
    if not reference:
        raise FinalAccountsInvalid("Enter the submission's reference.")
    if len(reference) > MAX_REFERENCE:
        raise FinalAccountsInvalid(f"The reference can be at most {MAX_REFERENCE} characters.")
    return reference


def _check_submitted_at(submitted_at: dt.datetime, period: AccountsPeriod) -> None:
    if timezone.is_naive(submitted_at):
        raise FinalAccountsInvalid("Give the submission time with its time zone.")
    if not MIN_DATE.year <= submitted_at.year <= MAX_DATE.year:
        raise FinalAccountsInvalid(f"The submission date must be between {MIN_DATE.year} and {MAX_DATE.year}.")
    if submitted_at > timezone.now() + FUTURE_TOLERANCE:
        raise FinalAccountsInvalid("The submission date cannot be in the future.")
    if timezone.localtime(submitted_at).date() < period.period_end:
        raise FinalAccountsInvalid(
            f"A submission is made after its period ends ({_long_date(period.period_end)}): check the date."
        )


def _lock_period(*, client: Client, period_id: int) -> AccountsPeriod:
    period = AccountsPeriod.objects.select_for_update().filter(pk=period_id, client_id=client.pk).first()
    if period is None:
        raise NotFound("No such accounts period")
    return period


def accounts_period_create(
    *,
    member: PracticeMember,
    client_id: int,
    period_start: dt.date,
    period_end: dt.date,
    request: HttpRequest | None = None,
) -> AccountsPeriod:
    """Record an accounts period (draft) for an Active or former client; it may not overlap another one."""
    client = client_for_compliance(member=member, client_id=client_id)
    _check_period(period_start, period_end)
    with transaction.atomic():
        client = Client.all_objects.select_for_update().select_related("company").get(pk=client.pk)
        if client.ended_at is None and client.tab != Client.Tab.ACTIVE:
            raise ClientNotActive()
        clash = (
            AccountsPeriod.objects.filter(client=client, period_start__lte=period_end, period_end__gte=period_start)
            .order_by("period_start")
            .first()
        )
        if clash is not None:
            raise PeriodOverlaps(
                f"This period overlaps the one from {_long_date(clash.period_start)} to {_long_date(clash.period_end)}."
            )
        period = AccountsPeriod.objects.create(
            practice_id=member.practice_id,
            client=client,
            period_start=period_start,
            period_end=period_end,
            created_by=member.user,
        )
        _record(
            Action.ACCOUNTS_PERIOD_CREATE,
            member=member,
            client=client,
            request=request,
            data={"period_id": period.pk, "period_start": str(period_start), "period_end": str(period_end)},
        )
    return period


def accounts_period_delete(
    *, member: PracticeMember, client_id: int, period_id: int, request: HttpRequest | None = None
) -> None:
    """Delete an accounts period; refused while it has submissions (delete those first)."""
    client = client_for_compliance(member=member, client_id=client_id)
    with transaction.atomic():
        period = _lock_period(client=client, period_id=period_id)
        submissions = Submission.objects.filter(period=period).count()
        if submissions:
            raise PeriodHasSubmissions(
                f"This period has {submissions} submission{'s' if submissions != 1 else ''}. "
                "Delete its submissions first."
            )
        data = {"period_id": period.pk, "period_start": str(period.period_start), "period_end": str(period.period_end)}
        period.delete()
        _record(Action.ACCOUNTS_PERIOD_DELETE, member=member, client=client, request=request, data=data)


def submission_create(
    *,
    member: PracticeMember,
    client_id: int,
    period_id: int,
    kind: str,
    reference: str,
    submitted_at: dt.datetime,
    request: HttpRequest | None = None,
) -> Submission:
    """Record a filing for a period. Companies House accounts mark the period filed."""
    client = client_for_compliance(member=member, client_id=client_id)
    if kind not in Submission.Kind.values:
        raise FinalAccountsInvalid("Choose what was submitted: Companies House accounts or a CT600.")
    reference = _clean_reference(reference)
    with transaction.atomic():
        period = _lock_period(client=client, period_id=period_id)
        _check_submitted_at(submitted_at, period)
        submission = Submission.objects.create(
            period=period, kind=kind, reference=reference, submitted_at=submitted_at, created_by=member.user
        )
        if kind == Submission.Kind.ACCOUNTS and period.status in STATUS_AFTER_ACCOUNTS_RECORDED:
            period.status = STATUS_AFTER_ACCOUNTS_RECORDED[AccountsPeriod.Status(period.status)]
            period.save(update_fields=["status"])
        _record(
            Action.SUBMISSION_CREATE,
            member=member,
            client=client,
            request=request,
            data={"submission_id": submission.pk, "period_id": period.pk, "kind": kind, "reference": reference},
        )
    return submission


def submission_delete(
    *, member: PracticeMember, client_id: int, submission_id: int, request: HttpRequest | None = None
) -> None:
    """Delete a recorded filing. Deleting a period's last Companies House accounts puts it back to draft."""
    client = client_for_compliance(member=member, client_id=client_id)
    with transaction.atomic():
        period_id = (
            Submission.objects.filter(pk=submission_id, period__client_id=client.pk)
            .values_list("period_id", flat=True)
            .first()
        )
        if period_id is None:
            raise NotFound("No such submission")
        period = _lock_period(client=client, period_id=period_id)
        submission = Submission.objects.filter(pk=submission_id, period=period).first()
        if submission is None:  # deleted meanwhile
            raise NotFound("No such submission")
        data = {
            "submission_id": submission.pk,
            "period_id": period.pk,
            "kind": submission.kind,
            "reference": submission.reference,
        }
        submission.delete()
        accounts_left = Submission.objects.filter(period=period, kind=Submission.Kind.ACCOUNTS).exists()
        if not accounts_left and period.status in STATUS_AFTER_LAST_ACCOUNTS_DELETED:
            period.status = STATUS_AFTER_LAST_ACCOUNTS_DELETED[AccountsPeriod.Status(period.status)]
            period.save(update_fields=["status"])
        _record(Action.SUBMISSION_DELETE, member=member, client=client, request=request, data=data)
