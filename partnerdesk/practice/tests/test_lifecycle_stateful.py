"""A hypothesis state machine over the client lifecycle: random sequences of every practice and client
action, legal or not, with the invariants checked after every step:

- the payer never returns to accountant (the client row and the licence history);
- a disabled (or suspended) client's users see nothing of the company;
- a company whose data was deleted has no ledger rows;
- at most one open activation link per client;
- nobody signs in to a live client's company while the practice sees "No client access" or "Awaiting Client
  Activation" (a request the practice approved gives the client access, as an accepted invitation does);
- an illegal step changes nothing and raises a DomainError (never another exception).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from partnerdesk.billing.models import Licence
from partnerdesk.identity import services as identity_services
from partnerdesk.identity.models import AccessRequest, Company, CompanyMembership, User
from partnerdesk.identity.selectors import companies_claim
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.ledger.models import Entry
from partnerdesk.lib.errors import DomainError
from partnerdesk.practice import lifecycle
from partnerdesk.practice.models import Client, ClientAccessInvitation, PracticeMember
from partnerdesk.practice.tests.lifecycle_factories import activation_token, managed_client
from partnerdesk.practice.tests.staff_factories import make_practice

pytestmark = pytest.mark.django_db

_numbers = itertools.count()
PASSWORD = "correct horse battery staple"


class ClientLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        n = next(_numbers)
        practice, admin = make_practice(f"Practice {n} LLP", f"admin{n}@practice.test")
        self.member = PracticeMember.objects.get(user=admin)
        self.email = f"owner{n}@client.test"
        self.client = managed_client(practice, f"Client {n} Ltd", email=self.email)
        # As Add client with an email records it: the address a person types to link to the subscription.
        Company.objects.filter(pk=self.client.company_id).update(owner_email=self.email)
        Entry.objects.create(company=self.client.company, date=timezone.localdate(), description="x", amount="1.00")
        self.ever_client_paying = False

    # --- helpers -----------------------------------------------------------------------------------
    def _fresh(self) -> Client:
        return Client.all_objects.select_related("company", "company__owner").get(pk=self.client.pk)

    def _try(self, call, *args, **kwargs) -> None:
        before = self._snapshot()
        try:
            call(*args, **kwargs)
        except DomainError:
            assert self._snapshot() == before, "a refused step changed something"

    def _snapshot(self) -> tuple[object, ...]:
        client = self._fresh()
        return (
            client.access,
            client.payer,
            client.ended_reason,
            client.company.owner_id,
            Licence.objects.filter(company=client.company).count(),
            ClientAccessInvitation.objects.filter(client=client, status="pending").count(),
        )

    def _owner(self) -> User | None:
        return self._fresh().company.owner

    # --- practice actions --------------------------------------------------------------------------
    @rule()
    def invite(self) -> None:
        self._try(
            lifecycle.client_access_invite,
            member=self.member,
            client_id=self.client.pk,
            email=self.email,
            email_confirm=self.email,
        )

    @rule()
    def resend(self) -> None:
        self._try(lifecycle.client_access_resend, member=self.member, client_id=self.client.pk)

    @rule()
    def cancel(self) -> None:
        self._try(lifecycle.client_access_cancel, member=self.member, client_id=self.client.pk)

    @rule()
    def disable(self) -> None:
        self._try(lifecycle.client_access_disable, member=self.member, client_id=self.client.pk)

    @rule()
    def enable(self) -> None:
        self._try(lifecycle.client_access_enable, member=self.member, client_id=self.client.pk)

    @rule(mode=st.sampled_from(lifecycle.StopMode.ALL))
    def stop(self, mode: str) -> None:
        self._try(
            lifecycle.client_stop_managing,
            member=self.member,
            client_id=self.client.pk,
            mode=mode,
            confirm_business_name=self.client.business_name,
        )
        ended = self._fresh()
        # Transfer and participating stops hand the licence to the client; delete cancels it (nobody pays).
        if ended.ended_at is not None and ended.ended_reason != Client.Ended.DELETED:
            self.ever_client_paying = True

    @rule()
    def expire_links(self) -> None:
        lifecycle.client_access_invitations_expire(now=timezone.now() + dt.timedelta(days=15))

    # --- client actions ----------------------------------------------------------------------------
    @precondition(
        lambda self: ClientAccessInvitation.objects.filter(client_id=self.client.pk, status="pending").exists()
    )
    @rule()
    def activate(self) -> None:
        invitation = ClientAccessInvitation.objects.get(client_id=self.client.pk, status="pending")
        template = "client-transfer" if invitation.purpose == "transfer" else "client-activation"
        token = activation_token(self.email, template=template)
        if User.objects.filter(email=self.email).exists():
            self._try(lifecycle.client_access_accept, token=token, user=User.objects.get(email=self.email))
        else:
            self._try(
                lifecycle.client_access_activate_new_account, token=token, full_name="Client Owner", password=PASSWORD
            )

    @precondition(lambda self: User.objects.filter(email=self.email).exists())
    @rule()
    def remove_accountant(self) -> None:
        owner = User.objects.get(email=self.email)
        self._try(lifecycle.accountant_remove, actor=owner, company=self._fresh().company)
        # Only a removal hands the licence to the client (not a refused one after a delete, which cancelled it).
        if self._fresh().ended_reason == Client.Ended.REVOKED_BY_CLIENT:
            self.ever_client_paying = True

    @rule()
    def ask_to_use_the_subscription(self) -> None:
        """The owner email's holder links their account: the owner decides, the practice for a client without
        one, or they become the owner at once once no practice manages it."""
        person = User.objects.filter(email=self.email).first() or UserFactory.create(email=self.email)
        with contextlib.suppress(DomainError):  # already linked, or already asked
            identity_services.company_link(user=person, number=self._fresh().company.customer_number, email=self.email)

    @precondition(
        lambda self: AccessRequest.objects.filter(
            company__client_relationships=self.client.pk, status="pending"
        ).exists()
    )
    @rule(approve=st.booleans())
    def practice_decides(self, approve: bool) -> None:
        access_request = AccessRequest.objects.filter(company_id=self._fresh().company_id, status="pending").first()
        if access_request is None:
            return
        decide = identity_services.access_request_approve if approve else identity_services.access_request_decline
        self._try(decide, actor=self.member.user, public_id=access_request.public_id)

    @rule()
    def stranger_tries_to_accept(self) -> None:
        pending = ClientAccessInvitation.objects.filter(client_id=self.client.pk, status="pending").first()
        if pending is None:
            return
        stranger = UserFactory.create(email=f"stranger{next(_numbers)}@else.test")
        token = activation_token(
            self.email, "client-transfer" if pending.purpose == "transfer" else "client-activation"
        )
        self._try(lifecycle.client_access_accept, token=token, user=stranger)

    # --- invariants --------------------------------------------------------------------------------
    @invariant()
    def payer_never_returns_to_accountant(self) -> None:
        client = self._fresh()
        if self.ever_client_paying:
            assert client.payer == Client.Payer.CLIENT
        licences = list(Licence.objects.filter(company=client.company).order_by("starts_on", "id"))
        payers = [lic.payer for lic in licences]
        if "client" in payers:
            assert "accountant" not in payers[payers.index("client") :]
        assert not any(lic.payer == "client" and lic.discounted for lic in licences)

    @invariant()
    def disabled_clients_users_see_nothing(self) -> None:
        client = self._fresh()
        owner = client.company.owner
        if owner is not None and client.ended_at is None and client.access == Client.Access.DISABLED:
            assert companies_claim(user=owner) == []

    @invariant()
    def deleted_company_has_no_ledger_rows(self) -> None:
        client = self._fresh()
        if client.ended_reason == Client.Ended.DELETED:
            assert not Entry.objects.filter(company=client.company).exists()

    @invariant()
    def at_most_one_open_link(self) -> None:
        assert ClientAccessInvitation.objects.filter(client_id=self.client.pk, status="pending").count() <= 1

    @invariant()
    def access_matches_the_facts(self) -> None:
        client = self._fresh()
        if client.access == Client.Access.INVITED:
            assert ClientAccessInvitation.objects.filter(client=client, status="pending", purpose="access").exists()
        if client.access in (Client.Access.BOTH, Client.Access.DISABLED) and client.ended_at is None:
            assert client.company.owner_id is not None

    @invariant()
    def whoever_signs_in_is_shown_as_access(self) -> None:
        client = self._fresh()
        if client.ended_at is None and CompanyMembership.objects.filter(company=client.company).exists():
            assert client.access in (Client.Access.BOTH, Client.Access.DISABLED), client.access
            assert client.company.owner_id is not None


def test_client_lifecycle_state_machine() -> None:
    run_state_machine_as_test(
        ClientLifecycle,
        settings=settings(
            max_examples=30,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
