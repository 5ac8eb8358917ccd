"""Import CSV in the JSON API: upload -> preview batch -> fix / drop rows -> commit; another practice's is 404."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient

from partnerdesk.identity.services import company_create
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.practice.models import Client, ImportBatch, Practice, PracticeMember

pytestmark = pytest.mark.django_db
API = "/api/v1/practice/imports"
CSV = "Name;Email;VAT\nAlpha Ltd;a@alpha.test;GB123456789\nBeta Ltd;b@beta;\nGamma Ltd;;\n"


def _practice(name, email):
    practice = Practice.objects.create(company=company_create(business_name=name), name=name)
    user = UserFactory.create(email=email)
    PracticeMember.objects.create(practice=practice, user=user, role="admin")
    http = HttpClient()
    http.force_login(user)
    return practice, http


def _upload(http, content=CSV, name="clients.csv"):
    data = content.encode() if isinstance(content, str) else content
    return http.post(API, {"file": SimpleUploadedFile(name, data, "text/csv")})


def test_upload_fix_drop_commit_and_commit_again():
    practice, http = _practice("Mine LLP", "me@mine.test")
    created = _upload(http)
    assert created.status_code == 201
    batch = created.json()
    assert batch["counts"] == {"total": 3, "ready": 2, "problems": 1, "dropped": 0}
    assert batch["rows"][1]["problems"][0]["code"] == "invalid_email"
    assert batch["rows"][0]["ready"] is True
    url = f"{API}/{batch['id']}"
    fixed = http.patch(f"{url}/rows/2", {"values": {"email": "b@beta.test"}}, content_type="application/json")
    assert fixed.status_code == 200
    assert (fixed.json()["problems"], fixed.json()["values"]["business_name"]) == ([], "Beta Ltd")
    dropped = http.patch(f"{url}/rows/3", {"dropped": True}, content_type="application/json")
    assert (dropped.json()["dropped"], dropped.json()["ready"]) == (True, False)
    assert http.get(url, {"show": "dropped"}).json()["rows"][0]["index"] == 3
    committed = http.post(f"{url}/commit")
    assert committed.status_code == 200
    assert (committed.json()["imported"], committed.json()["skipped"]) == (2, 1)
    assert committed.json()["batch"]["status"] == "imported"
    names = set(Client.objects.filter(practice=practice, tab="imported").values_list("business_name", flat=True))
    assert names == {"Alpha Ltd", "Beta Ltd"}
    again = http.post(f"{url}/commit").json()
    assert (again["imported"], again["already_imported"]) == (0, True)
    assert Client.objects.filter(tab="imported").count() == 2
    late = http.patch(f"{url}/rows/3", {"dropped": False}, content_type="application/json")
    assert (late.status_code, late.json()["code"]) == (409, "import_not_draft")
    assert http.delete(url).status_code == 409


def test_a_row_page_past_the_end_is_empty():
    _, http = _practice("Mine LLP", "me@mine.test")
    url = f"{API}/{_upload(http).json()['id']}"
    past = http.get(url, {"page": 99}).json()
    assert (past["page"], past["pages"], past["rows"], past["counts"]["total"]) == (99, 1, [], 3)
    assert len(http.get(url, {"page": 1}).json()["rows"]) == 3
    assert http.get(url, {"page": 0}).status_code == 422


def test_discard():
    _, http = _practice("Mine LLP", "me@mine.test")
    url = f"{API}/{_upload(http).json()['id']}"
    assert http.delete(url).status_code == 204
    assert http.get(url).json()["status"] == "discarded"
    assert http.post(f"{url}/commit").status_code == 409
    assert Client.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "name", "status", "code"),
    [
        ("Contact\nAnn\n", "a.csv", 422, "import_file_invalid"),
        ("Name\nCaf\xe9\n".encode("latin-1"), "a.csv", 422, "import_file_invalid"),
        (b"Name\n" + b"A" * (20 * 1024 * 1024), "a.csv", 413, "import_file_too_large"),
    ],
)
def test_bad_uploads_are_problems(content, name, status, code):
    _, http = _practice("Mine LLP", "me@mine.test")
    response = _upload(http, content, name)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert response["Content-Type"] == "application/problem+json"
    assert not ImportBatch.objects.exists()


def test_another_practices_batch_is_404():
    _, mine = _practice("Mine LLP", "me@mine.test")
    _, theirs = _practice("Theirs LLP", "them@theirs.test")
    url = f"{API}/{_upload(theirs).json()['id']}"
    assert mine.get(url).status_code == 404
    assert mine.patch(f"{url}/rows/1", {"dropped": True}, content_type="application/json").status_code == 404
    assert mine.post(f"{url}/commit").status_code == 404
    assert mine.delete(url).status_code == 404
    assert theirs.get(url).json()["status"] == "draft"
    assert mine.patch(f"{API}/2/rows/99999", {}, content_type="application/json").status_code == 404
    assert theirs.patch(f"{url}/rows/99", {}, content_type="application/json").status_code == 404
