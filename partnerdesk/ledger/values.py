"""Validation of bookkeeping entry values, shared by the add form, the API and the CSV import. Pure functions."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from partnerdesk.lib.errors import DomainError

MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2099, 12, 31)
MAX_AMOUNT = Decimal("9999999999.99")  # DecimalField(max_digits=12, decimal_places=2)
MAX_DESCRIPTION = 200
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
CENTS = Decimal("0.01")


class EntryInvalid(DomainError):
    code = "ledger_entry_invalid"
    status = 422
    title = "The entry is not valid"


@dataclass(frozen=True)
class EntryValues:
    date: dt.date
    description: str
    amount: Decimal


def date_problem(value: dt.date) -> str | None:
    if not MIN_DATE <= value <= MAX_DATE:
        return f"date {value.isoformat()} is outside {MIN_DATE.year}-{MAX_DATE.year}"
    return None


def parse_date(text: str) -> dt.date:
    """YYYY-MM-DD or DD/MM/YYYY (the UK order); ValueError with the person's words otherwise."""
    text = text.strip()
    if not text:
        raise ValueError("date is missing")
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            value = dt.datetime.strptime(text, fmt).date()  # a calendar date: no time zone
        except ValueError:
            continue
        problem = date_problem(value)
        if problem:
            raise ValueError(problem)
        return value
    raise ValueError(f"date {text[:40]!r} is not a date (use YYYY-MM-DD or DD/MM/YYYY)")


def amount_problem(value: Decimal) -> str | None:
    if not value.is_finite():
        return "amount is not a number"
    if abs(value) > MAX_AMOUNT:
        return f"amount '{value}' is too large (at most {MAX_AMOUNT:,})"
    if value != value.quantize(CENTS):
        return f"amount '{value}' has more than 2 decimal places"
    if value == 0:
        return "amount is zero (use a positive amount for income, a negative one for an expense)"
    return None


def parse_amount(text: str) -> Decimal:
    """A number such as 1250.00, -80, £1,250.50; ValueError with the person's words otherwise."""
    raw = text.strip()
    if not raw:
        raise ValueError("amount is missing")
    cleaned = raw.replace(",", "").replace("£", "").replace(" ", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"amount {raw[:40]!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"amount {raw[:40]!r} is not a number")
    problem = amount_problem(value)
    if problem:
        raise ValueError(problem)
    return value.quantize(CENTS)


def normalise_description(value: str) -> str:
    """Runs of spaces become one; control characters are kept so that they are refused, not hidden."""
    if CONTROL_CHARACTERS.search(value):
        return value
    return " ".join(value.split())


def description_problem(value: str) -> str | None:
    if not value:
        return "description is missing"
    if len(value) > MAX_DESCRIPTION:
        return f"description is longer than {MAX_DESCRIPTION} characters"
    if CONTROL_CHARACTERS.search(value):
        return "description contains control characters"
    return None


def clean(*, date: dt.date, description: str, amount: Decimal) -> EntryValues:
    """Check one entry's typed values (the service's last word, whatever the caller checked); EntryInvalid otherwise."""
    description = normalise_description(description)
    problems = {
        field: problem
        for field, problem in (
            ("date", date_problem(date)),
            ("description", description_problem(description)),
            ("amount", amount_problem(amount)),
        )
        if problem
    }
    if problems:
        raise EntryInvalid(
            "; ".join(p[0].upper() + p[1:] for p in problems.values()),
            fields=problems,
        )
    return EntryValues(date=date, description=description, amount=amount.quantize(CENTS))
