"""Amounts of money as UK readers expect them: £1,234.50, and £1,234.50 after a minus sign (U+2212) when negative."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()

MINUS = "\u2212"


@register.filter
def pounds(value: object, how: str = "") -> str:
    """Two decimals, thousands grouped, the sign before the pound sign; ``|pounds:"unsigned"`` leaves the sign out
    (an expenses total reads "Expenses £800.00"). Anything that is not a number renders as it is."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    text = f"£{abs(amount):,.2f}"
    return f"{MINUS}{text}" if amount < 0 and how != "unsigned" else text
