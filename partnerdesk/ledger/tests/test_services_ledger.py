import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import transaction

from partnerdesk.audit.models import Action, Event
from partnerdesk.identity.services import company_create
from partnerdesk.ledger import services
from partnerdesk.ledger.models import Entry
from partnerdesk.ledger.tests.builders import world
from partnerdesk.ledger.values import EntryInvalid
from partnerdesk.lib.errors import NotFound

pytestmark = pytest.mark.django_db


def _add(user, company, amount="10.00", description="Sale"):
    return services.entry_add(
        user=user, company=company, date=dt.date(2025, 4, 1), description=description, amount=Decimal(amount)
    )


def test_practice_side_entry_is_audited_in_the_clients_history():
    w = world()
    entry = _add(w.practice_admin, w.client.company)
    event = Event.objects.get(action=Action.LEDGER_ENTRY_ADD)
    assert (event.actor, event.company_id, event.client_id, event.practice_id) == (
        w.practice_admin,
        w.client.company.pk,
        w.client.pk,
        w.practice.pk,
    )
    assert event.data == {"entry_id": entry.pk, "date": "2025-04-01", "amount": "10.00"}


def test_company_side_entry_is_audited_on_the_company():
    w = world()
    _add(w.company_user, w.client.company)
    event = Event.objects.get(action=Action.LEDGER_ENTRY_ADD)
    assert (event.actor, event.company_id, event.client_id) == (w.company_user, w.client.company.pk, None)


def test_the_service_itself_refuses_people_without_access():
    w = world()
    with pytest.raises(NotFound):
        _add(w.other_admin, w.client.company)
    with pytest.raises(NotFound):
        services.entries_import_csv(
            user=w.stranger, company=w.client.company, file=io.BytesIO(b"date,description,amount\n2025-04-01,x,1\n")
        )
    assert not Entry.objects.exists()


@pytest.mark.parametrize(
    ("amount", "description", "message"),
    [
        ("0", "Sale", "Amount is zero"),
        ("1.005", "Sale", "has more than 2 decimal places"),
        ("10", "   ", "Description is missing"),
        ("10", "nul\x00byte", "Description contains control characters"),
    ],
)
def test_entry_add_refuses_bad_values(amount, description, message):
    w = world()
    with pytest.raises(EntryInvalid, match=message) as caught:
        _add(w.company_user, w.client.company, amount=amount, description=description)
    assert caught.value.status == 422
    assert not Entry.objects.exists()
    assert not Event.objects.filter(action=Action.LEDGER_ENTRY_ADD).exists()


def test_ledger_delete_for_company_deletes_only_that_companys_entries():
    w = world()
    other = company_create(business_name="Other Co Ltd")
    for _ in range(3):
        _add(w.company_user, w.client.company)
    Entry.objects.create(company=other, date=dt.date(2025, 4, 1), description="Keep", amount=Decimal("5"))
    with transaction.atomic():
        assert services.ledger_delete_for_company(company=w.client.company) == 3
    assert not Entry.objects.filter(company=w.client.company).exists()
    assert list(Entry.objects.values_list("description", flat=True)) == ["Keep"]


def test_ledger_delete_for_company_with_nothing_to_delete_returns_zero():
    w = world()
    with transaction.atomic():
        assert services.ledger_delete_for_company(company=w.client.company) == 0


@pytest.mark.django_db(transaction=True)
def test_ledger_delete_for_company_refuses_to_run_outside_a_transaction():
    w = world()
    _add(w.company_user, w.client.company)
    with pytest.raises(RuntimeError, match="inside the calling service's transaction"):
        services.ledger_delete_for_company(company=w.client.company)
    assert Entry.objects.filter(company=w.client.company).count() == 1


def test_import_inserts_in_batches_with_a_bounded_number_of_queries(django_assert_max_num_queries):
    w = world()
    content = "date,description,amount\n" + "".join(f"2025-04-01,Row {i},{i + 1}\n" for i in range(2500))
    # Set-based: a handful of inserts for 2,500 rows, not one per row (SQLite splits each batch of 1,000
    # by its bound-variable limit, so about 16 there, 3 on PostgreSQL), plus access checks and one event.
    with django_assert_max_num_queries(30):
        count = services.entries_import_csv(
            user=w.company_user, company=w.client.company, file=io.BytesIO(content.encode())
        )
    assert count == 2500
    assert Entry.objects.filter(company=w.client.company).count() == 2500
