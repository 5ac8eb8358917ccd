"""Races on PostgreSQL: two staff stopping the same client, two acceptances of one activation link, the client
accepting while the practice cancels or stops, the owner removing the practice while it stops.

Each thread has its own connection; the row locks in the services decide the winner. Where a race used to
deadlock, one side is slowed down while it holds its first lock (``races.slowed``), so that the old lock order
deadlocked every time; with one order (company, client, link: ``practice.locks``) one side waits instead. SQLite serialises
whole-database writes, so these run on PostgreSQL only (make test runs the suite on both)."""

from __future__ import annotations

from unittest import mock

import pytest
from allauth.account.models import EmailAddress
from django.db import connection

from partnerdesk.billing.models import Licence
from partnerdesk.identity.models import CompanyMembership, User
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.lib.errors import DomainError
from partnerdesk.practice import lifecycle
from partnerdesk.practice.models import Client, ClientAccessInvitation, PracticeMember
from partnerdesk.practice.tests.lifecycle_factories import managed_client, participating_client
from partnerdesk.practice.tests.races import SlowModel, race, slowed
from partnerdesk.practice.tests.staff_factories import add_member, make_practice

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row-lock races need PostgreSQL"),
]


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


def _invited(practice, email="client@acme.test"):
    member = PracticeMember.objects.get(practice=practice, role="admin")
    client = managed_client(practice)
    _, token = lifecycle.client_access_invite(member=member, client_id=client.pk, email=email, email_confirm=email)
    return member, client, token


def _no_server_errors(results):
    """Every result is a value or a domain error (a clear answer), never a database error (a 500)."""
    assert all(not isinstance(r, Exception) or isinstance(r, DomainError) for r in results), results


@pytest.mark.parametrize("action", ["cancel", "transfer", "delete"])
def test_the_client_accepting_while_the_practice_cancels_or_stops_one_wins_no_deadlock(action):
    practice, _ = make_practice()
    member, client, token = _invited(practice)
    person = UserFactory.create(email="client@acme.test")
    practice_side = {
        "cancel": lambda: lifecycle.client_access_cancel(member=member, client_id=client.pk),
        "transfer": lambda: lifecycle.client_stop_managing(member=member, client_id=client.pk, mode="transfer"),
        "delete": lambda: lifecycle.client_stop_managing(
            member=member, client_id=client.pk, mode="delete", confirm_business_name="Acme Ltd"
        ),
    }[action]
    # The acceptance holds its first lock a moment: the old order (link, company, client) met the practice's
    # (client, link, company) in a circle.
    with mock.patch.object(lifecycle, "EmailAddress", SlowModel(EmailAddress)):
        accepted, practice_result = race(
            lambda: lifecycle.client_access_accept(token=token, user=person), practice_side
        )
    _no_server_errors([accepted, practice_result])
    assert isinstance(accepted, DomainError) != isinstance(practice_result, DomainError), (accepted, practice_result)
    client = Client.all_objects.select_related("company").get(pk=client.pk)
    if isinstance(accepted, DomainError):
        assert accepted.code == "activation_link_closed"
        assert client.company.owner_id is None
    else:
        assert practice_result.code in ("client_not_invited", "client_is_participating")
        assert client.company.owner_id == person.pk
        assert client.access == Client.Access.BOTH
        assert client.ended_at is None


def test_the_owner_removing_the_practice_while_it_stops_managing_one_wins_no_deadlock():
    practice, admin = make_practice()
    member = PracticeMember.objects.get(user=admin)
    client, owner = participating_client(practice)
    # Stopping holds the client (old order: client, then the company through the licence) a moment.
    with slowed("partnerdesk.practice.lifecycle.licence_move_to_client"):
        removed, stopped = race(
            lambda: lifecycle.accountant_remove(actor=owner, company=client.company),
            lambda: lifecycle.client_stop_managing(member=member, client_id=client.pk, mode="participating"),
        )
    _no_server_errors([removed, stopped])
    assert isinstance(removed, DomainError) != isinstance(stopped, DomainError), (removed, stopped)
    loser = removed if isinstance(removed, DomainError) else stopped
    assert loser.code in ("no_accountant", "client_already_ended")
    assert Licence.objects.filter(company=client.company, payer="client").count() == 1
    ended = Client.all_objects.get(pk=client.pk).ended_reason
    assert ended == ("transferred" if loser is removed else "revoked_by_client")


def test_choosing_a_password_on_one_link_in_three_browsers_makes_one_account_the_others_see_a_used_link():
    practice, _ = make_practice()
    _, client, token = _invited(practice)

    def activate():
        return lifecycle.client_access_activate_new_account(
            token=token, full_name="Race Person", password="correct horse battery"
        )

    # The first holds its transaction open a moment after making the account: the others checked for an
    # account before it committed, then made their own (IntegrityError on the email) before the fix.
    with slowed("partnerdesk.practice.lifecycle.client_access_accept"):
        results = race(activate, activate, activate)
    _no_server_errors(results)
    assert sum(1 for r in results if isinstance(r, User)) == 1, results
    errors = [r for r in results if isinstance(r, DomainError)]
    assert [e.code for e in errors] == ["activation_link_closed"] * 2
    assert all("already been used" in e.message for e in errors)
    assert User.objects.filter(email__iexact="client@acme.test").count() == 1
    assert ClientAccessInvitation.objects.get(client=client).status == ClientAccessInvitation.Status.ACCEPTED


def _requested_by_ada(practice):
    """A non-participating client whose owner email's holder asked to use it: the practice decides."""
    from partnerdesk.identity.models import Company
    from partnerdesk.identity.services import company_link
    from partnerdesk.identity.tests.factories import requested

    client = managed_client(practice, email="ada@acme.test")
    Company.objects.filter(pk=client.company_id).update(owner_email="ada@acme.test")
    ada = UserFactory.create(email="ada@acme.test")
    return client, ada, requested(company_link(user=ada, number=client.company.customer_number, email="ada@acme.test"))


@pytest.mark.parametrize("practice_side", ["transfer", "give_access", "decline"])
def test_the_practice_approving_a_request_while_a_colleague_changes_the_client_one_order_no_deadlock(practice_side):
    """Approving locks the company, the client, then the request (decision 74), as the practice's changes do."""
    from partnerdesk.identity import services as identity_services

    practice, admin = make_practice()
    member = PracticeMember.objects.get(user=admin)
    colleague = add_member(practice, "second-admin@hartley.test", role=PracticeMember.Role.ADMIN)
    client, ada, access_request = _requested_by_ada(practice)
    other = {
        "transfer": lambda: lifecycle.client_stop_managing(member=colleague, client_id=client.pk, mode="transfer"),
        "give_access": lambda: lifecycle.client_access_invite(
            member=colleague, client_id=client.pk, email="ada@acme.test", email_confirm="ada@acme.test"
        ),
        "decline": lambda: identity_services.access_request_decline(
            actor=colleague.user, public_id=access_request.public_id
        ),
    }[practice_side]
    # Approving holds the company a moment before it locks the client and the request.
    with slowed("partnerdesk.identity.services._lock_managing_client"):
        approved, changed = race(
            lambda: identity_services.access_request_approve(actor=member.user, public_id=access_request.public_id),
            other,
        )
    _no_server_errors([approved, changed])
    client = Client.all_objects.select_related("company").get(pk=client.pk)
    if practice_side == "give_access":  # both go through, in either order: the approved person is the owner
        assert client.company.owner_id == ada.pk
        assert client.access == Client.Access.BOTH
        return
    assert isinstance(approved, DomainError) != isinstance(changed, DomainError), (approved, changed)
    if isinstance(approved, DomainError):  # the colleague was first: the practice no longer decides, or it's decided
        assert client.company.owner_id is None
        assert CompanyMembership.objects.filter(company=client.company).count() == 0
    else:
        assert changed.code in ("client_is_participating", "access_request_approved")
        assert client.company.owner_id == ada.pk
        assert (client.access, client.ended_at) == (Client.Access.BOTH, None)
