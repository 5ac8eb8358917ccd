"""Reads of a practice's Final Accounts data. Clients are reached through ``Client.all_objects``: the practice
keeps this data after a client relationship ends (a former client), so ended relationships are included."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from partnerdesk.compliance.models import AccountsPeriod, Submission
from partnerdesk.lib.errors import NotFound
from partnerdesk.practice.models import Client, PracticeMember
from partnerdesk.practice.selectors import sees_every_client


def compliance_clients(*, member: PracticeMember) -> QuerySet[Client]:
    """The practice's client relationships, ended ones included, with the restricted-staff rule of
    ``practice.selectors.visible_clients``: staff who do not see all clients see only those assigned to them."""
    clients = Client.all_objects.filter(practice_id=member.practice_id)
    if not sees_every_client(member):
        clients = clients.filter(assignments__member=member)
    return clients


def client_for_compliance(*, member: PracticeMember, client_id: int) -> Client:
    """One client relationship (current or former) the member may see; NotFound (a 404) otherwise."""
    client = compliance_clients(member=member).select_related("company").filter(pk=client_id).first()
    if client is None:
        raise NotFound("No such client")
    return client


def has_final_accounts_data(*, client: Client) -> bool:
    """True while any accounts period (and so any submission: each belongs to a period) exists for this client
    relationship. The practice's lifecycle code refuses "Delete this data and cancel the subscription" while it is."""
    return AccountsPeriod.objects.filter(client_id=client.pk).exists()


def periods_for_client(*, client: Client) -> QuerySet[AccountsPeriod]:
    """Newest period first, each with its submissions (oldest first) prefetched: two queries in all."""
    return (
        AccountsPeriod.objects.filter(client_id=client.pk)
        .prefetch_related(Prefetch("submissions", queryset=Submission.objects.order_by("submitted_at", "id")))
        .order_by("-period_end", "-id")
    )


def submissions_for_client(*, client: Client) -> QuerySet[Submission]:
    return (
        Submission.objects.filter(period__client_id=client.pk).select_related("period").order_by("-submitted_at", "-id")
    )


def period_for_client(*, client: Client, period_id: int) -> AccountsPeriod:
    period = periods_for_client(client=client).filter(pk=period_id).first()
    if period is None:
        raise NotFound("No such accounts period")
    return period


def submission_for_client(*, client: Client, submission_id: int) -> Submission:
    submission = submissions_for_client(client=client).filter(pk=submission_id).first()
    if submission is None:
        raise NotFound("No such submission")
    return submission
