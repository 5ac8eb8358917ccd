"""Final Accounts for a practice: one client's accounts periods and submissions, current or former client.

Another practice's client, or a client a restricted staff member is not assigned to, is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from partnerdesk.api.schemas import MAX_DB_ID
from partnerdesk.compliance import services
from partnerdesk.compliance.forms import PeriodForm, SubmissionForm
from partnerdesk.compliance.models import AccountsPeriod, Submission
from partnerdesk.compliance.selectors import (
    client_for_compliance,
    period_for_client,
    periods_for_client,
    submission_for_client,
)
from partnerdesk.identity.models import User
from partnerdesk.lib.errors import DomainError, NotFound
from partnerdesk.practice.models import Client, PracticeMember
from partnerdesk.practice.selectors import membership_for_user


def _member_and_client(request: HttpRequest, client_id: int) -> tuple[PracticeMember, Client]:
    user = request.user
    member = membership_for_user(user=user) if isinstance(user, User) else None
    if member is None:
        raise Http404("You are not a member of a practice.")
    if client_id > MAX_DB_ID:
        raise Http404("No such client")
    try:
        return member, client_for_compliance(member=member, client_id=client_id)
    except NotFound:
        raise Http404("No such client") from None


def _period(client: Client, period_id: int) -> AccountsPeriod:
    if period_id > MAX_DB_ID:
        raise Http404("No such accounts period")
    try:
        return period_for_client(client=client, period_id=period_id)
    except NotFound:
        raise Http404("No such accounts period") from None


def _submission(client: Client, submission_id: int) -> Submission:
    if submission_id > MAX_DB_ID:
        raise Http404("No such submission")
    try:
        return submission_for_client(client=client, submission_id=submission_id)
    except NotFound:
        raise Http404("No such submission") from None


def _overview_url(client: Client) -> str:
    return reverse("compliance:final_accounts", args=[client.pk])


@login_required
def final_accounts(request: HttpRequest, client_id: int) -> HttpResponse:
    member, client = _member_and_client(request, client_id)
    context = {"member": member, "client": client, "periods": periods_for_client(client=client)}
    return render(request, "compliance/final_accounts.html", context)


@login_required
def period_add(request: HttpRequest, client_id: int) -> HttpResponse:
    member, client = _member_and_client(request, client_id)
    form = PeriodForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.accounts_period_create(
                    member=member, client_id=client.pk, request=request, **form.cleaned_data
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "Accounts period added.")
                return redirect(_overview_url(client))
        return render(
            request, "compliance/period_add.html", {"member": member, "client": client, "form": form}, status=400
        )
    return render(request, "compliance/period_add.html", {"member": member, "client": client, "form": form})


@login_required
def period_delete(request: HttpRequest, client_id: int, period_id: int) -> HttpResponse:
    """Confirm, then delete (POST). Refused with the reason while the period has submissions."""
    member, client = _member_and_client(request, client_id)
    period = _period(client, period_id)
    if request.method == "POST":
        try:
            services.accounts_period_delete(member=member, client_id=client.pk, period_id=period.pk, request=request)
        except NotFound:
            raise Http404("No such accounts period") from None
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Accounts period deleted.")
        return redirect(_overview_url(client))
    return render(request, "compliance/period_delete.html", {"member": member, "client": client, "period": period})


@login_required
def submission_add(request: HttpRequest, client_id: int, period_id: int) -> HttpResponse:
    member, client = _member_and_client(request, client_id)
    period = _period(client, period_id)
    form = SubmissionForm(request.POST or None)
    context = {"member": member, "client": client, "period": period, "form": form}
    if request.method == "POST":
        if form.is_valid():
            try:
                services.submission_create(
                    member=member, client_id=client.pk, period_id=period.pk, request=request, **form.cleaned_data
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "Submission recorded.")
                return redirect(_overview_url(client))
        return render(request, "compliance/submission_add.html", context, status=400)
    return render(request, "compliance/submission_add.html", context)


@login_required
def submission_delete(request: HttpRequest, client_id: int, submission_id: int) -> HttpResponse:
    member, client = _member_and_client(request, client_id)
    submission = _submission(client, submission_id)
    if request.method == "POST":
        try:
            services.submission_delete(member=member, client_id=client.pk, submission_id=submission.pk, request=request)
        except NotFound:
            raise Http404("No such submission") from None
        messages.success(request, "Submission deleted.")
        return redirect(_overview_url(client))
    context = {"member": member, "client": client, "submission": submission}
    return render(request, "compliance/submission_delete.html", context)
