"""Races on PostgreSQL between the practice's and the owner's changes to one client, and between two identical
additions of clients. Each thread has its own connection; one side is slowed down while it holds its first lock
(``races.slowed``) so that the interleaving that used to deadlock, or let both through, happens every time."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import connection
from django.test import RequestFactory

from partnerdesk.lib.errors import DomainError
from partnerdesk.practice import connect, services
from partnerdesk.practice.models import AccountantInvitation, Client
from partnerdesk.practice.tests.connect_factories import owned_company, practice_admin_member
from partnerdesk.practice.tests.races import SlowModel, race, slowed

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row-lock races need PostgreSQL"),
]


def _no_server_errors(results):
    """Every result is a value or a domain error (a clear answer), never a database error (a 500)."""
    assert all(not isinstance(r, Exception) or isinstance(r, DomainError) for r in results), results


def test_the_owner_accepting_a_connect_request_while_the_practice_deletes_it_one_wins_no_deadlock():
    member = practice_admin_member()
    company, owner = owned_company()
    request = RequestFactory().post("/partner/clients/connect/", REMOTE_ADDR="192.0.2.1")
    pending = connect.connect_request_create(
        member=member, number=company.customer_number, owner_email=owner.email, request=request
    )
    assert pending is not None
    # Each holds its first lock a moment: accepting the company (then the client), deleting the client (then,
    # before the fix, the company through its audit event).
    with (
        mock.patch.object(connect, "Client", SlowModel(Client)),
        slowed("partnerdesk.practice.services.record_event"),
    ):
        accepted, deleted = race(
            lambda: connect.connect_request_accept(actor=owner, company=company, client_id=pending.pk),
            lambda: services.client_delete(member=member, client_id=pending.pk),
        )
    _no_server_errors([accepted, deleted])
    assert isinstance(accepted, DomainError) != isinstance(deleted, DomainError), (accepted, deleted)
    if isinstance(deleted, DomainError):
        assert deleted.code == "client_not_deletable"
        assert Client.objects.get(pk=pending.pk).tab == Client.Tab.ACTIVE
    else:
        assert accepted.code == "not_found"
        assert not Client.all_objects.filter(pk=pending.pk).exists()


@pytest.mark.parametrize("accept", [True, False], ids=["accept", "decline"])
def test_the_owner_withdrawing_while_the_practice_answers_the_invitation_exactly_one_wins(accept):
    member = practice_admin_member()
    company, owner = owned_company()
    services.accountant_invite(actor=owner, company=company, practice_email=member.user.email)
    pending = Client.objects.get(company=company, practice=member.practice)
    # Answering holds the client a moment (it emails the owner): withdrawing locked only the company and the
    # invitation, so both went through before the fix.
    with slowed("partnerdesk.practice.services.send_email"):
        answered, withdrawn = race(
            lambda: services.client_invitation_decide(member=member, client_id=pending.pk, accept=accept),
            lambda: services.accountant_invitation_withdraw(actor=owner, company=company),
        )
    _no_server_errors([answered, withdrawn])
    assert isinstance(answered, DomainError) != isinstance(withdrawn, DomainError), (answered, withdrawn)
    invitation = AccountantInvitation.objects.get(company=company)
    if isinstance(withdrawn, DomainError):
        assert withdrawn.code == "no_accountant_invitation"
        assert invitation.answered  # closed on the next write; reads already show it as over
        assert Client.objects.filter(pk=pending.pk, tab=Client.Tab.ACTIVE).exists() == accept
    else:
        assert answered.code == "not_found"
        assert invitation.status == AccountantInvitation.Status.WITHDRAWN
        assert not Client.objects.filter(pk=pending.pk).exists()
