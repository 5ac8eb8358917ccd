import pytest

from partnerdesk.audit.models import Action, Event
from partnerdesk.compliance.models import AccountsPeriod, Submission
from partnerdesk.compliance.tests.builders import end_relationship, period, setting, submission
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.ledger.tests.builders import signed_in
from partnerdesk.practice.tests.staff_factories import make_client

pytestmark = pytest.mark.django_db


def _url(client_id: int, suffix: str = "") -> str:
    return f"/partner/clients/{client_id}/final-accounts/{suffix}"


def test_list_shows_periods_and_their_submissions():
    s = setting()
    p = period(s.client)
    submission(p, reference="CT-12345")
    response = signed_in(s.admin).get(_url(s.client.pk))
    body = response.content.decode()
    assert response.status_code == 200
    assert "1 Apr 2024 to 31 Mar 2025" in body
    assert "Corporation Tax return (CT600): CT-12345" in body
    assert "Former client" not in body


def test_create_a_period_through_the_form():
    s = setting()
    http = signed_in(s.admin)
    assert http.get(_url(s.client.pk, "periods/add/")).status_code == 200
    response = http.post(_url(s.client.pk, "periods/add/"), {"period_start": "01/04/2024", "period_end": "2025-03-31"})
    assert response.status_code == 302
    assert response["Location"] == _url(s.client.pk)
    p = AccountsPeriod.objects.get()
    assert (str(p.period_start), str(p.period_end), p.client_id) == ("2024-04-01", "2025-03-31", s.client.pk)
    assert "Accounts period added." in http.get(_url(s.client.pk)).content.decode()


def test_period_form_shows_the_services_reason():
    s = setting()
    response = signed_in(s.admin).post(
        _url(s.client.pk, "periods/add/"), {"period_start": "2025-03-31", "period_end": "2024-04-01"}
    )
    assert response.status_code == 400
    assert "The period must end after it starts." in response.content.decode()
    assert not AccountsPeriod.objects.exists()


def test_record_a_submission_through_the_form_files_the_period():
    s = setting()
    p = period(s.client)
    http = signed_in(s.admin)
    url = _url(s.client.pk, f"periods/{p.pk}/submissions/add/")
    assert http.get(url).status_code == 200
    response = http.post(url, {"kind": "accounts", "reference": "CH-778", "submitted_at": "2025-06-30T14:05"})
    assert response.status_code == 302
    sub = Submission.objects.get()
    assert (sub.kind, sub.reference, sub.period_id) == ("accounts", "CH-778", p.pk)
    assert sub.submitted_at.isoformat() == "2025-06-30T13:05:00+00:00"  # 14:05 UK summer time
    p.refresh_from_db()
    assert p.status == "filed"


def test_delete_period_asks_first_then_deletes_on_post():
    s = setting()
    p = period(s.client)
    http = signed_in(s.admin)
    confirm = http.get(_url(s.client.pk, f"periods/{p.pk}/delete/"))
    assert confirm.status_code == 200
    assert "Yes, delete" in confirm.content.decode()
    assert AccountsPeriod.objects.filter(pk=p.pk).exists()
    assert http.post(_url(s.client.pk, f"periods/{p.pk}/delete/")).status_code == 302
    assert not AccountsPeriod.objects.exists()
    assert Event.objects.filter(action=Action.ACCOUNTS_PERIOD_DELETE, client=s.client).exists()


def test_delete_period_with_submissions_is_refused_with_the_reason():
    s = setting()
    p = period(s.client)
    submission(p)
    http = signed_in(s.admin)
    assert "Delete its submissions first." in http.get(_url(s.client.pk, f"periods/{p.pk}/delete/")).content.decode()
    response = http.post(_url(s.client.pk, f"periods/{p.pk}/delete/"), follow=True)
    assert "This period has 1 submission. Delete its submissions first." in response.content.decode()
    assert AccountsPeriod.objects.filter(pk=p.pk).exists()


def test_delete_submission_asks_first_then_deletes_on_post():
    s = setting()
    sub = submission(period(s.client), reference="CT-55")
    http = signed_in(s.admin)
    assert "CT-55" in http.get(_url(s.client.pk, f"submissions/{sub.pk}/delete/")).content.decode()
    assert http.post(_url(s.client.pk, f"submissions/{sub.pk}/delete/")).status_code == 302
    assert not Submission.objects.exists()


def test_restricted_staff_get_404_for_an_unassigned_client_and_200_once_assigned():
    s = setting()
    p = period(s.client)
    http = signed_in(s.restricted.user)
    for suffix in ("", "periods/add/", f"periods/{p.pk}/delete/", f"periods/{p.pk}/submissions/add/"):
        assert http.get(_url(s.client.pk, suffix)).status_code == 404
    assert http.post(_url(s.client.pk, f"periods/{p.pk}/delete/")).status_code == 404
    assert AccountsPeriod.objects.filter(pk=p.pk).exists()
    s.client.assignments.create(member=s.restricted)
    assert http.get(_url(s.client.pk)).status_code == 200


def test_another_practice_and_non_members_get_404():
    s = setting()
    sub = submission(period(s.client))
    for user in (s.other_admin, UserFactory.create(email="stranger@example.test")):
        http = signed_in(user)
        assert http.get(_url(s.client.pk)).status_code == 404
        assert http.post(_url(s.client.pk, f"submissions/{sub.pk}/delete/")).status_code == 404
    assert Submission.objects.filter(pk=sub.pk).exists()


def test_a_period_of_another_client_is_404_under_this_client():
    s = setting()
    theirs = period(make_client(s.practice, "Beta Ltd"))
    http = signed_in(s.admin)
    assert http.get(_url(s.client.pk, f"periods/{theirs.pk}/delete/")).status_code == 404
    assert http.get(_url(s.client.pk, f"periods/{2**63}/delete/")).status_code == 404
    assert http.get(_url(2**63)).status_code == 404


def test_a_former_client_is_still_reachable_with_its_data():
    s = setting()
    period(s.client)
    end_relationship(s.client)
    body = signed_in(s.admin).get(_url(s.client.pk)).content.decode()
    assert "Former client" in body
    assert "1 Apr 2024 to 31 Mar 2025" in body
