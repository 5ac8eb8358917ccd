import datetime as dt
import re

import pytest
from django.db.models import ProtectedError
from django.utils import timezone

from partnerdesk.audit.models import Action, Event
from partnerdesk.compliance import services
from partnerdesk.compliance.models import AccountsPeriod, Submission
from partnerdesk.compliance.services import (
    ClientNotActive,
    FinalAccountsInvalid,
    PeriodHasSubmissions,
    PeriodOverlaps,
)
from partnerdesk.compliance.tests.builders import end_relationship, period, setting, submission
from partnerdesk.lib.errors import NotFound
from partnerdesk.practice.models import Client
from partnerdesk.practice.selectors import member_for_user
from partnerdesk.practice.tests.staff_factories import make_client

pytestmark = pytest.mark.django_db
APR, MAR = dt.date(2024, 4, 1), dt.date(2025, 3, 31)
FILED_AT = dt.datetime(2025, 6, 30, 14, 5, tzinfo=dt.UTC)


def _create(s, start=APR, end=MAR, member=None, client=None):
    return services.accounts_period_create(
        member=member or s.member, client_id=(client or s.client).pk, period_start=start, period_end=end
    )


def _submit(s, p, kind="accounts", reference="CH-0001", at=FILED_AT):
    return services.submission_create(
        member=s.member, client_id=s.client.pk, period_id=p.pk, kind=kind, reference=reference, submitted_at=at
    )


def test_create_a_period_as_draft_and_audit_it_in_the_clients_history():
    s = setting()
    p = _create(s)
    assert (p.practice, p.client, p.status, p.created_by) == (s.practice, s.client, "draft", s.admin)
    event = Event.objects.get(action=Action.ACCOUNTS_PERIOD_CREATE)
    assert (event.practice_id, event.client_id, event.company_id) == (s.practice.pk, s.client.pk, s.client.company_id)
    assert event.data == {"period_id": p.pk, "period_start": "2024-04-01", "period_end": "2025-03-31"}


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (MAR, APR, "The period must end after it starts."),
        (APR, APR, "The period must end after it starts."),
        (APR, dt.date(2025, 10, 1), "at most 18 months"),
        (dt.date(1899, 1, 1), MAR, "between 1900 and 2099"),
    ],
)
def test_period_dates_are_checked(start, end, message):
    s = setting()
    with pytest.raises(FinalAccountsInvalid, match=message):
        _create(s, start, end)
    assert not AccountsPeriod.objects.exists()


def test_an_18_month_first_period_is_allowed():
    s = setting()
    assert _create(s, dt.date(2024, 1, 1), dt.date(2025, 6, 30)).pk


def test_overlapping_periods_are_refused():
    s = setting()
    _create(s)
    with pytest.raises(PeriodOverlaps, match="overlaps the one from 1 Apr 2024 to 31 Mar 2025"):
        _create(s, dt.date(2025, 3, 31), dt.date(2026, 3, 30))
    assert _create(s, dt.date(2025, 4, 1), dt.date(2026, 3, 31)).pk  # the next year is fine


def test_pending_and_imported_clients_cannot_get_final_accounts_data():
    s = setting(tab=Client.Tab.IMPORTED)
    with pytest.raises(ClientNotActive):
        _create(s)


def test_a_former_client_stays_reachable_and_keeps_its_data():
    s = setting()
    p = _create(s)
    end_relationship(s.client)
    assert _submit(s, p).period_id == p.pk
    assert _create(s, dt.date(2025, 4, 1), dt.date(2026, 3, 31)).pk  # e.g. the last year's accounts after a transfer


def test_another_practice_and_unassigned_restricted_staff_get_not_found():
    s = setting()
    p = period(s.client)
    other = member_for_user(user=s.other_admin)
    for member in (other, s.restricted):
        with pytest.raises(NotFound):
            _create(s, member=member)
        with pytest.raises(NotFound):
            services.accounts_period_delete(member=member, client_id=s.client.pk, period_id=p.pk)
    s.client.assignments.create(member=s.restricted)
    services.accounts_period_delete(member=s.restricted, client_id=s.client.pk, period_id=p.pk)
    assert not AccountsPeriod.objects.exists()


def test_deleting_a_period_is_refused_while_it_has_submissions():
    s = setting()
    p = _create(s)
    sub = _submit(s, p, kind="ct600")
    with pytest.raises(PeriodHasSubmissions, match=re.escape("has 1 submission. Delete its submissions first.")):
        services.accounts_period_delete(member=s.member, client_id=s.client.pk, period_id=p.pk)
    assert AccountsPeriod.objects.filter(pk=p.pk).exists()
    services.submission_delete(member=s.member, client_id=s.client.pk, submission_id=sub.pk)
    services.accounts_period_delete(member=s.member, client_id=s.client.pk, period_id=p.pk)
    assert not AccountsPeriod.objects.exists()
    actions = list(Event.objects.filter(client=s.client).order_by("id").values_list("action", flat=True))
    assert actions == [
        Action.ACCOUNTS_PERIOD_CREATE,
        Action.SUBMISSION_CREATE,
        Action.SUBMISSION_DELETE,
        Action.ACCOUNTS_PERIOD_DELETE,
    ]


def test_recording_accounts_files_the_period_and_deleting_them_puts_it_back_to_draft():
    s = setting()
    p = _create(s)
    ct600 = _submit(s, p, kind="ct600", reference="CT-9")
    p.refresh_from_db()
    assert p.status == "draft"  # a tax return alone does not file the accounts
    accounts = _submit(s, p, kind="accounts", reference="  CH-1  ")
    assert accounts.reference == "CH-1"
    p.refresh_from_db()
    assert p.status == "filed"
    services.submission_delete(member=s.member, client_id=s.client.pk, submission_id=accounts.pk)
    p.refresh_from_db()
    assert p.status == "draft"
    assert Submission.objects.get().pk == ct600.pk


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "vat"}, "Choose what was submitted"),
        ({"reference": "   "}, "Enter the submission's reference"),
        ({"reference": "x" * 101}, "at most 100 characters"),
        ({"reference": "a\x00b"}, "control characters"),
        ({"at": dt.datetime(2025, 6, 30, 12)}, "with its time zone"),
        ({"at": timezone.now() + dt.timedelta(days=1)}, "cannot be in the future"),
        ({"at": dt.datetime(2025, 3, 1, tzinfo=dt.UTC)}, "after its period ends (31 Mar 2025)"),
    ],
)
def test_submission_values_are_checked(kwargs, message):
    s = setting()
    p = _create(s)
    with pytest.raises(FinalAccountsInvalid, match=re.escape(message)):
        _submit(s, p, **kwargs)
    assert not Submission.objects.exists()


def test_a_submission_of_another_clients_period_is_not_found():
    s = setting()
    other_client = make_client(s.practice, "Beta Ltd")
    theirs = period(other_client)
    with pytest.raises(NotFound):
        _submit(s, theirs)
    sub = submission(theirs)
    with pytest.raises(NotFound):
        services.submission_delete(member=s.member, client_id=s.client.pk, submission_id=sub.pk)
    assert Submission.objects.filter(pk=sub.pk).exists()


def test_a_client_cannot_be_deleted_while_it_has_an_accounts_period():
    s = setting()
    p = period(s.client)
    with pytest.raises(ProtectedError):
        Client.all_objects.filter(pk=s.client.pk).delete()
    submission(p)
    with pytest.raises(ProtectedError):
        p.delete()
    assert Client.all_objects.filter(pk=s.client.pk).exists()
