"""CSV import of bookkeeping entries: read the file into checked rows. Pure functions: no database access.

The file has a header row naming the columns ``date``, ``description`` and ``amount`` (any order, any case),
is UTF-8 with or without a BOM, and is at most 5 MB. Every problem is reported with its row number, counting
the header as row 1, as a spreadsheet does."""

from __future__ import annotations

import csv
import io
from typing import Protocol

from partnerdesk.ledger import values
from partnerdesk.lib.errors import DomainError

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
MAX_PROBLEMS_SHOWN = 20
COLUMNS = ("date", "description", "amount")


class ReadableUpload(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


class LedgerImportTooLarge(DomainError):
    code = "ledger_import_too_large"
    status = 413
    title = "The file is larger than 5 MB. Split it into smaller files and import each one."


class LedgerImportInvalid(DomainError):
    code = "ledger_import_invalid"
    status = 422
    title = "This file cannot be imported"


def read_limited(file: ReadableUpload, *, size: int | None) -> bytes:
    """The upload's bytes, refusing anything over 5 MB (by its declared size first, then by what is read)."""
    if size is not None and size > MAX_FILE_BYTES:
        raise LedgerImportTooLarge()
    data = file.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise LedgerImportTooLarge()
    return data


def decode(data: bytes) -> str:
    """UTF-8 with or without a BOM; anything else is refused with a clear message."""
    if data[:4] == b"PK\x03\x04" or b"\x00" in data[:8192]:
        raise LedgerImportInvalid("This is not a text file. Save the spreadsheet as CSV (UTF-8) and upload that.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise LedgerImportInvalid(
            f"The file is not UTF-8 text (first unreadable character on line {line}). "
            "Save it as 'CSV UTF-8' and upload it again."
        ) from None


def _header_positions(header: list[str]) -> dict[str, int]:
    names = [cell.strip().lower() for cell in header]
    if sorted(names) != sorted(COLUMNS):
        found = ",".join(cell.strip() for cell in header)[:100] or "nothing"
        raise LedgerImportInvalid(f"The first row must name the columns date,description,amount (found: {found}).")
    return {name: names.index(name) for name in COLUMNS}


def _row_values(record: list[str], positions: dict[str, int]) -> tuple[values.EntryValues | None, list[str]]:
    problems: list[str] = []
    if len(record) != len(COLUMNS):
        return None, [f"expected {len(COLUMNS)} values (date, description, amount), found {len(record)}"]
    try:
        date = values.parse_date(record[positions["date"]])
    except ValueError as exc:
        problems.append(str(exc))
    description = values.normalise_description(record[positions["description"]].strip())
    problem = values.description_problem(description)
    if problem:
        problems.append(problem)
    try:
        amount = values.parse_amount(record[positions["amount"]])
    except ValueError as exc:
        problems.append(str(exc))
    if problems:
        return None, problems
    return values.EntryValues(date=date, description=description, amount=amount), []


def parse(data: bytes) -> list[values.EntryValues]:
    """Every data row checked; LedgerImportInvalid listing the rows' problems if any row has one."""
    text = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[values.EntryValues] = []
    problems: list[str] = []
    data_rows = 0
    try:
        header = next(reader, None)
        if header is None:
            raise LedgerImportInvalid("The file is empty. The first row must name the columns date,description,amount.")
        positions = _header_positions(header)
        for number, record in enumerate(reader, start=2):
            if not any(cell.strip() for cell in record):
                continue  # blank lines, often at the end of a file
            data_rows += 1
            if data_rows > MAX_ROWS:
                raise LedgerImportInvalid(
                    f"The file has more than {MAX_ROWS:,} entries. Split it and import each part."
                )
            entry, row_problems = _row_values(record, positions)
            if entry is not None:
                rows.append(entry)
            problems.extend(f"Row {number}: {problem}" for problem in row_problems)
    except csv.Error as exc:
        raise LedgerImportInvalid(f"The file is not valid CSV (line {reader.line_num}: {exc}).") from None
    if problems:
        shown = problems[:MAX_PROBLEMS_SHOWN]
        more = len(problems) - len(shown)
        message = "Nothing was imported. " + " ".join(f"{p}." for p in shown)
        if more:
            message += f" And {more} more problem{'s' if more != 1 else ''}."
        raise LedgerImportInvalid(message, errors=shown, error_count=len(problems))
    if not rows:
        raise LedgerImportInvalid("The file has no entries below its header row.")
    return rows
