import datetime as dt
from decimal import Decimal

import pytest

from partnerdesk.audit.models import Action, Event
from partnerdesk.billing import selectors, services
from partnerdesk.billing.models import SubscriptionItem
from partnerdesk.billing.tests.subscription_factories import (
    accountant_client,
    client_paying_company,
    imported_client,
    make_practice,
    make_service,
)
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.lib.errors import DomainError, NotFound, PermissionDenied
from partnerdesk.notifications.models import Message
from partnerdesk.practice.models import Client, PracticeMember

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue():
    return make_service("t-accounts", "30.00", order=1), make_service("t-payroll", "10.00", order=2)


def test_practice_removes_a_service_from_an_accountant_paying_client(catalogue):
    accounts, payroll = catalogue
    setup = make_practice()
    client = accountant_client(setup, "Acme Ltd", accounts, payroll)
    today = selectors.today()
    services.subscriptions_remove(actor=setup.admin, company=client.company, services=[payroll], effective_on=today)
    item = SubscriptionItem.objects.get(company=client.company, service=payroll)
    assert item.ends_on == today
    assert item.ended_by == setup.admin
    assert [i.service.code for i in selectors.active_services(company=client.company)] == ["t-accounts"]
    event = Event.objects.get(action=Action.SUBSCRIPTION_REMOVE)
    assert (event.company_id, event.practice_id, event.client_id) == (client.company_id, setup.practice.pk, client.pk)
    assert event.data["services"] == ["t-payroll"]
    assert Message.objects.filter(company=client.company, subject="Services removed").exists()


def test_practice_adds_a_service_to_an_accountant_paying_client(catalogue):
    accounts, payroll = catalogue
    setup = make_practice()
    client = accountant_client(setup, "Acme Ltd", accounts)
    services.subscription_add(actor=setup.admin, company=client.company, service=payroll)
    assert {i.service.code for i in selectors.active_services(company=client.company)} == {"t-accounts", "t-payroll"}
    event = Event.objects.get(action=Action.SUBSCRIPTION_ADD)
    assert event.client_id == client.pk
    assert Message.objects.filter(company=client.company, subject__contains="added").exists()


def test_a_plan_replaces_the_other_plan_of_its_product_from_the_same_day(catalogue, client):
    """Accounting Start, Standard and Plus are plans of one product: adding Plus ends Standard the same day (the
    invoice counts each for its own days), and says so."""
    _, payroll = catalogue
    standard = make_service("t-standard", "30.00", name="Test Standard", product="t-books", order=1)
    plus = make_service("t-plus", "42.00", name="Test Plus", product="t-books", order=2)
    setup = make_practice()
    acme = accountant_client(setup, "Acme Ltd", standard, payroll)
    client.force_login(setup.admin)
    base = f"/partner/clients/{acme.pk}/subscriptions/"
    assert "Test Plus (replaces Test Standard)" in client.get(base).content.decode()

    check = client.post(f"{base}add/", {"service": plus.pk}).content.decode()
    assert "Replaces" in check
    assert "Test Standard, from the same day" in check
    page = client.post(f"{base}add/", {"service": plus.pk, "confirm": "yes"}, follow=True).content.decode()
    assert "Test Plus added to Acme Ltd, replacing Test Standard." in page
    today = selectors.today()
    assert {i.service.code for i in selectors.active_services(company=acme.company)} == {"t-plus", "t-payroll"}
    ended = SubscriptionItem.objects.get(company=acme.company, service=standard)
    assert (ended.ends_on, ended.ended_by) == (today, setup.admin)
    event = Event.objects.get(action=Action.SUBSCRIPTION_ADD)
    assert event.data["replaces"] == ["t-standard"]
    assert Message.objects.get(company=acme.company, subject="Test Plus added").body.endswith(
        "instead of Test Standard."
    )


def test_add_subscriptions_refuses_two_plans_of_one_product(catalogue):
    standard = make_service("t-standard", "30.00", product="t-books")
    plus = make_service("t-plus", "42.00", product="t-books")
    setup = make_practice()
    imported = imported_client(setup, "Imported Ltd")
    with pytest.raises(services.PlansConflict, match="Choose one of"):
        services.clients_add_subscriptions(
            member=setup.member, client_ids=[imported.pk], services=[standard, plus], payer="accountant"
        )
    imported.refresh_from_db()
    assert imported.tab == "imported"


def test_adding_a_service_twice_is_a_conflict(catalogue):
    accounts, _ = catalogue
    setup = make_practice()
    client = accountant_client(setup, "Acme Ltd", accounts)
    with pytest.raises(DomainError) as exc:
        services.subscription_add(actor=setup.admin, company=client.company, service=accounts)
    assert exc.value.code == "subscription_already_subscribed"


def test_owner_cannot_change_an_accountant_paying_subscription(catalogue):
    accounts, payroll = catalogue
    setup = make_practice()
    owner = UserFactory.create()
    client = accountant_client(setup, "Owned Ltd", accounts, payroll, owner=owner)
    with pytest.raises(PermissionDenied) as exc:
        services.subscriptions_remove(actor=owner, company=client.company, services=[payroll])
    assert exc.value.code == "subscription_not_payer"
    with pytest.raises(PermissionDenied):
        services.subscription_add(actor=owner, company=client.company, service=make_service("t-extra"))
    assert SubscriptionItem.objects.filter(company=client.company, ends_on__isnull=True).count() == 2


def test_owner_changes_a_client_paying_subscription(catalogue):
    accounts, payroll = catalogue
    company, owner = client_paying_company("Self Pay Ltd", accounts, payroll)
    services.subscriptions_remove(actor=owner, company=company, services=[payroll])
    services.subscription_add(actor=owner, company=company, service=make_service("t-extra"))
    assert {i.service.code for i in selectors.active_services(company=company)} == {"t-accounts", "t-extra"}
    event = Event.objects.get(action=Action.SUBSCRIPTION_REMOVE)
    assert event.practice_id is None
    assert event.client_id is None
    assert event.company_id == company.pk


def test_practice_cannot_change_a_client_paying_subscription_it_manages(catalogue):
    accounts, payroll = catalogue
    setup = make_practice()
    company, _ = client_paying_company("Invited Us Ltd", accounts, payroll)
    Client.objects.create(practice=setup.practice, company=company, business_name="Invited Us Ltd", payer="client")
    with pytest.raises(PermissionDenied):
        services.subscriptions_remove(actor=setup.admin, company=company, services=[payroll])


def test_other_practices_and_strangers_get_not_found(catalogue):
    accounts, payroll = catalogue
    setup = make_practice()
    other = make_practice("Other LLP")
    client = accountant_client(setup, "Acme Ltd", accounts, payroll)
    for actor in (other.admin, UserFactory.create()):
        with pytest.raises(NotFound):
            services.subscriptions_remove(actor=actor, company=client.company, services=[payroll])
        with pytest.raises(NotFound):
            services.subscription_add(actor=actor, company=client.company, service=make_service("t-x"))


def test_restricted_staff_who_cannot_see_the_client_get_not_found(catalogue):
    accounts, payroll = catalogue
    setup = make_practice()
    client = accountant_client(setup, "Acme Ltd", accounts, payroll)
    staff = UserFactory.create()
    PracticeMember.objects.create(practice=setup.practice, user=staff, role="staff", sees_all_clients=False)
    with pytest.raises(NotFound):
        services.subscriptions_remove(actor=staff, company=client.company, services=[payroll])


def test_removing_the_last_service_needs_confirmation(catalogue):
    accounts, _ = catalogue
    setup = make_practice()
    client = accountant_client(setup, "Acme Ltd", accounts)
    with pytest.raises(DomainError) as exc:
        services.subscriptions_remove(actor=setup.admin, company=client.company, services=[accounts])
    assert exc.value.code == "subscription_last_service_unconfirmed"
    assert SubscriptionItem.objects.get(company=client.company).ends_on is None
    services.subscriptions_remove(
        actor=setup.admin, company=client.company, services=[accounts], confirm_no_service=True
    )
    assert not selectors.active_services(company=client.company).exists()


def test_removing_a_service_the_company_does_not_have_is_refused(catalogue):
    accounts, payroll = catalogue
    setup = make_practice()
    client = accountant_client(setup, "Acme Ltd", accounts)
    with pytest.raises(DomainError) as exc:
        services.subscriptions_remove(actor=setup.admin, company=client.company, services=[payroll])
    assert exc.value.code == "subscription_not_subscribed"


def test_removal_cannot_be_backdated(catalogue):
    accounts, payroll = catalogue
    setup = make_practice()
    client = accountant_client(setup, "Acme Ltd", accounts, payroll)
    with pytest.raises(DomainError) as exc:
        services.subscriptions_remove(
            actor=setup.admin,
            company=client.company,
            services=[payroll],
            effective_on=selectors.today() - dt.timedelta(days=1),
        )
    assert exc.value.code == "date_in_past"


def test_a_scheduled_removal_is_cancelled_by_adding_the_service_again(catalogue):
    accounts, payroll = catalogue
    setup = make_practice()
    client = accountant_client(setup, "Acme Ltd", accounts, payroll)
    later = selectors.today() + dt.timedelta(days=10)
    services.subscriptions_remove(actor=setup.admin, company=client.company, services=[payroll], effective_on=later)
    services.subscription_add(actor=setup.admin, company=client.company, service=payroll)
    assert SubscriptionItem.objects.get(company=client.company, service=payroll).ends_on is None


# --- removal summary: pence-exact, discount only on accountant-paying ---------------------------------


def test_summary_accountant_paying_applies_the_discount_rounding_half_up():
    service = make_service("t-2920", "29.20")
    other = make_service("t-keep", "10.00")
    setup = make_practice(discount="12.50")
    client = accountant_client(setup, "Acme Ltd", service, other)
    summary = selectors.removal_summary(company=client.company, services=[service], effective_on=dt.date(2026, 4, 16))
    # April: 30 days. Kept all month: 29.20 - 3.65 = 25.55. Until the 15th: 14.60 - 1.825 (-> 1.83) = 12.77.
    assert summary.saving == Decimal("12.78")
    assert summary.payer == "accountant"
    assert summary.discount_rate == Decimal("12.50")
    assert summary.invoice_period == dt.date(2026, 4, 1)
    assert summary.invoice_date == dt.date(2026, 5, 1)
    assert summary.lines[0].ends_on == dt.date(2026, 4, 16)
    assert [s.code for s in summary.remaining] == ["t-keep"]
    assert summary.saving_with_vat == Decimal("15.34")


def test_summary_client_paying_is_at_full_rrp():
    service = make_service("t-2920", "29.20")
    company, _ = client_paying_company("Self Pay Ltd", service)
    summary = selectors.removal_summary(company=company, services=[service], effective_on=dt.date(2026, 4, 16))
    assert summary.payer == "client"
    assert summary.discount_rate == Decimal("0")
    assert summary.saving == Decimal("14.60")
    assert summary.removes_last_service


def test_summary_in_a_31_day_month_and_on_the_first_of_the_month():
    service = make_service("t-30", "30.00")
    company, _ = client_paying_company("Self Pay Ltd", service)
    mid = selectors.removal_summary(company=company, services=[service], effective_on=dt.date(2026, 3, 16))
    assert mid.saving == Decimal("15.48")  # 30.00 - 30 * 15 / 31 (14.516... -> 14.52)
    first = selectors.removal_summary(company=company, services=[service], effective_on=dt.date(2026, 3, 1))
    assert first.saving == Decimal("30.00")


def test_summary_for_a_service_started_this_month_saves_only_the_remaining_days():
    service = make_service("t-30", "30.00")
    setup = make_practice(discount="0")
    client = accountant_client(setup, "Acme Ltd")
    SubscriptionItem.objects.create(company=client.company, service=service, starts_on=dt.date(2026, 3, 10))
    summary = selectors.removal_summary(company=client.company, services=[service], effective_on=dt.date(2026, 3, 20))
    # Kept: 22 days (10th-31st) -> 21.29; until the 19th: 10 days -> 9.68.
    assert summary.saving == Decimal("11.61")
