from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from partnerdesk.audit.models import Action, Event
from partnerdesk.ledger.imports import MAX_FILE_BYTES
from partnerdesk.ledger.models import Entry
from partnerdesk.ledger.tests.builders import signed_in, world

pytestmark = pytest.mark.django_db
GOOD = "date,description,amount\n2025-04-01,Invoice 1001,1250.00\n02/04/2025,Office rent,-800\n\n"


def _upload(http, number, content: bytes, name: str = "entries.csv"):
    return http.post(
        f"/companies/{number}/ledger/import/", {"file": SimpleUploadedFile(name, content, content_type="text/csv")}
    )


def test_a_good_file_is_imported_and_audited():
    w = world()
    http = signed_in(w.company_user)
    response = _upload(http, w.number, GOOD.encode())
    assert response.status_code == 302
    rows = list(Entry.objects.filter(company=w.client.company).order_by("date").values_list("description", "amount"))
    assert rows == [("Invoice 1001", Decimal("1250.00")), ("Office rent", Decimal("-800.00"))]
    event = Event.objects.get(action=Action.LEDGER_IMPORT)
    assert (event.company_id, event.data["count"], event.data["filename"]) == (w.client.company.pk, 2, "entries.csv")
    assert "2 entries imported." in http.get(f"/companies/{w.number}/ledger/").content.decode()


def test_a_utf8_file_with_a_bom_and_any_column_order_is_imported():
    w = world()
    content = "\ufeffAmount,Date,Description\r\n12.50,2025-04-01,Café £ receipt\r\n".encode()
    assert _upload(signed_in(w.practice_admin), w.number, content).status_code == 302
    entry = Entry.objects.get()
    assert (entry.description, entry.amount, entry.created_by) == ("Café £ receipt", Decimal("12.50"), w.practice_admin)


def test_bad_rows_are_listed_by_row_number_and_nothing_is_written():
    w = world()
    content = (
        b"date,description,amount\n2025-04-01,Fine,10\n2025-04-02,Bad amount,abc\n2025-13-01,,5\n2025-04-04,Too few\n"
    )
    response = _upload(signed_in(w.company_user), w.number, content)
    assert response.status_code == 400
    body = response.content.decode()
    assert "Nothing was imported." in body
    assert "Row 3: amount &#x27;abc&#x27; is not a number" in body
    assert "Row 4: date &#x27;2025-13-01&#x27; is not a date" in body
    assert "Row 4: description is missing" in body
    assert "Row 5: expected 3 values" in body
    assert not Entry.objects.exists()
    assert not Event.objects.filter(action=Action.LEDGER_IMPORT).exists()


def test_a_file_over_5_mb_is_refused_with_a_clear_message():
    w = world()
    content = b"date,description,amount\n" + b"2025-04-01,x,1\n" * (MAX_FILE_BYTES // 15 + 1)
    assert len(content) > MAX_FILE_BYTES
    response = _upload(signed_in(w.company_user), w.number, content)
    assert response.status_code == 400
    assert "larger than 5 MB" in response.content.decode()
    assert not Entry.objects.exists()


def test_a_wrong_header_or_a_spreadsheet_is_refused():
    w = world()
    http = signed_in(w.company_user)
    wrong = _upload(http, w.number, b"when,what,how much\n2025-04-01,x,1\n")
    assert "The first row must name the columns date,description,amount" in wrong.content.decode()
    xlsx = _upload(http, w.number, b"PK\x03\x04binary", name="entries.xlsx")
    assert "This is not a text file" in xlsx.content.decode()
    latin1 = _upload(http, w.number, "date,description,amount\n2025-04-01,caf\xe9,1\n".encode("latin-1"))
    assert "not UTF-8 text (first unreadable character on line 2)" in latin1.content.decode()
    assert not Entry.objects.exists()


def test_import_is_404_for_another_practice():
    w = world()
    assert _upload(signed_in(w.other_admin), w.number, GOOD.encode()).status_code == 404
    assert not Entry.objects.exists()
