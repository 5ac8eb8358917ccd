"""Races on PostgreSQL between the practice's and the owner's changes to one client, and between two identical
additions of clients. Each thread has its own connection; one side is slowed down while it holds its first lock
(``races.slowed``) so that the interleaving that used to deadlock, or let both through, happens every time."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import connection
from django.test import RequestFactory

from partnerdesk.lib.errors import DomainError
from partnerdesk.practice import connect, import_services, services
from partnerdesk.practice.models import AccountantInvitation, Client, ImportBatch, PracticeMember
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


def test_three_identical_add_clients_at_once_add_one_the_others_are_asked_about_the_duplicate():
    member = practice_admin_member()
    details = {"business_name": "Twin Ltd", "contact_name": "T", "email": "twin@race.test", "address": "1 A"}

    def add():
        return services.client_create(member=PracticeMember.objects.get(pk=member.pk), details=details)

    # Each holds a moment between its duplicate check and its insert.
    with slowed("partnerdesk.practice.services.company_create"):
        results = race(add, add, add)
    _no_server_errors(results)
    assert sum(1 for r in results if isinstance(r, Client)) == 1, results
    assert [r.code for r in results if isinstance(r, DomainError)] == ["duplicate_client"] * 2
    assert Client.objects.filter(practice=member.practice, business_name="Twin Ltd").count() == 1


def test_two_imports_of_the_same_file_committed_at_once_import_each_row_once():
    member = practice_admin_member()
    csv = "Business name,Contact name,Email,Address,Postcode\n" + "".join(
        f"Dup Race {i},Person {i},dup{i}@race.test,{i} Import Rd,IM1 1PT\n" for i in range(4)
    )
    first, second = (
        import_services.import_preview_create(member=member, filename="c.csv", data=csv.encode()) for _ in range(2)
    )
    # Each holds a moment between re-validating its rows and inserting them.
    with slowed("partnerdesk.practice.import_services._unused"):
        results = race(
            lambda: import_services.import_commit(member=member, batch_id=first.pk),
            lambda: import_services.import_commit(member=member, batch_id=second.pk),
        )
    _no_server_errors(results)
    assert sorted(r.imported for r in results) == [0, 4], results
    assert Client.objects.filter(practice=member.practice, business_name__startswith="Dup Race").count() == 4
    assert ImportBatch.objects.filter(pk__in=[first.pk, second.pk], status=ImportBatch.Status.IMPORTED).count() == 2
