"""Races on PostgreSQL: two staff stopping the same client, two acceptances of one activation link.

Each thread has its own connection; the row locks in the services decide the winner. SQLite serialises
whole-database writes, so these run on PostgreSQL only (make test runs the suite on both)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from partnerdesk.billing.models import Licence
from partnerdesk.identity.models import CompanyMembership
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.lib.errors import DomainError
from partnerdesk.practice import lifecycle
from partnerdesk.practice.models import Client, PracticeMember
from partnerdesk.practice.tests.lifecycle_factories import managed_client, participating_client
from partnerdesk.practice.tests.staff_factories import add_member, make_practice

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row-lock races need PostgreSQL"),
]


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at the same moment, each in its own thread and connection; return results or errors."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_two_admins_stopping_the_same_client_one_wins_the_other_gets_a_clear_error():
    practice, admin = make_practice()
    first = PracticeMember.objects.get(user=admin)
    second = add_member(practice, "second-admin@hartley.test", role=PracticeMember.Role.ADMIN)  # only admins stop
    client, _ = participating_client(practice)
    results = race(
        lambda: lifecycle.client_stop_managing(member=first, client_id=client.pk, mode="participating"),
        lambda: lifecycle.client_stop_managing(member=second, client_id=client.pk, mode="participating"),
    )
    wins = [r for r in results if isinstance(r, lifecycle.StopResult)]
    errors = [r for r in results if isinstance(r, DomainError)]
    assert len(wins) == 1, results
    assert len(errors) == 1, results
    assert errors[0].code == "client_already_ended"
    assert Licence.objects.filter(company=client.company, payer="client").count() == 1
    assert Client.all_objects.get(pk=client.pk).ended_reason == "transferred"


def test_two_acceptances_of_one_link_make_one_owner():
    practice, admin = make_practice()
    member = PracticeMember.objects.get(user=admin)
    client = managed_client(practice)
    _, token = lifecycle.client_access_invite(
        member=member, client_id=client.pk, email="client@acme.test", email_confirm="client@acme.test"
    )
    person = UserFactory.create(email="client@acme.test")
    results = race(
        lambda: lifecycle.client_access_accept(token=token, user=person),
        lambda: lifecycle.client_access_accept(token=token, user=person),
    )
    assert sum(1 for r in results if isinstance(r, DomainError)) == 1, results
    assert CompanyMembership.objects.filter(company=client.company, role="owner").count() == 1
    client.refresh_from_db()
    assert client.access == Client.Access.BOTH
