import pytest

from partnerdesk.compliance.selectors import (
    client_for_compliance,
    has_final_accounts_data,
    periods_for_client,
)
from partnerdesk.compliance.tests.builders import end_relationship, period, setting, submission
from partnerdesk.lib.errors import NotFound
from partnerdesk.practice.models import Client
from partnerdesk.practice.selectors import member_for_user
from partnerdesk.practice.tests.staff_factories import make_client

pytestmark = pytest.mark.django_db


def test_has_final_accounts_data_is_true_with_a_period_and_false_without():
    s = setting()
    assert has_final_accounts_data(client=s.client) is False
    p = period(s.client)
    assert has_final_accounts_data(client=s.client) is True
    submission(p)
    other = make_client(s.practice, "Beta Ltd")
    assert has_final_accounts_data(client=other) is False


def test_has_final_accounts_data_sees_ended_relationships():
    s = setting()
    period(s.client)
    end_relationship(s.client)
    former = Client.all_objects.get(pk=s.client.pk)
    assert has_final_accounts_data(client=former) is True


def test_former_clients_are_reachable_by_compliance_only():
    s = setting()
    end_relationship(s.client)
    assert not Client.objects.filter(pk=s.client.pk).exists()  # gone from the client list
    assert client_for_compliance(member=s.member, client_id=s.client.pk).pk == s.client.pk


def test_restricted_staff_reach_only_assigned_clients_and_other_practices_nothing():
    s = setting()
    with pytest.raises(NotFound):
        client_for_compliance(member=s.restricted, client_id=s.client.pk)
    with pytest.raises(NotFound):
        client_for_compliance(member=member_for_user(user=s.other_admin), client_id=s.client.pk)
    s.client.assignments.create(member=s.restricted)
    assert client_for_compliance(member=s.restricted, client_id=s.client.pk) == s.client


def test_periods_newest_first_with_submissions_in_two_queries(django_assert_num_queries):
    s = setting()
    old = period(s.client, "2023-04-01", "2024-03-31")
    new = period(s.client, "2024-04-01", "2025-03-31")
    submission(old, reference="A")
    submission(new, reference="B")
    submission(new, kind="accounts", reference="C")
    with django_assert_num_queries(2):
        periods = list(periods_for_client(client=s.client))
        refs = [[x.reference for x in p.submissions.all()] for p in periods]
    assert [p.pk for p in periods] == [new.pk, old.pk]
    assert refs == [["B", "C"], ["A"]]
