"""A practice with an Active client, a restricted staff member, and another practice."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from partnerdesk.compliance.models import AccountsPeriod, Submission
from partnerdesk.identity.models import User
from partnerdesk.practice.models import Client, Practice, PracticeMember
from partnerdesk.practice.selectors import member_for_user
from partnerdesk.practice.tests.staff_factories import add_member, make_client, make_practice


@dataclass
class Setting:
    practice: Practice
    admin: User
    member: PracticeMember
    client: Client
    restricted: PracticeMember
    other_admin: User


def setting(**client_facts: object) -> Setting:
    practice, admin = make_practice("Hartley LLP", "admin@hartley.test")
    client = make_client(practice, "Acme Widgets Ltd", **client_facts)
    restricted = add_member(practice, "raj@hartley.test", sees_all_clients=False)
    _, other_admin = make_practice("Other LLP", "admin@other.test")
    return Setting(
        practice=practice,
        admin=admin,
        member=member_for_user(user=admin),
        client=client,
        restricted=restricted,
        other_admin=other_admin,
    )


def end_relationship(client: Client) -> None:
    Client.all_objects.filter(pk=client.pk).update(ended_at=timezone.now(), ended_reason="transferred")


def period(client: Client, start: str = "2024-04-01", end: str = "2025-03-31") -> AccountsPeriod:
    return AccountsPeriod.objects.create(
        practice_id=client.practice_id,
        client=client,
        period_start=dt.date.fromisoformat(start),
        period_end=dt.date.fromisoformat(end),
    )


def submission(of: AccountsPeriod, kind: str = "ct600", reference: str = "CT-1") -> Submission:
    return Submission.objects.create(
        period=of, kind=kind, reference=reference, submitted_at=dt.datetime(2025, 6, 30, 12, tzinfo=dt.UTC)
    )
