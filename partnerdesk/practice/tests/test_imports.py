"""CSV import: parsing and row validation (pure functions, no database)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from partnerdesk.identity.services import company_create
from partnerdesk.practice import imports
from partnerdesk.practice.import_services import import_drafts_discard_stale
from partnerdesk.practice.imports import Existing, ImportFileInvalid, ImportFileTooLarge
from partnerdesk.practice.models import ImportBatch, Practice


def _rows(text, existing=None, encoding="utf-8"):
    parsed = imports.parse(text.encode(encoding) if isinstance(text, str) else text)
    return imports.validate_rows(imports.new_rows(parsed), existing or Existing())


def test_bom_semicolons_and_header_aliases_in_any_case():
    data = "\ufeff  COMPANY NAME ; contact name;E-mail;VAT;Post code;Notes\nAlpha Ltd;Ann;ANN@Alpha.test;gb 123 456 789;ls14ap;x\n"
    parsed = imports.parse(data.encode())
    assert parsed.ignored_columns == ["Notes"]
    rows = imports.validate_rows(imports.new_rows(parsed), Existing())
    assert rows[0]["problems"] == []
    assert rows[0]["values"] == {
        "business_name": "Alpha Ltd",
        "contact_name": "Ann",
        "email": "ann@alpha.test",
        "phone": "",
        "address": "",
        "postcode": "LS1 4AP",
        "vat_number": "GB123456789",
        "company_number": "",
    }


def test_quoted_commas_and_newlines_and_blank_lines():
    data = 'Name,Address,Phone\r\n"Smith, Jones & Co","1 High St,\r\nLeeds",0113\r\n\r\n,,\r\nBeta Ltd,,\r\n'
    rows = _rows(data)
    assert [r["values"]["business_name"] for r in rows] == ["Smith, Jones & Co", "Beta Ltd"]
    assert rows[0]["values"]["address"] == "1 High St,\r\nLeeds"
    assert [r["index"] for r in rows] == [1, 2]


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Business name", "business_name"),
        ("company name", "business_name"),
        ("NAME", "business_name"),
        ("Contact", "contact_name"),
        ("Contact name", "contact_name"),
        ("VAT number", "vat_number"),
        ("Company number", "company_number"),
        (" Email ", "email"),
        ("Phone", "phone"),
        ("Address", "address"),
        ("Postcode", "postcode"),
    ],
)
def test_header_aliases(header, field):
    parsed = imports.parse(
        f"Business name,{header}\nA,b\n".encode() if field != "business_name" else f"{header}\nA\n".encode()
    )
    assert field in parsed.columns.values()


def test_missing_business_name_column_is_refused():
    with pytest.raises(ImportFileInvalid, match="Business name"):
        imports.parse(b"Contact,Email\nAnn,ann@x.test\n")


def test_not_utf8_is_refused_with_the_line():
    with pytest.raises(ImportFileInvalid, match=r"not UTF-8.*line 2"):
        imports.parse("Name\nCaf\xe9 Ltd\n".encode("latin-1"))


def test_binary_and_empty_files_are_refused():
    with pytest.raises(ImportFileInvalid, match="not a text file"):
        imports.parse(b"PK\x03\x04\x00\x00binary")
    with pytest.raises(ImportFileInvalid, match="empty"):
        imports.parse(b"\xef\xbb\xbf  \n")
    with pytest.raises(ImportFileInvalid, match="no clients below them"):  # column names only: no empty import
        imports.parse(b"Business name;Email\n;\n\n")


def test_upload_checks_size_and_type():
    with pytest.raises(ImportFileTooLarge, match="20 MB"):
        imports.check_upload(name="a.csv", size=20 * 1024 * 1024 + 1)
    imports.check_upload(name="a.csv", size=20 * 1024 * 1024, content_type="text/csv")
    with pytest.raises(ImportFileInvalid, match="Save it as CSV"):
        imports.check_upload(name="clients.xlsx", size=10)
    with pytest.raises(ImportFileInvalid, match="CSV file"):
        imports.check_upload(name="photo.png", size=10, content_type="image/png")


def _codes(row):
    return [(p["field"], p["code"]) for p in row["problems"]]


def test_each_row_problem():
    data = (
        "Name,Email,VAT number,Postcode,Company number\n"
        ",a@x.test,,,\n"
        "Bad Email Ltd,not-an-email,,,\n"
        "Bad VAT Ltd,,12345,,\n"
        "Bad Postcode Ltd,,,XYZ,\n"
        "Bad Number Ltd,,,,123\n"
        "Good Ltd,good@x.test,GB123456789,SW1A 1AA,SC123456\n"
    )
    rows = _rows(data)
    assert _codes(rows[0]) == [("business_name", "missing_business_name")]
    assert _codes(rows[1]) == [("email", "invalid_email")]
    assert _codes(rows[2]) == [("vat_number", "invalid_vat_number")]
    assert _codes(rows[3]) == [("postcode", "invalid_postcode")]
    assert _codes(rows[4]) == [("company_number", "invalid_company_number")]
    assert rows[5]["problems"] == []
    assert "UK VAT number" in rows[2]["problems"][0]["message"]


def test_duplicates_of_existing_clients_and_of_earlier_rows():
    data = (
        "Name,Email\n"
        "ALPHA  ltd,new@x.test\n"  # existing name, other case and spacing
        "Beta Ltd,Taken@X.test\n"  # existing email
        "Gamma Ltd,g@x.test\n"
        "gamma ltd,other@x.test\n"  # same name as row 3
        "Delta Ltd,G@x.test\n"  # same email as row 3
    )
    rows = _rows(data, Existing(names=frozenset({"alpha ltd"}), emails=frozenset({"taken@x.test"})))
    assert _codes(rows[0]) == [("business_name", "duplicate_client")]
    assert _codes(rows[1]) == [("email", "duplicate_client")]
    assert rows[2]["problems"] == []
    assert _codes(rows[3]) == [("business_name", "duplicate_row")]
    assert rows[3]["problems"][0]["message"] == "Same business name as row 3."
    assert _codes(rows[4]) == [("email", "duplicate_row")]


def test_dropping_the_first_of_two_duplicates_makes_the_second_ready():
    rows = _rows("Name\nGamma Ltd\nGamma Ltd\n")
    assert _codes(rows[1]) == [("business_name", "duplicate_row")]
    rows[0]["dropped"] = True
    again = imports.validate_rows(rows, Existing())
    assert again[1]["problems"] == []
    assert imports.counts(again) == imports.Counts(total=2, ready=1, problems=0, dropped=1)


@pytest.mark.django_db
def test_stale_import_previews_are_discarded_and_their_rows_erased():
    practice = Practice.objects.create(company=company_create(business_name="P LLP"), name="P LLP")
    rows = [{"index": 1, "values": {"business_name": "Acme"}, "problems": [], "dropped": False}]
    old = ImportBatch.objects.create(practice=practice, rows=rows, created_at=timezone.now() - timedelta(days=8))
    fresh = ImportBatch.objects.create(practice=practice, rows=rows)
    done = ImportBatch.objects.create(
        practice=practice, rows=rows, status="imported", created_at=timezone.now() - timedelta(days=30)
    )
    assert import_drafts_discard_stale() == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    done.refresh_from_db()
    assert (old.status, old.rows) == ("discarded", [])
    assert (fresh.status, done.status) == ("draft", "imported")
