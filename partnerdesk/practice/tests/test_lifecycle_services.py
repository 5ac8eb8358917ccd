"""The client access lifecycle services: each transition, each refusal, the licence and audit effects."""

from __future__ import annotations

import datetime as dt

import pytest
from allauth.account.models import EmailAddress
from django.db import IntegrityError, transaction
from django.utils import timezone

from partnerdesk.audit.models import Action, Event
from partnerdesk.billing.models import Licence, SubscriptionItem
from partnerdesk.identity.models import CompanyMembership
from partnerdesk.identity.selectors import companies_claim, is_access_disabled, memberships_with_access
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.lib.errors import InvalidTransition, NotFound
from partnerdesk.notifications.models import Message
from partnerdesk.practice import lifecycle, services
from partnerdesk.practice.models import Client, ClientAccessInvitation, ClientAssignment, PracticeMember
from partnerdesk.practice.permissions import AdminOnly
from partnerdesk.practice.tests.lifecycle_factories import (
    activation_token,
    emailed,
    managed_client,
    participating_client,
)
from partnerdesk.practice.tests.staff_factories import add_member, make_practice

pytestmark = pytest.mark.django_db


@pytest.fixture
def practice_admin():
    practice, admin = make_practice()
    return practice, PracticeMember.objects.get(user=admin)


def invite(member, client, email="client@acme.test"):
    return lifecycle.client_access_invite(member=member, client_id=client.pk, email=email, email_confirm=email)


# --- Give client access ------------------------------------------------------------------------------


def test_invite_sets_awaiting_activation_and_emails_a_hashed_single_use_link(practice_admin):
    practice, member = practice_admin
    client = managed_client(practice)
    client, token = invite(member, client, email=" Client@Acme.TEST ")
    assert client.access == Client.Access.INVITED
    assert client.get_access_display() == "Awaiting Client Activation"
    link = ClientAccessInvitation.objects.get(client=client)
    assert link.email == "client@acme.test"
    assert link.token_hash != token
    assert len(link.token_hash) == 64
    assert link.expires_at - link.created_at == dt.timedelta(days=14)
    assert activation_token("client@acme.test") == token
    assert Event.objects.filter(action=Action.CLIENT_ACCESS_INVITE, client=client).count() == 1
    client.company.refresh_from_db()
    assert client.company.owner_email == "client@acme.test"


@pytest.mark.parametrize(
    ("email", "confirm", "code"),
    [
        ("a@acme.test", "b@acme.test", "emails_do_not_match"),
        ("not-an-email", "not-an-email", "email_invalid"),
        ("admin@hartley.test", "admin@hartley.test", "email_is_practice_member"),
    ],
)
def test_invite_refuses_bad_emails_with_specific_codes(practice_admin, email, confirm, code):
    practice, member = practice_admin
    client = managed_client(practice)
    with pytest.raises(lifecycle.DomainError) as caught:
        lifecycle.client_access_invite(member=member, client_id=client.pk, email=email, email_confirm=confirm)
    assert caught.value.code == code
    client.refresh_from_db()
    assert client.access == Client.Access.NONE
    assert not ClientAccessInvitation.objects.exists()


def test_invite_needs_complete_business_details(practice_admin):
    practice, member = practice_admin
    client = managed_client(practice, contact_name="", postcode="")
    with pytest.raises(lifecycle.ClientDetailsIncomplete) as caught:
        invite(member, client)
    assert caught.value.extra["missing"] == ["contact_name", "postcode"]


def test_inviting_again_says_the_client_is_already_awaiting_activation(practice_admin):
    practice, member = practice_admin
    client = managed_client(practice)
    invite(member, client)
    with pytest.raises(InvalidTransition, match=r"already Awaiting Client Activation \(client@acme.test\).*Resend"):
        invite(member, client)
    assert ClientAccessInvitation.objects.filter(client=client).count() == 1


def test_participating_client_cannot_be_invited(practice_admin):
    practice, member = practice_admin
    client, _ = participating_client(practice)
    with pytest.raises(InvalidTransition) as caught:
        invite(member, client)
    assert caught.value.code == "client_not_invitable"


def test_resend_kills_the_old_link_and_cancel_returns_to_no_access(practice_admin):
    practice, member = practice_admin
    client = managed_client(practice)
    _, first = invite(member, client)
    second = lifecycle.client_access_resend(member=member, client_id=client.pk)
    assert first != second
    with pytest.raises(lifecycle.ActivationClosed, match="newer invitation"):
        lifecycle.activation_for_token(token=first)
    assert lifecycle.activation_for_token(token=second).business_name == "Acme Ltd"
    assert ClientAccessInvitation.objects.filter(client=client, status="pending").count() == 1
    lifecycle.client_access_cancel(member=member, client_id=client.pk)
    client.refresh_from_db()
    assert client.access == Client.Access.NONE
    with pytest.raises(lifecycle.ActivationClosed, match="cancelled"):
        lifecycle.activation_for_token(token=second)


def test_resend_without_an_address_is_refused_not_crashed(practice_admin):
    """Data from before the email of an invited client was kept (services.ClientEmailLocked): a clear refusal."""
    practice, member = practice_admin
    client = managed_client(practice)
    invite(member, client)
    Client.objects.filter(pk=client.pk).update(email="")
    with pytest.raises(InvalidTransition, match="no email address") as refused:
        lifecycle.client_access_resend(member=member, client_id=client.pk)
    assert refused.value.code == "client_email_missing"
    assert ClientAccessInvitation.objects.filter(client=client, status="pending").count() == 1


def test_the_database_allows_at_most_one_pending_link_per_client(practice_admin):
    practice, member = practice_admin
    client = managed_client(practice)
    invite(member, client)
    link = ClientAccessInvitation.objects.get(client=client)
    with pytest.raises(IntegrityError), transaction.atomic():
        ClientAccessInvitation.objects.create(
            client=client, company=client.company, email="x@y.test", token_hash="f" * 64, expires_at=link.expires_at
        )


def test_expiry_task_returns_client_to_no_access(practice_admin):
    practice, member = practice_admin
    client = managed_client(practice)
    _, _token = invite(member, client)
    later = timezone.now() + dt.timedelta(days=14, minutes=1)
    assert lifecycle.client_access_invitations_expire(now=later) == 1
    client.refresh_from_db()
    assert client.access == Client.Access.NONE
    assert ClientAccessInvitation.objects.get(client=client).status == "expired"
    assert lifecycle.client_access_invitations_expire(now=later) == 0
    assert Event.objects.filter(action=Action.CLIENT_ACCESS_EXPIRE, client=client).count() == 1


# --- Activation ----------------------------------------------------------------------------------------


def test_new_account_activation_makes_the_owner_and_both_have_access(practice_admin):
    practice, member = practice_admin
    client = managed_client(practice)
    _, token = invite(member, client)
    view = lifecycle.activation_for_token(token=token)
    assert not view.account_exists
    assert view.practice_name == practice.name
    user = lifecycle.client_access_activate_new_account(
        token=token, full_name="Ada Lovelace", password="correct horse battery staple"
    )
    assert EmailAddress.objects.get(user=user).verified
    client.refresh_from_db()
    client.company.refresh_from_db()
    assert client.access == Client.Access.BOTH
    assert client.company.owner == user
    assert CompanyMembership.objects.get(user=user, company=client.company).role == "owner"
    assert Message.objects.filter(practice=practice, subject__contains="activated").exists()
    with pytest.raises(lifecycle.ActivationClosed, match="already been used"):
        lifecycle.client_access_accept(token=token, user=user)


def test_existing_account_accepts_and_other_email_is_refused(practice_admin):
    practice, member = practice_admin
    client = managed_client(practice)
    invited = UserFactory.create(email="client@acme.test")
    stranger = UserFactory.create(email="someone@else.test")
    _, token = invite(member, client)
    assert lifecycle.activation_for_token(token=token).account_exists
    with pytest.raises(lifecycle.ActivationEmailMismatch):
        lifecycle.client_access_accept(token=token, user=stranger)
    with pytest.raises(lifecycle.AccountExists):
        lifecycle.client_access_activate_new_account(
            token=token, full_name="X", password="correct horse battery staple"
        )
    company = lifecycle.client_access_accept(token=token, user=invited)
    assert company.owner == invited


def test_expired_and_unknown_links_are_refused(practice_admin):
    practice, member = practice_admin
    client = managed_client(practice)
    _, token = invite(member, client)
    ClientAccessInvitation.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    with pytest.raises(lifecycle.ActivationClosed, match="expired"):
        lifecycle.activation_for_token(token=token)
    with pytest.raises(NotFound):
        lifecycle.activation_for_token(token="nope")


# --- Disable / Enable ------------------------------------------------------------------------------


def test_disable_hides_the_company_from_its_users_everywhere_and_enable_restores_it(practice_admin):
    practice, member = practice_admin
    client, owner = participating_client(practice)
    assert [c["customer_number"] for c in companies_claim(user=owner)] == [client.company.customer_number]
    lifecycle.client_access_disable(member=member, client_id=client.pk)
    assert companies_claim(user=owner) == []
    assert is_access_disabled(memberships_with_access(user=owner).get())
    assert emailed("client-access-disabled", owner.email)
    with pytest.raises(InvalidTransition):
        lifecycle.client_access_disable(member=member, client_id=client.pk)
    lifecycle.client_access_enable(member=member, client_id=client.pk)
    assert len(companies_claim(user=owner)) == 1
    actions = list(Event.objects.filter(client=client).values_list("action", flat=True))
    assert Action.CLIENT_DISABLE in actions
    assert Action.CLIENT_ENABLE in actions


def test_disable_ends_the_users_product_tokens(practice_admin):
    from allauth.idp.oidc.models import Client as OIDCClient
    from allauth.idp.oidc.models import Token

    practice, member = practice_admin
    client, owner = participating_client(practice)
    oidc = OIDCClient.objects.create(name="Payroll", id="payroll-test")
    Token.objects.create(client=oidc, user=owner, type=Token.Type.REFRESH_TOKEN, hash="h" * 64)
    lifecycle.client_access_disable(member=member, client_id=client.pk)
    assert not Token.objects.filter(user=owner).exists()


# --- Stop managing ---------------------------------------------------------------------------------


def test_stop_participating_moves_the_licence_to_the_client_for_good(practice_admin):
    practice, member = practice_admin
    client, owner = participating_client(practice)
    today = timezone.localdate()
    result = lifecycle.client_stop_managing(member=member, client_id=client.pk, mode="participating")
    assert result.client.ended_reason == "transferred"
    assert not Client.objects.filter(pk=client.pk).exists()
    ended = Client.all_objects.get(pk=client.pk)
    assert ended.payer == "client"
    licences = list(Licence.objects.filter(company=client.company).order_by("starts_on"))
    assert [(lic.payer, lic.starts_on, lic.ends_on, lic.discounted) for lic in licences] == [
        ("accountant", today, today + dt.timedelta(days=1), True),
        ("client", today + dt.timedelta(days=1), None, False),
    ]
    assert Message.objects.filter(company=client.company).exists()
    assert emailed("client-practice-stopped", owner.email)
    # The practice lost access; the owner keeps the company.
    with pytest.raises(InvalidTransition):
        lifecycle.client_access_disable(member=member, client_id=client.pk)
    assert len(companies_claim(user=owner)) == 1


def test_stop_mode_must_match_participation(practice_admin):
    practice, member = practice_admin
    owned, _ = participating_client(practice)
    plain = managed_client(practice, "Plain Ltd")
    with pytest.raises(InvalidTransition) as caught:
        lifecycle.client_stop_managing(member=member, client_id=owned.pk, mode="transfer")
    assert caught.value.code == "client_is_participating"
    with pytest.raises(InvalidTransition) as caught:
        lifecycle.client_stop_managing(member=member, client_id=plain.pk, mode="participating")
    assert caught.value.code == "client_is_not_participating"


def test_transfer_needs_an_email_then_grants_thirty_days_and_sends_activation(practice_admin):
    practice, member = practice_admin
    client = managed_client(practice)
    with pytest.raises(lifecycle.ClientEmailMissing):
        lifecycle.client_stop_managing(member=member, client_id=client.pk, mode="transfer")
    Client.objects.filter(pk=client.pk).update(email="new@acme.test")
    today = timezone.localdate()
    result = lifecycle.client_stop_managing(member=member, client_id=client.pk, mode="transfer")
    assert result.grace_ends_on == today + dt.timedelta(days=30)
    client_licence = Licence.objects.get(company=client.company, payer="client")
    assert client_licence.starts_on == today + dt.timedelta(days=30)
    token = activation_token("new@acme.test", template="client-transfer")
    user = lifecycle.client_access_activate_new_account(
        token=token, full_name="New Owner", password="correct horse battery staple"
    )
    client.company.refresh_from_db()
    assert client.company.owner == user
    assert Event.objects.filter(action=Action.CLIENT_TRANSFER, client=client).exists()


def test_delete_needs_the_typed_name_and_erases_ledger_and_subscription(practice_admin):
    from partnerdesk.billing.models import Service
    from partnerdesk.ledger.models import Entry

    practice, member = practice_admin
    client = managed_client(practice)
    other = managed_client(practice, "Other Ltd")
    today = timezone.localdate()
    service, _ = Service.objects.get_or_create(code="payroll", defaults={"name": "Payroll"})
    SubscriptionItem.objects.create(company=client.company, service=service, starts_on=today)
    for company in (client.company, other.company):
        Entry.objects.create(company=company, date=today, description="Sale", amount="10.00")
    with pytest.raises(lifecycle.BusinessNameMismatch):
        lifecycle.client_stop_managing(member=member, client_id=client.pk, mode="delete", confirm_business_name="Acme")
    result = lifecycle.client_stop_managing(
        member=member, client_id=client.pk, mode="delete", confirm_business_name="  acme   LTD "
    )
    assert result.ledger_entries_deleted == 1
    assert not Entry.objects.filter(company=client.company).exists()
    assert Entry.objects.filter(company=other.company).count() == 1
    assert SubscriptionItem.objects.get(company=client.company).ends_on == today + dt.timedelta(days=1)
    assert not Licence.objects.filter(company=client.company, ends_on__isnull=True).exists()
    event = Event.objects.get(action=Action.CLIENT_DELETE_DATA, client=client)
    assert event.data["ledger_entries_deleted"] == 1
    assert "Sale" not in str(event.data)


def test_delete_cuts_future_and_scheduled_items_without_ending_one_before_it_starts(practice_admin):
    from partnerdesk.billing.models import Service

    practice, member = practice_admin
    client = managed_client(practice)
    today = timezone.localdate()
    tomorrow = today + dt.timedelta(days=1)
    starts_later, _ = Service.objects.get_or_create(code="payroll", defaults={"name": "Payroll"})
    ends_later, _ = Service.objects.get_or_create(code="final-accounts", defaults={"name": "Final Accounts"})
    future = SubscriptionItem.objects.create(
        company=client.company, service=starts_later, starts_on=today + dt.timedelta(days=10)
    )
    scheduled = SubscriptionItem.objects.create(
        company=client.company, service=ends_later, starts_on=today, ends_on=today + dt.timedelta(days=20)
    )
    result = lifecycle.client_stop_managing(
        member=member, client_id=client.pk, mode="delete", confirm_business_name="Acme Ltd"
    )
    assert result.mode == "delete"
    future.refresh_from_db()
    scheduled.refresh_from_db()
    assert future.ends_on == future.starts_on  # cancelled before it started: an empty range
    assert scheduled.ends_on == tomorrow
    event = Event.objects.get(action=Action.CLIENT_DELETE_DATA, client=client)
    assert event.data["services_cancelled"] == 2


def test_delete_refused_while_final_accounts_data_exists(practice_admin):
    from partnerdesk.compliance.models import AccountsPeriod

    practice, member = practice_admin
    client = managed_client(practice)
    period = AccountsPeriod.objects.create(
        practice=practice, client=client, period_start=dt.date(2025, 4, 1), period_end=dt.date(2026, 3, 31)
    )
    with pytest.raises(lifecycle.FinalAccountsDataExists):
        lifecycle.client_stop_managing(
            member=member, client_id=client.pk, mode="delete", confirm_business_name="Acme Ltd"
        )
    assert Client.objects.filter(pk=client.pk).exists()
    period.delete()
    lifecycle.client_stop_managing(member=member, client_id=client.pk, mode="delete", confirm_business_name="Acme Ltd")
    assert not Client.objects.filter(pk=client.pk).exists()


def test_pending_and_imported_clients_are_not_stopped(practice_admin):
    practice, member = practice_admin
    client = managed_client(practice, tab=Client.Tab.IMPORTED)
    with pytest.raises(InvalidTransition) as caught:
        lifecycle.client_stop_managing(member=member, client_id=client.pk, mode="transfer")
    assert caught.value.code == "client_not_active"


def test_second_stop_gets_a_clear_error(practice_admin):
    practice, member = practice_admin
    client, _ = participating_client(practice)
    lifecycle.client_stop_managing(member=member, client_id=client.pk, mode="participating")
    with pytest.raises(InvalidTransition) as caught:
        lifecycle.client_stop_managing(member=member, client_id=client.pk, mode="participating")
    assert caught.value.code == "client_already_ended"


def test_another_practice_and_unassigned_staff_cannot_touch_the_client(practice_admin):
    practice, _member = practice_admin
    client = managed_client(practice)
    _other_practice, other_admin = make_practice("Other LLP", "admin@other.test")
    other_member = PracticeMember.objects.get(user=other_admin)
    restricted = add_member(practice, "staff@hartley.test", sees_all_clients=False)
    for someone in (other_member, restricted):
        with pytest.raises(NotFound):
            invite(someone, client)
        with pytest.raises(NotFound):
            lifecycle.client_stop_managing(member=someone, client_id=client.pk, mode="transfer")


def test_staff_cannot_stop_managing_or_delete_a_client_they_can_see(practice_admin):
    practice, admin = practice_admin
    client = managed_client(practice, email="ada@acme.test")
    imported = managed_client(practice, "Imported Ltd", tab=Client.Tab.IMPORTED)
    staff = add_member(practice, "staff@hartley.test")  # sees every client
    restricted = add_member(practice, "restricted@hartley.test", sees_all_clients=False)
    ClientAssignment.objects.create(member=restricted, client=client)
    ClientAssignment.objects.create(member=restricted, client=imported)
    for someone in (staff, restricted):
        for mode in ("transfer", "delete"):
            with pytest.raises(AdminOnly) as caught:
                lifecycle.client_stop_managing(
                    member=someone, client_id=client.pk, mode=mode, confirm_business_name="Acme Ltd"
                )
            assert caught.value.code == "admin_only"
            assert caught.value.status == 403
        with pytest.raises(AdminOnly):
            services.client_delete(member=someone, client_id=imported.pk)
    assert Client.objects.filter(pk__in=[client.pk, imported.pk], ended_at__isnull=True).count() == 2
    assert not Event.objects.filter(action__in=[Action.CLIENT_STOP, Action.CLIENT_DELETE]).exists()
    lifecycle.client_stop_managing(member=admin, client_id=client.pk, mode="transfer")
    services.client_delete(member=admin, client_id=imported.pk)


# --- The client leaves -----------------------------------------------------------------------------


def test_owner_removes_the_accountant(practice_admin):
    from partnerdesk.compliance.models import AccountsPeriod
    from partnerdesk.practice.selectors import former_clients

    practice, member = practice_admin
    client, owner = participating_client(practice)
    AccountsPeriod.objects.create(
        practice=practice, client=client, period_start=dt.date(2025, 4, 1), period_end=dt.date(2026, 3, 31)
    )
    lifecycle.accountant_remove(actor=owner, company=client.company)
    ended = Client.all_objects.get(pk=client.pk)
    assert ended.ended_reason == "revoked_by_client"
    assert ended.payer == "client"
    assert Licence.objects.get(company=client.company, ends_on__isnull=True).payer == "client"
    assert Message.objects.filter(practice=practice, subject__contains="removed your practice").exists()
    assert emailed("practice-client-left", "admin@hartley.test")
    assert list(former_clients(member=member)) == [ended]
    with pytest.raises(InvalidTransition):
        lifecycle.accountant_remove(actor=owner, company=client.company)


def test_after_removing_the_accountant_only_the_owner_is_asked_for_payment_details_and_only_without_them(
    practice_admin, client
):
    from partnerdesk.billing.tests.subscription_factories import make_mandate

    practice, _ = practice_admin
    owned, owner = participating_client(practice)
    user = UserFactory.create(email="user@owned.test")
    CompanyMembership.objects.create(user=user, company=owned.company, role="user")
    lifecycle.accountant_remove(actor=owner, company=owned.company)
    notice = Message.objects.get(company=owned.company, subject="You now pay for your subscription")
    assert (notice.owner_only, notice.link) == (True, f"/companies/{owned.company.customer_number}/payment/")
    page = f"/companies/{owned.company.customer_number}/"
    client.force_login(owner)
    assert "You now pay for your subscription" in client.get(page).content.decode()
    client.force_login(user)
    assert "You now pay for your subscription" not in client.get(page).content.decode()

    # With a Direct Debit already in place, nothing is asked for.
    other, other_owner = participating_client(practice, "Paid Ltd", owner_email="owner@paid.test")
    make_mandate(other.company)
    lifecycle.accountant_remove(actor=other_owner, company=other.company)
    paid = Message.objects.get(company=other.company, subject="You now pay for your subscription")
    assert "Enter your Direct Debit" not in paid.body
    assert paid.link.endswith("/invoices/")


def test_only_the_owner_can_remove_the_accountant(practice_admin):
    practice, _ = practice_admin
    client, _ = participating_client(practice)
    user = UserFactory.create(email="user@owned.test")
    CompanyMembership.objects.create(user=user, company=client.company, role="user")
    with pytest.raises(NotFound):
        lifecycle.accountant_remove(actor=user, company=client.company)


# --- Licence invariants in the database ------------------------------------------------------------


def test_database_refuses_client_paying_back_to_accountant(practice_admin):
    practice, member = practice_admin
    client, _ = participating_client(practice)
    lifecycle.client_stop_managing(member=member, client_id=client.pk, mode="participating")
    with pytest.raises(IntegrityError), transaction.atomic():
        Client.all_objects.filter(pk=client.pk).update(payer="accountant")
    with pytest.raises(IntegrityError), transaction.atomic():
        Licence.objects.create(
            company=client.company,
            payer="accountant",
            practice=practice,
            discounted=True,
            starts_on=dt.date(2030, 1, 1),
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Licence.objects.filter(company=client.company, payer="client").update(discounted=True)


def test_database_refuses_changing_a_licence_payer(practice_admin):
    practice, _ = practice_admin
    client = managed_client(practice)
    with pytest.raises(IntegrityError), transaction.atomic():
        Licence.objects.filter(company=client.company).update(payer="client", practice=None, discounted=False)
