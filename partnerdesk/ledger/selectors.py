"""Reads of a company's bookkeeping entries. Callers have already checked access
(``partnerdesk.practice.access.company_for_user``)."""

from __future__ import annotations

from decimal import Decimal
from typing import TypedDict

from django.db.models import Q, QuerySet, Sum

from partnerdesk.identity.models import Company
from partnerdesk.ledger.models import Entry


class Totals(TypedDict):
    income: Decimal
    expenses: Decimal
    balance: Decimal


def entries_for_company(*, company: Company) -> QuerySet[Entry]:
    """Newest first (date, then the order they were written)."""
    return Entry.objects.filter(company=company).order_by("-date", "-id")


def ledger_count(*, company: Company) -> int:
    return Entry.objects.filter(company=company).count()


def ledger_totals(*, company: Company) -> Totals:
    """Income, expenses (a negative figure) and balance, in one aggregate query."""
    sums = Entry.objects.filter(company=company).aggregate(
        income=Sum("amount", filter=Q(amount__gt=0)), expenses=Sum("amount", filter=Q(amount__lt=0))
    )
    income = sums["income"] or Decimal("0.00")
    expenses = sums["expenses"] or Decimal("0.00")
    return {"income": income, "expenses": expenses, "balance": income + expenses}
