import datetime as dt

import pytest

from partnerdesk.ledger.models import Entry
from partnerdesk.ledger.tests.builders import signed_in, world
from partnerdesk.practice.models import Client

pytestmark = pytest.mark.django_db


def _api(number: str) -> str:
    return f"/api/v1/companies/{number}/ledger"


def _post(http, number, **body):
    payload = {"date": "2025-04-01", "description": "Sale", "amount": "12.50", **body}
    return http.post(_api(number), payload, content_type="application/json")


def test_company_user_adds_and_lists_entries():
    w = world()
    http = signed_in(w.company_user)
    created = _post(http, w.number)
    assert created.status_code == 201
    assert created.json()["amount"] in ("12.50", 12.5)
    assert created.json()["description"] == "Sale"
    listed = http.get(_api(w.number)).json()
    assert (listed["count"], listed["page"], listed["pages"]) == (1, 1, 1)
    assert listed["results"][0]["id"] == created.json()["id"]


def test_practice_member_adds_and_lists_and_pages():
    w = world()
    Entry.objects.bulk_create(
        Entry(company=w.client.company, date=dt.date(2025, 1, 1), description=f"E{i}", amount=1) for i in range(55)
    )
    http = signed_in(w.practice_admin)
    assert _post(http, w.number, amount=-3).status_code == 201
    page2 = http.get(_api(w.number), {"page": 2}).json()
    assert (page2["count"], page2["page"], page2["pages"], len(page2["results"])) == (56, 2, 2, 6)
    past = http.get(_api(w.number), {"page": 99}).json()
    assert (past["count"], past["page"], past["pages"], past["results"]) == (56, 99, 2, [])


@pytest.mark.parametrize("who", ["other_admin", "stranger"])
def test_others_get_a_problem_404(who):
    w = world()
    http = signed_in(getattr(w, who))
    for response in (http.get(_api(w.number)), _post(http, w.number)):
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "not_found"
    assert not Entry.objects.exists()


def test_disabled_client_is_403_for_its_users_but_not_for_the_practice():
    w = world(access=Client.Access.DISABLED)
    for response in (signed_in(w.company_user).get(_api(w.number)), _post(signed_in(w.company_user), w.number)):
        assert response.status_code == 403
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "company_access_disabled"
        assert "results" not in response.json()
    assert not Entry.objects.exists()
    assert signed_in(w.practice_admin).get(_api(w.number)).status_code == 200
    assert _post(signed_in(w.practice_admin), w.number).status_code == 201


def test_bad_input_is_a_422_problem():
    w = world()
    http = signed_in(w.company_user)
    zero = _post(http, w.number, amount="0")
    assert (zero.status_code, zero.json()["code"]) == (422, "ledger_entry_invalid")
    assert "amount" in zero.json()["fields"]
    assert _post(http, w.number, amount="1.234").status_code == 422
    assert _post(http, w.number, date="1800-01-01").status_code == 422
    assert _post(http, w.number, description="").status_code == 422
    assert http.get(_api("abc")).status_code == 422
    assert not Entry.objects.exists()


def test_signed_out_is_401():
    from django.test import Client as HttpClient

    w = world()
    assert HttpClient().get(_api(w.number)).status_code == 401
