"""Import CSV (issue 5): upload -> preview with problems -> fix / drop -> import onto the Imported tab."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient

from partnerdesk.audit.models import Event
from partnerdesk.identity.models import Company
from partnerdesk.identity.services import company_create
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.practice import import_services
from partnerdesk.practice.models import Client, ImportBatch, Practice, PracticeMember

pytestmark = pytest.mark.django_db

CSV = (
    "Business name,Contact,Email,VAT number,Postcode\n"
    "Alpha Bakery,Ann,ann@alpha.test,GB123456789,ls1 4ap\n"
    "Beta Joinery,Bob,bob@beta,,\n"  # bad email
    "Existing Ltd,,,,\n"  # already a client
    "Gamma Garage,Gus,gus@gamma.test,,\n"
    "gamma garage,,,,\n"  # same name as row 4
)


def _practice(name, email):
    practice = Practice.objects.create(company=company_create(business_name=name), name=name)
    user = UserFactory.create(email=email)
    member = PracticeMember.objects.create(practice=practice, user=user, role="admin")
    http = HttpClient()
    http.force_login(user)
    return member, http


@pytest.fixture
def mine():
    member, http = _practice("Mine LLP", "me@mine.test")
    Client.objects.create(
        practice=member.practice, company=company_create(business_name="Existing Ltd"), business_name="Existing Ltd"
    )
    return member, http


def _upload(http, content=CSV, name="clients.csv", **extra):
    data = content.encode() if isinstance(content, str) else content
    return http.post("/partner/clients/import/", {"file": SimpleUploadedFile(name, data, "text/csv")}, **extra)


def test_clients_page_links_to_import(mine):
    _, http = mine
    body = http.get("/partner/clients/").content.decode()
    assert 'href="/partner/clients/import/"' in body
    assert "Import CSV" in body


def test_upload_shows_each_rows_problems_and_counts(mine):
    _, http = mine
    response = _upload(http)
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/partner/clients/import/{batch.pk}/"
    body = http.get(response["Location"]).content.decode()
    assert "5 rows: <strong>2 ready to import</strong>, 3 with problems, 0 dropped." in body
    assert "Enter a valid email address." in body
    assert "A client with this business name already exists." in body
    assert "Same business name as row 4." in body
    assert "Import 2 clients" in body
    problems_only = http.get(response["Location"], {"show": "problems"}).content.decode()
    assert "Beta Joinery" in problems_only
    assert "Alpha Bakery" not in problems_only


def test_fix_drop_then_import_only_good_rows_onto_the_imported_tab(mine):
    member, http = mine
    _upload(http)
    batch = ImportBatch.objects.get()
    url = f"/partner/clients/import/{batch.pk}/"
    # A fix that is still wrong stays on the form with the error.
    still_bad = http.post(f"{url}rows/2/", {"business_name": "Beta Joinery", "email": "bob@"})
    assert still_bad.status_code == 400
    assert "Enter a valid email address." in still_bad.content.decode()
    fixed = http.post(
        f"{url}rows/2/", {"business_name": "Beta Joinery", "contact_name": "Bob", "email": "bob@beta.test"}
    )
    assert fixed.status_code == 302
    assert http.post(f"{url}rows/5/drop/", {"dropped": "1"}).status_code == 302
    body = http.get(url).content.decode()
    assert "5 rows: <strong>3 ready to import</strong>, 1 with problems, 1 dropped." in body
    response = http.post(f"{url}commit/", follow=True)
    assert "3 clients imported to your Imported tab. 2 rows not imported." in response.content.decode()
    imported = Client.objects.filter(practice=member.practice, tab="imported").order_by("business_name")
    assert [c.business_name for c in imported] == ["Alpha Bakery", "Beta Joinery", "Gamma Garage"]
    alpha = imported[0]
    assert (alpha.access, alpha.payer, alpha.postcode, alpha.vat_number) == (
        "none",
        "accountant",
        "LS1 4AP",
        "GB123456789",
    )
    assert alpha.company.owner_email == "ann@alpha.test"
    assert len(alpha.company.customer_number) == 8
    assert alpha.company.registration_id.startswith("MBR")
    listed = http.get("/partner/clients/", {"tab": "imported"}).content.decode()
    assert 'Imported <span class="count">(3)</span>' in listed
    assert Event.objects.filter(action="practice.client.import", client=alpha, practice=member.practice).count() == 1
    assert Event.objects.get(action="practice.import.commit").data["imported"] == 3
    # A second commit of the same batch does nothing.
    again = http.post(f"{url}commit/", follow=True)
    assert "already imported" in again.content.decode()
    assert Client.objects.filter(tab="imported").count() == 3
    assert Event.objects.filter(action="practice.client.import").count() == 3
    # And the preview can no longer be changed.
    http.post(f"{url}rows/3/drop/", {"dropped": "1"})
    assert ImportBatch.objects.get().rows[2]["dropped"] is False


def test_restore_a_dropped_row_and_discard(mine):
    _, http = mine
    _upload(http)
    batch = ImportBatch.objects.get()
    url = f"/partner/clients/import/{batch.pk}/"
    http.post(f"{url}rows/1/drop/", {"dropped": "1"})
    http.post(f"{url}rows/1/drop/", {"dropped": "0"})
    assert ImportBatch.objects.get().rows[0]["dropped"] is False
    assert http.post(f"{url}discard/").status_code == 302
    batch.refresh_from_db()
    assert batch.status == "discarded"
    assert http.post(f"{url}commit/").status_code == 302
    assert Client.objects.filter(tab="imported").count() == 0


def test_a_client_added_after_the_preview_is_not_imported_twice(mine):
    member, http = mine
    _upload(http, "Name\nLate Ltd\nOther Ltd\n")
    batch = ImportBatch.objects.get()
    Client.objects.create(
        practice=member.practice, company=company_create(business_name="Late Ltd"), business_name="Late Ltd"
    )
    http.post(f"/partner/clients/import/{batch.pk}/commit/")
    assert list(Client.objects.filter(tab="imported").values_list("business_name", flat=True)) == ["Other Ltd"]


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        ("Contact,Email\nAnn,a@x.test\n", "a.csv", "Business name"),
        ("Name\nCaf\xe9\n".encode("latin-1"), "a.csv", "not UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "a.png", "CSV file"),
        (b"PK\x03\x04\x00", "clients.xlsx", "Save it as CSV"),
    ],
)
def test_bad_files_are_refused_with_a_clear_message(mine, content, name, message):
    _, http = mine
    response = _upload(http, content, name)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_a_file_over_20_mb_is_refused(mine):
    _, http = mine
    big = b"Name\n" + b"A" * (20 * 1024 * 1024)
    response = _upload(http, big)
    assert response.status_code == 400
    assert "larger than 20 MB" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_another_practices_batch_is_404(mine):
    _, http = mine
    _, their_http = _practice("Theirs LLP", "them@theirs.test")
    _upload(their_http, "Name\nSecret Ltd\n")
    batch = ImportBatch.objects.get()
    url = f"/partner/clients/import/{batch.pk}/"
    assert http.get(url).status_code == 404
    assert http.get(f"{url}rows/1/").status_code == 404
    assert http.post(f"{url}rows/1/", {"business_name": "Mine"}).status_code == 404
    assert http.post(f"{url}rows/1/drop/").status_code == 404
    assert http.post(f"{url}commit/").status_code == 404
    assert http.post(f"{url}discard/").status_code == 404
    assert "Secret Ltd" not in http.get("/partner/clients/import/").content.decode()
    batch.refresh_from_db()
    assert (batch.status, batch.rows[0]["values"]["business_name"]) == ("draft", "Secret Ltd")
    assert their_http.get(url).status_code == 200
    with pytest.raises(import_services.NotFound):
        import_services.import_commit(member=PracticeMember.objects.get(user__email="me@mine.test"), batch_id=batch.pk)


def test_unknown_row_is_404(mine):
    _, http = mine
    _upload(http)
    batch = ImportBatch.objects.get()
    assert http.get(f"/partner/clients/import/{batch.pk}/rows/99/").status_code == 404
    assert http.post(f"/partner/clients/import/{batch.pk}/rows/0/drop/").status_code == 404


def test_10000_rows_in_one_request_with_a_bounded_number_of_queries(mine, django_assert_max_num_queries):
    member, http = mine
    lines = ["Business name;Email;Postcode;VAT number"]
    lines += [f"Client {i:05d} Ltd;c{i}@example.test;LS1 4AP;GB{100000000 + i}" for i in range(10_000)]
    started = time.perf_counter()
    _upload(http, "\n".join(lines) + "\n")
    batch = ImportBatch.objects.get()
    assert len(batch.rows) == 10_000
    # Bulk inserts and bulk number checks: SQLite caps a statement at 999 variables (about 55 clients per
    # insert), PostgreSQL takes 1,000 rows per insert. Either way the count does not grow with each row.
    with django_assert_max_num_queries(450):
        response = http.post(f"/partner/clients/import/{batch.pk}/commit/")
    assert response.status_code == 302
    assert Client.objects.filter(practice=member.practice, tab="imported").count() == 10_000
    assert Event.objects.filter(action="practice.client.import").count() == 10_000
    assert Company.objects.count() == 10_000 + 2  # + the practice and Existing Ltd
    assert time.perf_counter() - started < 60


def test_restricted_staff_cannot_import(client):
    practice = Practice.objects.create(company=company_create(business_name="P LLP"), name="P LLP")
    staff = UserFactory.create()
    PracticeMember.objects.create(practice=practice, user=staff, role="staff", sees_all_clients=False)
    client.force_login(staff)
    response = client.post(
        "/api/v1/practice/imports",
        {"file": SimpleUploadedFile("c.csv", b"Business name\nAcme Ltd\n", content_type="text/csv")},
    )
    assert response.status_code == 404
    # Nor the page, which would list the practice's recent imports.
    admin = UserFactory.create()
    PracticeMember.objects.create(practice=practice, user=admin, role="admin")
    ImportBatch.objects.create(practice=practice, created_by=admin, filename="admins-clients.csv", rows=[])
    assert client.get("/partner/clients/import/").status_code == 404
    upload = {"file": SimpleUploadedFile("c.csv", b"Business name\nAcme Ltd\n", content_type="text/csv")}
    assert client.post("/partner/clients/import/", upload).status_code == 404
    assert not ImportBatch.objects.filter(created_by=staff).exists()


def test_a_too_long_value_is_said_in_its_fields_words_and_the_preview_names_the_field(mine):
    _, http = mine
    long_contact = "C" * 151
    csv_text = (
        "Business name,Contact,Email,VAT number,Postcode\n"
        "Alpha Bakery,Ann,ann@alpha.test,GB 123 456 789 012,SW1A 1AA XYZ\n"  # a 12-character postcode
        f"Beta Joinery,{long_contact},,,\n"
    )
    response = _upload(http, csv_text)
    body = http.get(response["Location"]).content.decode()
    assert "Postcode: Enter a UK postcode, e.g. SW1A 1AA." in body
    assert "Contact name can be at most 150 characters (it has 151)." in body
    assert "Contact: Contact name" not in body
    assert "Ensure this value" not in body
    assert "VAT number:" not in body  # 18 characters with its spaces, a valid 12-digit VAT number
    assert "Email:" not in body
