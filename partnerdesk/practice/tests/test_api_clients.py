import pytest
from django.test import Client as HttpClient

from partnerdesk.identity.models import CompanyMembership
from partnerdesk.identity.services import company_create
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.practice.models import Client, Practice, PracticeMember

pytestmark = pytest.mark.django_db
API = "/api/v1/practice/clients"


def _practice(name, email):
    practice = Practice.objects.create(company=company_create(business_name=name), name=name)
    user = UserFactory.create(email=email)
    PracticeMember.objects.create(practice=practice, user=user, role="admin")
    http = HttpClient()
    http.force_login(user)
    return practice, http


def _client(practice, name, **facts):
    return Client.objects.create(
        practice=practice, company=company_create(business_name=name), business_name=name, **facts
    )


def test_list_filters_and_pages_like_the_ui():
    practice, http = _practice("Mine LLP", "me@mine.test")
    for i in range(60):
        _client(practice, f"Client {i:02d} Ltd", access="invited" if i % 2 else "none")
    _client(practice, "Hidden Ltd", hidden=True)
    body = http.get(API, {"access": "invited", "sort": "name", "dir": "desc"}).json()
    assert (body["count"], body["pages"]) == (30, 1)
    assert body["results"][0]["business_name"] == "Client 59 Ltd"
    assert body["results"][0]["access_label"] == "Awaiting Client Activation"
    page2 = http.get(API, {"page": 2}).json()
    assert (page2["count"], page2["page"], len(page2["results"])) == (60, 2, 10)
    assert http.get(API, {"hidden": "true", "q": "Hidden"}).json()["count"] == 1
    assert http.get(API, {"tab": "nope"}).status_code == 422


def test_a_page_past_the_end_is_empty_not_the_last_page_again():
    practice, http = _practice("Mine LLP", "me@mine.test")
    for i in range(60):
        _client(practice, f"Client {i:02d} Ltd")
    past = http.get(API, {"page": 99}).json()
    assert (past["count"], past["page"], past["pages"], past["results"]) == (60, 99, 2, [])
    assert http.get(API, {"page": 3}).json()["results"] == []
    assert len(http.get(API, {"page": 2}).json()["results"]) == 10
    assert http.get(API, {"page": 0}).status_code == 422
    empty = http.get(API, {"tab": "pending"}).json()
    assert (empty["count"], empty["page"], empty["pages"], empty["results"]) == (0, 1, 1, [])


def test_add_amend_with_version_and_conflict():
    _, http = _practice("Mine LLP", "me@mine.test")
    bad = http.post(API, {"business_name": "X", "vat_number": "123"}, content_type="application/json")
    assert (bad.status_code, bad.json()["code"]) == (422, "client_details_invalid")
    assert "vat_number" in bad.json()["fields"]
    created = http.post(API, {"business_name": "New Co Ltd", "postcode": "ls1 4ap"}, content_type="application/json")
    assert created.status_code == 201
    client = created.json()
    assert (client["tab"], client["access"], client["payer"], client["postcode"], client["version"]) == (
        "active",
        "none",
        "accountant",
        "LS1 4AP",
        1,
    )
    url = f"{API}/{client['id']}"
    updated = http.put(url, {"business_name": "New Co Trading Ltd", "version": 1}, content_type="application/json")
    assert updated.json()["version"] == 2
    stale = http.put(url, {"business_name": "Overwrite Ltd", "version": 1}, content_type="application/json")
    assert (stale.status_code, stale.json()["code"]) == (409, "client_details_stale")
    assert http.get(url).json()["business_name"] == "New Co Trading Ltd"


def test_amending_the_email_of_a_client_awaiting_activation_is_refused():
    practice, http = _practice("Mine LLP", "me@mine.test")
    client = _client(practice, "Alpha Ltd", email="old@alpha.test", access="invited")
    url = f"{API}/{client.pk}"
    refused = http.put(url, {"business_name": "Alpha Ltd", "version": 1}, content_type="application/json")
    assert (refused.status_code, refused.json()["code"]) == (409, "client_email_locked")
    assert "awaiting activation at old@alpha.test" in refused.json()["detail"]
    assert http.get(url).json()["email"] == "old@alpha.test"
    kept = {"business_name": "Alpha Ltd", "email": "old@alpha.test", "phone": "0161 000 0000", "version": 1}
    assert http.put(url, kept, content_type="application/json").status_code == 200


def test_bulk_visibility_delete_and_export():
    practice, http = _practice("Mine LLP", "me@mine.test")
    a = _client(practice, "Alpha Ltd")
    b = _client(practice, "Beta Ltd", tab="imported")
    hide = http.post(f"{API}/visibility", {"client_ids": [a.pk, b.pk], "hidden": True}, content_type="application/json")
    assert hide.json() == {"changed": 2}
    assert http.delete(f"{API}/{a.pk}").json()["code"] == "client_not_deletable"
    deleted = http.delete(f"{API}/{b.pk}")
    assert (deleted.status_code, deleted.content, deleted.has_header("Content-Type")) == (204, b"", False)
    csv = b"".join(http.get(f"{API}/export.csv", {"hidden": "true"}).streaming_content).decode("utf-8-sig")
    assert "Alpha Ltd" in csv


def test_another_practices_client_is_404_on_every_endpoint():
    _, http = _practice("Mine LLP", "me@mine.test")
    theirs, _ = _practice("Theirs LLP", "them@theirs.test")
    other = _client(theirs, "Theirs Client Ltd", tab="imported")
    url = f"{API}/{other.pk}"
    assert http.get(url).status_code == 404
    assert http.put(url, {"business_name": "Mine", "version": 1}, content_type="application/json").status_code == 404
    assert http.delete(url).status_code == 404
    changed = http.post(
        f"{API}/visibility", {"client_ids": [other.pk], "hidden": True}, content_type="application/json"
    )
    assert changed.json() == {"changed": 0}
    assert other.pk not in [c["id"] for c in http.get(API, {"tab": "imported"}).json()["results"]]
    other.refresh_from_db()
    assert (other.business_name, other.hidden) == ("Theirs Client Ltd", False)


def test_non_members_get_404():
    http = HttpClient()
    http.force_login(UserFactory.create())
    assert http.get(API).status_code == 404


def test_declining_a_new_client_invitation_is_a_204_without_a_body():
    practice, http = _practice("Mine LLP", "me@mine.test")
    practice.contact_email = "hello@mine.test"
    practice.save()
    owner = UserFactory.create(email="owner@acme.test")
    company = company_create(business_name="Acme Ltd", owner_email=owner.email, owner=owner)
    CompanyMembership.objects.create(user=owner, company=company, role="owner")
    owner_http = HttpClient()
    owner_http.force_login(owner)
    invited = owner_http.post(
        f"/api/v1/companies/{company.customer_number}/accountant-invitation",
        {"email": "hello@mine.test"},
        content_type="application/json",
    )
    assert invited.status_code == 202
    client = Client.objects.get(company=company, practice=practice)
    declined = http.post(f"{API}/{client.pk}/invitation", {"decision": "decline"}, content_type="application/json")
    assert (declined.status_code, declined.content, declined.has_header("Content-Type")) == (204, b"", False)
