"""Dates in emails as people write them ("31 December 2026"): the outbox keeps a date as its ISO text."""

from __future__ import annotations

import datetime as dt

from django import template

register = template.Library()


@register.filter
def day_before(value: object) -> object:
    """ "2026-12-31" (or a date) -> the date of 30 December 2026: the last free day before a grace period's end (the
    first day without free access); anything else unchanged."""
    day: object = value
    if isinstance(value, str):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(day, dt.date):
        return day - dt.timedelta(days=1)
    return value


@register.filter
def long_date(value: object) -> str:
    """ "2026-12-31" (or a date) -> "31 December 2026"; anything else unchanged."""
    day: object = value
    if isinstance(value, str):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(day, dt.date):
        return f"{day.day} {day:%B %Y}"
    return "" if value is None else str(value)
