"""Two invoice runs for the same month started at once, each on its own connection (PostgreSQL): one invoice per
account, no error, no duplicate line. SQLite serialises writers on the whole file, so there is nothing to race."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, connections

from partnerdesk.billing.invoicing import RunResult, invoice_run
from partnerdesk.billing.models import Invoice, InvoiceLine
from partnerdesk.billing.tests.invoice_factories import (
    accountant_pays,
    client_pays,
    make_company,
    make_practice,
    make_service,
    subscribe,
)

NOV = dt.date(2026, 11, 1)


def _population() -> int:
    """Two practices and client-paying companies: 12 accounts, 40 lines."""
    services = [make_service("inv-conc-a", "14.00"), make_service("inv-conc-b", "30.00")]
    practices = [make_practice("First LLP"), make_practice("Second LLP")]
    for i in range(20):
        company = make_company(f"Client {i}")
        for service in services:
            subscribe(company, service, dt.date(2026, 11, 1 + i))
        if i % 2:
            client_pays(company)
        else:
            accountant_pays(company, practices[i % 4 // 2])
    return 12


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serialises writers: no concurrent runs to race")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("runs", [2, 4])
def test_concurrent_runs_issue_one_invoice_per_account(runs):
    accounts = _population()
    barrier = threading.Barrier(runs)
    results: list[RunResult] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(invoice_run(period=NOV))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=run) for _ in range(runs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert errors == []
    assert sorted(r.invoices_created for r in results) == [0] * (runs - 1) + [accounts]
    assert sorted(r.invoices_existing for r in results) == [0] + [accounts] * (runs - 1)
    assert Invoice.objects.filter(period=NOV).count() == accounts
    assert InvoiceLine.objects.count() == 40
    assert sum(r.lines_created for r in results) == 40


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serialises writers: no concurrent runs to race")
@pytest.mark.django_db(transaction=True)
def test_runs_for_different_months_at_once_are_independent():
    _population()
    barrier = threading.Barrier(2)
    results: dict[dt.date, RunResult] = {}

    def run(period: dt.date) -> None:
        try:
            barrier.wait(timeout=10)
            results[period] = invoice_run(period=period)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(p,)) for p in (NOV, dt.date(2026, 12, 1))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results[NOV].invoices_created == 12
    assert results[dt.date(2026, 12, 1)].invoices_created == 12
    assert Invoice.objects.count() == 24
