"""The database refuses overlapping date ranges (migration 0003), on SQLite and PostgreSQL alike: two licences of
one company, or two subscription items of one company and service. Half-open ranges: ``[a, b)`` then ``[b, c)``
is fine; an empty range (cancelled before it started) overlaps nothing. And the code paths that write ranges
never ask for an overlap (a licence starts after the previous payer's last day; a scheduled removal is cancelled
rather than a second item added)."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import IntegrityError, connection, connections, transaction

from partnerdesk.billing import services
from partnerdesk.billing.licences import DatesOverlap, licence_move_to_client, licence_open, overlap_refused
from partnerdesk.billing.models import Licence, SubscriptionItem
from partnerdesk.billing.tests.invoice_factories import (
    accountant_pays,
    client_pays,
    make_company,
    make_practice,
    make_service,
    subscribe,
)
from partnerdesk.billing.tests.subscription_factories import accountant_client, imported_client
from partnerdesk.billing.tests.subscription_factories import make_practice as make_practice_setup
from partnerdesk.billing.tests.subscription_factories import make_service as make_catalogue_service

D = dt.date


def refused(create) -> None:
    with pytest.raises(IntegrityError, match="overlap"), transaction.atomic():
        create()


# --- licences -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_overlapping_licences_of_one_company_are_refused():
    practice = make_practice()
    company = make_company()
    accountant_pays(company, practice, D(2026, 1, 1), D(2026, 3, 1))
    refused(lambda: client_pays(company, D(2026, 2, 28), D(2026, 4, 1)))  # one day inside
    refused(lambda: client_pays(company, D(2025, 12, 1), D(2026, 1, 2)))  # ends one day inside
    refused(lambda: client_pays(company, D(2025, 1, 1)))  # open, from before: covers it all
    refused(lambda: client_pays(company, D(2026, 1, 15), D(2026, 1, 20)))  # inside
    refused(lambda: accountant_pays(company, practice, D(2025, 1, 1), D(2027, 1, 1)))  # around
    assert Licence.objects.filter(company=company).count() == 1


@pytest.mark.django_db
def test_adjacent_and_empty_licences_and_other_companies_are_fine():
    practice = make_practice()
    company = make_company()
    accountant_pays(company, practice, D(2026, 1, 1), D(2026, 3, 1))
    accountant_pays(company, practice, D(2025, 6, 1), D(2026, 1, 1))  # ends the day the first starts
    client_pays(company, D(2026, 2, 10), D(2026, 2, 10))  # empty: covers no day
    client_pays(company, D(2026, 3, 1))  # starts the day the first ends, open
    accountant_pays(make_company("Other Ltd"), practice, D(2026, 1, 1))  # another company
    assert Licence.objects.filter(company=company).count() == 4


@pytest.mark.django_db
def test_an_open_licence_cannot_be_moved_or_stretched_over_another():
    practice = make_practice()
    company = make_company()
    first = accountant_pays(company, practice, D(2026, 1, 1), D(2026, 3, 1))
    later = client_pays(company, D(2026, 3, 1), D(2026, 5, 1))
    refused(lambda: Licence.objects.filter(pk=first.pk).update(ends_on=D(2026, 3, 2)))
    refused(lambda: Licence.objects.filter(pk=first.pk).update(ends_on=None))
    refused(lambda: Licence.objects.filter(pk=later.pk).update(starts_on=D(2026, 2, 28)))
    Licence.objects.filter(pk=first.pk).update(ends_on=D(2026, 2, 1))  # shortening is fine
    Licence.objects.filter(pk=later.pk).update(starts_on=D(2026, 2, 1))  # and so is meeting it again
    later.refresh_from_db()
    assert later.starts_on == D(2026, 2, 1)


@pytest.mark.django_db
def test_a_bulk_insert_of_two_overlapping_rows_is_refused():
    company = make_company()
    rows = [
        Licence(company=company, payer="client", starts_on=D(2026, 1, 1), ends_on=D(2026, 2, 1)),
        Licence(company=company, payer="client", starts_on=D(2026, 1, 31), ends_on=D(2026, 3, 1)),
    ]
    refused(lambda: Licence.objects.bulk_create(rows))
    assert not Licence.objects.filter(company=company).exists()


# --- subscription items -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_overlapping_items_of_one_company_and_service_are_refused():
    payroll, accounts = make_service("t-payroll"), make_service("t-accounts")
    company = make_company()
    subscribe(company, payroll, D(2026, 1, 1), D(2026, 3, 1))
    refused(lambda: subscribe(company, payroll, D(2026, 2, 28)))
    refused(lambda: subscribe(company, payroll, D(2025, 1, 1), D(2026, 1, 2)))
    refused(
        lambda: SubscriptionItem.objects.bulk_create(
            [
                SubscriptionItem(company=company, service=payroll, starts_on=D(2026, 4, 1), ends_on=D(2026, 5, 1)),
                SubscriptionItem(company=company, service=payroll, starts_on=D(2026, 4, 30)),
            ]
        )
    )
    # Adjacent, another service, another company, an empty range: all fine.
    subscribe(company, payroll, D(2026, 3, 1), D(2026, 4, 1))
    subscribe(company, payroll, D(2026, 4, 1))
    subscribe(company, accounts, D(2026, 1, 1))
    subscribe(make_company("Other Ltd"), payroll, D(2026, 1, 1))
    subscribe(company, payroll, D(2026, 2, 1), D(2026, 2, 1))
    assert SubscriptionItem.objects.filter(company=company, service=payroll).count() == 4


@pytest.mark.django_db
def test_reopening_or_moving_an_item_over_another_is_refused():
    payroll = make_service("t-payroll")
    company = make_company()
    ended = subscribe(company, payroll, D(2026, 1, 1), D(2026, 3, 1))
    subscribe(company, payroll, D(2026, 3, 1), D(2026, 6, 1))  # closed: the one-open index is not what refuses
    refused(lambda: SubscriptionItem.objects.filter(pk=ended.pk).update(ends_on=None))
    other = make_company("Other Ltd")
    subscribe(other, payroll, D(2026, 1, 1))
    refused(lambda: SubscriptionItem.objects.filter(pk=ended.pk).update(ends_on=D(2026, 3, 2)))
    SubscriptionItem.objects.filter(pk=ended.pk).update(company=make_company("Third Ltd"))  # no overlap there


@pytest.mark.django_db
def test_overlap_refused_turns_the_database_error_into_a_409_and_leaves_others_alone():
    company = make_company()
    client_pays(company, D(2026, 1, 1))
    with pytest.raises(DatesOverlap) as caught, transaction.atomic(), overlap_refused():
        client_pays(company, D(2026, 6, 1), D(2026, 7, 1))
    assert (caught.value.status, caught.value.code) == (409, "dates_overlap")
    # Not an overlap: the licence one-way trigger's refusal goes through unchanged.
    with pytest.raises(IntegrityError, match="one-way"), transaction.atomic(), overlap_refused():
        accountant_pays(company, make_practice(), D(2020, 1, 1), D(2020, 2, 1))


# --- the code paths never ask for an overlap ------------------------------------------------------------


@pytest.mark.django_db
def test_licence_open_after_a_licence_running_to_the_end_of_today_starts_tomorrow():
    """A practice stopped today (it pays for today: its licence ends tomorrow, exclusive); the company is set up
    again the same day: the new payer starts tomorrow rather than both paying for today."""
    practice = make_practice()
    company = make_company()
    today = D(2026, 3, 16)
    accountant_pays(company, practice, D(2026, 1, 1), today + dt.timedelta(days=1))
    with transaction.atomic():
        new = licence_open(company=company, payer="client", starts_on=today)
    assert (new.starts_on, new.ends_on) == (D(2026, 3, 17), None)


@pytest.mark.django_db
def test_licence_open_cuts_a_licence_not_yet_started_to_nothing_and_starts_on_the_day():
    company = make_company()
    future = client_pays(company, D(2026, 5, 1))
    with transaction.atomic():
        new = licence_open(company=company, payer="client", starts_on=D(2026, 3, 16))
    future.refresh_from_db()
    assert (future.starts_on, future.ends_on) == (D(2026, 5, 1), D(2026, 5, 1))  # empty
    assert new.starts_on == D(2026, 3, 16)


@pytest.mark.django_db
def test_licence_move_to_client_is_adjacent_to_the_practice_licence():
    practice = make_practice()
    company = make_company()
    accountant_pays(company, practice, D(2026, 1, 1))
    with transaction.atomic():
        moved = licence_move_to_client(company=company, stopped_on=D(2026, 3, 16), client_pays_from=D(2026, 3, 17))
    rows = list(Licence.objects.filter(company=company).order_by("starts_on").values_list("starts_on", "ends_on"))
    assert rows == [(D(2026, 1, 1), D(2026, 3, 17)), (D(2026, 3, 17), None)]
    assert moved.payer == "client"


@pytest.mark.django_db
def test_adding_back_a_service_whose_removal_is_scheduled_keeps_the_one_item(monkeypatch):
    monkeypatch.setattr(services, "today", lambda: D(2026, 3, 16))
    setup = make_practice_setup()
    payroll = make_catalogue_service("t-payroll", "10.00")
    acme = accountant_client(setup, "Acme Ltd", payroll)
    item = SubscriptionItem.objects.get(company=acme.company)
    SubscriptionItem.objects.filter(pk=item.pk).update(ends_on=D(2026, 4, 1))  # removal scheduled
    services.subscription_add(actor=setup.admin, company=acme.company, service=payroll)
    assert list(SubscriptionItem.objects.filter(company=acme.company).values_list("ends_on", flat=True)) == [None]


@pytest.mark.django_db
def test_adding_a_service_cancelled_before_it_started_is_allowed(monkeypatch):
    monkeypatch.setattr(services, "today", lambda: D(2026, 3, 16))
    setup = make_practice_setup()
    payroll = make_catalogue_service("t-payroll", "10.00")
    acme = accountant_client(setup, "Acme Ltd")
    SubscriptionItem.objects.create(
        company=acme.company, service=payroll, starts_on=D(2026, 5, 1), ends_on=D(2026, 5, 1)
    )
    item = services.subscription_add(actor=setup.admin, company=acme.company, service=payroll)
    assert (item.starts_on, item.ends_on) == (D(2026, 3, 16), None)


@pytest.mark.django_db
def test_imported_clients_with_a_scheduled_removal_keep_it_instead_of_a_second_item(monkeypatch):
    monkeypatch.setattr(services, "today", lambda: D(2026, 3, 16))
    setup = make_practice_setup()
    payroll = make_catalogue_service("t-payroll", "10.00")
    accounts = make_catalogue_service("t-accounts", "30.00")
    client = imported_client(setup, "Imported Ltd")
    SubscriptionItem.objects.create(
        company=client.company, service=payroll, starts_on=D(2026, 1, 1), ends_on=D(2026, 4, 1)
    )
    services.clients_add_subscriptions(
        member=setup.member, client_ids=[client.pk], services=[payroll, accounts], payer="accountant"
    )
    rows = set(
        SubscriptionItem.objects.filter(company=client.company).values_list("service__code", "starts_on", "ends_on")
    )
    assert rows == {("t-payroll", D(2026, 1, 1), None), ("t-accounts", D(2026, 3, 16), None)}


@pytest.mark.django_db
def test_imported_client_with_a_service_due_later_is_refused_with_a_409_not_an_overlap(monkeypatch):
    monkeypatch.setattr(services, "today", lambda: D(2026, 3, 16))
    setup = make_practice_setup()
    payroll = make_catalogue_service("t-payroll", "10.00")
    client = imported_client(setup, "Imported Ltd")
    SubscriptionItem.objects.create(
        company=client.company, service=payroll, starts_on=D(2026, 5, 1), ends_on=D(2026, 6, 1)
    )
    with pytest.raises(services.AlreadySubscribed, match="due to start on 1 May 2026") as caught:
        services.clients_add_subscriptions(
            member=setup.member, client_ids=[client.pk], services=[payroll], payer="accountant"
        )
    assert caught.value.status == 409
    client.refresh_from_db()
    assert client.tab == "imported"


# --- PostgreSQL: two transactions at once ---------------------------------------------------------------


def _race(writes) -> tuple[int, list[BaseException]]:
    """Run each write in its own thread and transaction, all at once, each holding its transaction open a
    moment after writing so that the others write while it is uncommitted."""
    barrier = threading.Barrier(len(writes))
    done: list[int] = []
    errors: list[BaseException] = []

    def run(write) -> None:
        try:
            barrier.wait(timeout=10)
            with transaction.atomic():
                write()
                time.sleep(0.3)
            done.append(1)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(w,)) for w in writes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return len(done), errors


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has one writer at a time: nothing to race")
@pytest.mark.django_db(transaction=True)
def test_concurrent_overlapping_licences_one_wins():
    company = make_company()
    done, errors = _race(
        [
            lambda: client_pays(company, D(2026, 1, 1), D(2026, 3, 1)),
            lambda: client_pays(company, D(2026, 2, 1), D(2026, 4, 1)),
        ]
    )
    assert done == 1
    assert len(errors) == 1
    assert isinstance(errors[0], IntegrityError)
    assert "overlap" in str(errors[0])
    assert Licence.objects.filter(company=company).count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has one writer at a time: nothing to race")
@pytest.mark.django_db(transaction=True)
def test_concurrent_overlapping_items_one_wins_and_adjacent_ones_both_land():
    payroll = make_service("t-payroll")
    company = make_company()
    done, errors = _race(
        [
            lambda: subscribe(company, payroll, D(2026, 1, 1), D(2026, 3, 1)),
            lambda: subscribe(company, payroll, D(2026, 2, 1), D(2026, 4, 1)),
        ]
    )
    assert (done, len(errors)) == (1, 1)
    assert isinstance(errors[0], IntegrityError)
    other = make_company("Adjacent Ltd")
    done, errors = _race(
        [
            lambda: subscribe(other, payroll, D(2026, 1, 1), D(2026, 3, 1)),
            lambda: subscribe(other, payroll, D(2026, 3, 1), D(2026, 4, 1)),
        ]
    )
    assert (done, errors) == (2, [])
