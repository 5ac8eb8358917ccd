"""The CSV reader on its own (no database)."""

import datetime as dt
import io
from decimal import Decimal

import pytest

from partnerdesk.ledger import imports
from partnerdesk.ledger.imports import LedgerImportInvalid, LedgerImportTooLarge


def test_dates_and_amounts_in_the_forms_people_type():
    rows = imports.parse(
        b'date,description,amount\n31/03/2025,Sale,"1,250.50"\n2025-04-01,Refund,-\xc2\xa312\n2025-04-02,Round,1e2\n'
    )
    assert [(r.date, r.description, r.amount) for r in rows] == [
        (dt.date(2025, 3, 31), "Sale", Decimal("1250.50")),
        (dt.date(2025, 4, 1), "Refund", Decimal("-12.00")),
        (dt.date(2025, 4, 2), "Round", Decimal("100.00")),
    ]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2025-04-01,x,abc", "Row 2: amount 'abc' is not a number"),
        ("2025-04-01,x,0", "Row 2: amount is zero"),
        ("2025-04-01,x,1.234", "Row 2: amount '1.234' has more than 2 decimal places"),
        ("2025-04-01,x,99999999999", "Row 2: amount '99999999999' is too large"),
        ("2025-04-01,x,NaN", "Row 2: amount 'NaN' is not a number"),
        ("1899-12-31,x,1", "Row 2: date 1899-12-31 is outside 1900-2099"),
        ("yesterday,x,1", "Row 2: date 'yesterday' is not a date"),
        ("2025-04-01,,1", "Row 2: description is missing"),
        ("2025-04-01," + "d" * 201 + ",1", "Row 2: description is longer than 200 characters"),
        ("2025-04-01,a\x07b,1", "Row 2: description contains control characters"),
    ],
)
def test_each_bad_value_is_named_with_its_row(row, message):
    with pytest.raises(LedgerImportInvalid) as caught:
        imports.parse(f"date,description,amount\n{row}\n".encode())
    assert message in caught.value.message
    assert caught.value.message.startswith("Nothing was imported.")


def test_only_the_first_20_problems_are_listed_with_a_count_of_the_rest():
    content = "date,description,amount\n" + "2025-04-01,x,bad\n" * 25
    with pytest.raises(LedgerImportInvalid) as caught:
        imports.parse(content.encode())
    assert len(caught.value.extra["errors"]) == 20
    assert caught.value.extra["error_count"] == 25
    assert "And 5 more problems." in caught.value.message


def test_a_header_only_file_and_an_empty_file_are_refused():
    with pytest.raises(LedgerImportInvalid, match="no entries below its header"):
        imports.parse(b"date,description,amount\n")
    with pytest.raises(LedgerImportInvalid, match="The file is empty"):
        imports.parse(b"")


def test_size_is_checked_by_declared_size_and_by_what_is_read():
    with pytest.raises(LedgerImportTooLarge):
        imports.read_limited(io.BytesIO(b""), size=imports.MAX_FILE_BYTES + 1)
    with pytest.raises(LedgerImportTooLarge):
        imports.read_limited(io.BytesIO(b"x" * (imports.MAX_FILE_BYTES + 1)), size=None)
    assert imports.read_limited(io.BytesIO(b"abc"), size=3) == b"abc"
