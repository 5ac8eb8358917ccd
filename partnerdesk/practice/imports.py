"""CSV import of clients: parse a file into rows and validate them. Pure functions: no database access.

The caller passes what it knows about the practice's existing clients (lower-cased names and emails)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from partnerdesk.lib.errors import DomainError
from partnerdesk.practice.forms import ClientDetailsForm
from partnerdesk.practice.models import Client

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 25_000
FIELDS: list[str] = Client.DETAIL_FIELDS

# Header (lower-cased, single-spaced) -> client field.
ALIASES: dict[str, str] = {
    "business name": "business_name",
    "business": "business_name",
    "company name": "business_name",
    "client name": "business_name",
    "name": "business_name",
    "contact": "contact_name",
    "contact name": "contact_name",
    "email": "email",
    "email address": "email",
    "e-mail": "email",
    "phone": "phone",
    "phone number": "phone",
    "telephone": "phone",
    "address": "address",
    "postcode": "postcode",
    "post code": "postcode",
    "vat number": "vat_number",
    "vat": "vat_number",
    "vat no": "vat_number",
    "vat registration number": "vat_number",
    "company number": "company_number",
    "company no": "company_number",
    "company registration number": "company_number",
    "registration number": "company_number",
}
FIELD_LABELS: dict[str, str] = {
    "business_name": "Business name",
    "contact_name": "Contact",
    "email": "Email",
    "phone": "Phone",
    "address": "Address",
    "postcode": "Postcode",
    "vat_number": "VAT number",
    "company_number": "Company number",
}
TEXT_CONTENT_TYPES = {
    "",
    "text/csv",
    "text/plain",
    "text/comma-separated-values",
    "text/x-csv",
    "application/csv",
    "application/x-csv",
    "application/vnd.ms-excel",  # what Windows browsers send for .csv
    "application/octet-stream",
}


class ImportFileInvalid(DomainError):
    code = "import_file_invalid"
    status = 422
    title = "This file cannot be imported"


class ImportFileTooLarge(DomainError):
    code = "import_file_too_large"
    status = 413
    title = "The file is larger than 20 MB. Split it into smaller files and import each one."


def check_upload(*, name: str, size: int | None, content_type: str = "") -> None:
    """Refuse an upload by its size and type before reading it."""
    if size is not None and size > MAX_FILE_BYTES:
        raise ImportFileTooLarge()
    lowered = (name or "").lower()
    base_type = (content_type or "").split(";")[0].strip().lower()
    if lowered.endswith((".xlsx", ".xls", ".ods", ".numbers")):
        raise ImportFileInvalid("This is a spreadsheet file. Save it as CSV (comma or semicolon separated) first.")
    if not lowered.endswith((".csv", ".txt")) and base_type not in TEXT_CONTENT_TYPES:
        raise ImportFileInvalid("Upload a CSV file (.csv).")


@dataclass
class ParsedFile:
    columns: dict[int, str]  # column position -> client field
    ignored_columns: list[str]
    rows: list[dict[str, str]] = field(default_factory=list)


def _normalise_header(header: str) -> str:
    text = header.replace("\ufeff", "").strip().strip("*:").strip().lower()
    return " ".join(text.replace("_", " ").split())


def _map_headers(headers: list[str]) -> tuple[dict[int, str], list[str]]:
    columns: dict[int, str] = {}
    ignored: list[str] = []
    for position, header in enumerate(headers):
        target = ALIASES.get(_normalise_header(header))
        if target is None or target in columns.values():
            if header.strip():
                ignored.append(header.strip())
            continue
        columns[position] = target
    return columns, ignored


def _first_record(text: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
    except csv.Error:
        return []


def _sniff_delimiter(text: str) -> str:
    """Comma or semicolon: whichever makes more of the header row into known columns (then more columns)."""
    best, best_score = ",", (-1, -1)
    for delimiter in (",", ";"):
        headers = _first_record(text[:65536], delimiter)
        score = (len(_map_headers(headers)[0]), len(headers))
        if score > best_score:
            best, best_score = delimiter, score
    return best


def decode(data: bytes) -> str:
    """UTF-8 with or without a BOM; anything else is refused with a clear message."""
    if data[:4] == b"PK\x03\x04" or b"\x00" in data[:8192]:
        raise ImportFileInvalid("This is not a text file. Save the spreadsheet as CSV (UTF-8) and upload that.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFileInvalid(
            f"The file is not UTF-8 text (first unreadable character on line {line}). "
            "Save it as 'CSV UTF-8' and upload it again."
        ) from None


def parse(data: bytes) -> ParsedFile:
    """Bytes of a CSV file -> the recognised columns and one dict of stripped values per non-empty data row."""
    text = decode(data)
    if not text.strip():
        raise ImportFileInvalid("The file is empty.")
    delimiter = _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        headers = next(reader, [])
        columns, ignored = _map_headers(headers)
        if "business_name" not in columns.values():
            raise ImportFileInvalid(
                "The first row must name the columns, including one called 'Business name' "
                "(or 'Company name' or 'Name')."
            )
        parsed = ParsedFile(columns=columns, ignored_columns=ignored)
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            if len(parsed.rows) >= MAX_ROWS:
                raise ImportFileInvalid(f"The file has more than {MAX_ROWS:,} rows. Split it and import each part.")
            values = dict.fromkeys(FIELDS, "")
            for position, target in columns.items():
                if position < len(record):
                    values[target] = record[position].strip()
            parsed.rows.append(values)
    except csv.Error as exc:
        raise ImportFileInvalid(f"The file is not valid CSV near line {reader.line_num}: {exc}.") from None
    if not parsed.rows:
        raise ImportFileInvalid("The file has its column names but no clients below them.")
    return parsed


class RowValidator:
    """Add client's validation (ClientDetailsForm's fields and clean_<field> methods) applied to many rows
    through one form instance: the same rules, without building a form and a model instance per row."""

    def __init__(self) -> None:
        self.form = ClientDetailsForm()

    def __call__(self, values: dict[str, Any]) -> tuple[dict[str, str], list[dict[str, str]]]:
        """Returns the values (normalised where valid, as entered where not) and the row's field problems."""
        raw = {name: str(values.get(name, "") or "").strip() for name in FIELDS}
        form = self.form
        form.cleaned_data = {}
        problems: list[dict[str, str]] = []
        for name in FIELDS:
            try:
                form.cleaned_data[name] = form.fields[name].clean(raw[name])
                clean_field = getattr(form, f"clean_{name}", None)
                if clean_field is not None:
                    form.cleaned_data[name] = clean_field()
            except ValidationError as exc:
                if name == "business_name" and not raw[name]:
                    problems.append(
                        {"field": name, "code": "missing_business_name", "message": "Business name is missing."}
                    )
                else:
                    problems.extend(
                        {"field": name, "code": f"invalid_{name}", "message": message} for message in exc.messages
                    )
        cleaned = {name: str(form.cleaned_data.get(name, raw[name])) for name in FIELDS}
        return cleaned, problems


def validate_values(values: dict[str, Any]) -> tuple[dict[str, str], list[dict[str, str]]]:
    return RowValidator()(values)


@dataclass(frozen=True)
class Existing:
    """The practice's current clients: lower-cased business names and emails."""

    names: frozenset[str] = frozenset()
    emails: frozenset[str] = frozenset()


def _key(value: str) -> str:
    return " ".join(value.split()).casefold()


def validate_rows(rows: Iterable[dict[str, Any]], existing: Existing) -> list[dict[str, Any]]:
    """(Re)validate every row: field problems, duplicates of existing clients, duplicates of earlier rows
    (a dropped row or one with field problems does not count as an earlier row). Returns new row dicts."""
    result: list[dict[str, Any]] = []
    seen_names: dict[str, int] = {}
    seen_emails: dict[str, int] = {}
    validator = RowValidator()
    for row in rows:
        values, problems = validator(row["values"])
        name, email = _key(values["business_name"]), values["email"].casefold()
        if name and name in existing.names:
            problems.append(
                {
                    "field": "business_name",
                    "code": "duplicate_client",
                    "message": "A client with this business name already exists.",
                }
            )
        if email and not any(p["field"] == "email" for p in problems) and email in existing.emails:
            problems.append(
                {"field": "email", "code": "duplicate_client", "message": "A client with this email already exists."}
            )
        if not row.get("dropped"):
            if name and name in seen_names:
                problems.append(
                    {
                        "field": "business_name",
                        "code": "duplicate_row",
                        "message": f"Same business name as row {seen_names[name]}.",
                    }
                )
            if email and email in seen_emails:
                problems.append(
                    {"field": "email", "code": "duplicate_row", "message": f"Same email as row {seen_emails[email]}."}
                )
            if not problems:
                seen_names.setdefault(name, row["index"])
                if email:
                    seen_emails.setdefault(email, row["index"])
        result.append(
            {"index": row["index"], "values": values, "problems": problems, "dropped": bool(row.get("dropped"))}
        )
    return result


def new_rows(parsed: ParsedFile) -> list[dict[str, Any]]:
    return [{"index": i, "values": values, "problems": [], "dropped": False} for i, values in enumerate(parsed.rows, 1)]


def is_ready(row: dict[str, Any]) -> bool:
    return not row["dropped"] and not row["problems"]


@dataclass(frozen=True)
class Counts:
    total: int
    ready: int
    problems: int
    dropped: int


def counts(rows: list[dict[str, Any]]) -> Counts:
    dropped = sum(1 for r in rows if r["dropped"])
    ready = sum(1 for r in rows if is_ready(r))
    return Counts(total=len(rows), ready=ready, problems=len(rows) - ready - dropped, dropped=dropped)


def normalise_email(value: str) -> str:
    return value.strip().casefold()


def normalise_name(value: str) -> str:
    return _key(value)


def safe_filename(name: str) -> str:
    return re.sub(r"[\x00-\x1f]", "", (name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1])[:255]
