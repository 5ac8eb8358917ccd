"""Dates in emails as people write them ("31 December 2026"): the outbox keeps a date as its ISO text."""

from __future__ import annotations

import datetime as dt

from django import template

register = template.Library()


def _as_date(value: object) -> dt.date | None:
    """A date, or an ISO date string (an email's queued context holds dates as text); None for anything else."""
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return value if isinstance(value, dt.date) else None


@register.filter
def day_before(value: object) -> object:
    """ "2026-12-31" (or a date) -> the date of 30 December 2026: the last free day before a grace period's end (the
    first day without free access); anything else unchanged."""
    day = _as_date(value)
    return day - dt.timedelta(days=1) if day is not None else value


@register.filter
def long_date(value: object) -> str:
    """ "2026-12-31" (or a date) -> "31 December 2026"; anything else unchanged."""
    day = _as_date(value)
    if day is not None:
        return f"{day.day} {day:%B %Y}"
    return "" if value is None else str(value)
