import pytest

from partnerdesk.compliance.models import AccountsPeriod, Submission
from partnerdesk.compliance.tests.builders import end_relationship, period, setting, submission
from partnerdesk.ledger.tests.builders import signed_in

pytestmark = pytest.mark.django_db


def _api(client_id: int, suffix: str) -> str:
    return f"/api/v1/practice/clients/{client_id}/final-accounts/{suffix}"


def test_create_list_and_delete_periods_and_submissions():
    s = setting()
    http = signed_in(s.admin)
    created = http.post(
        _api(s.client.pk, "periods"),
        {"period_start": "2024-04-01", "period_end": "2025-03-31"},
        content_type="application/json",
    )
    assert created.status_code == 201
    p = created.json()
    assert (p["status"], p["client_id"], p["submissions"]) == ("draft", s.client.pk, [])
    filed = http.post(
        _api(s.client.pk, f"periods/{p['id']}/submissions"),
        {"kind": "accounts", "reference": "CH-1", "submitted_at": "2025-06-30T14:05:00+01:00"},
        content_type="application/json",
    )
    assert filed.status_code == 201
    assert (filed.json()["kind_label"], filed.json()["period_id"]) == ("Companies House accounts", p["id"])
    listed = http.get(_api(s.client.pk, "periods")).json()
    assert [(x["id"], x["status"], len(x["submissions"])) for x in listed] == [(p["id"], "filed", 1)]
    assert [x["reference"] for x in http.get(_api(s.client.pk, "submissions")).json()] == ["CH-1"]
    assert http.get(_api(s.client.pk, f"periods/{p['id']}")).json()["status"] == "filed"

    refused = http.delete(_api(s.client.pk, f"periods/{p['id']}"))
    assert (refused.status_code, refused.json()["code"]) == (409, "accounts_period_has_submissions")
    assert "Delete its submissions first." in refused.json()["detail"]
    assert http.delete(_api(s.client.pk, f"submissions/{filed.json()['id']}")).status_code == 204
    assert http.delete(_api(s.client.pk, f"periods/{p['id']}")).status_code == 204
    assert not AccountsPeriod.objects.exists()


def test_bad_input_is_a_problem():
    s = setting()
    p = period(s.client)
    http = signed_in(s.admin)
    backwards = http.post(
        _api(s.client.pk, "periods"),
        {"period_start": "2025-03-31", "period_end": "2024-04-01"},
        content_type="application/json",
    )
    assert (backwards.status_code, backwards.json()["code"]) == (422, "final_accounts_invalid")
    naive = http.post(
        _api(s.client.pk, f"periods/{p.pk}/submissions"),
        {"kind": "ct600", "reference": "CT-1", "submitted_at": "2025-06-30T14:05:00"},
        content_type="application/json",
    )
    assert (naive.status_code, naive.json()["code"]) == (422, "validation_error")
    assert not Submission.objects.exists()


def test_restricted_staff_and_other_practices_get_404():
    s = setting()
    p = period(s.client)
    sub = submission(p)
    for user in (s.restricted.user, s.other_admin):
        http = signed_in(user)
        assert http.get(_api(s.client.pk, "periods")).status_code == 404
        assert http.delete(_api(s.client.pk, f"submissions/{sub.pk}")).status_code == 404
        response = http.delete(_api(s.client.pk, f"periods/{p.pk}"))
        assert (response.status_code, response["Content-Type"]) == (404, "application/problem+json")
    assert Submission.objects.filter(pk=sub.pk).exists()


def test_a_former_client_is_reachable_in_the_api():
    s = setting()
    period(s.client)
    end_relationship(s.client)
    assert len(signed_in(s.admin).get(_api(s.client.pk, "periods")).json()) == 1
