"""The monthly invoice run (set-based SQL) and the reads behind the invoice pages, API and CSV export.

``invoice_run(period=...)`` issues, for one calendar month, one invoice per billing account: the practice's own
company for accountant-paying licences, the company itself for client-paying ones. A line is one company's one
service over one contiguous range of the month with one licence and one price:

    billable range = period ∩ subscription item ∩ licence ∩ discount rate in force ∩ price in force   (half-open)
    amount   = monthly RRP x days active / days in the month, to the penny, half up
    discount = amount x the practice's discount rate in force / 100, to the penny, half up (accountant-paying and
               discounted only; the rate is dated, billing.PracticeDiscount, so a change mid-month splits the line)
    net      = amount - discount;  invoice VAT = 20% of the net total, to the penny, half up

Everything is computed by the database with ``INSERT ... SELECT`` and ``UPDATE ... FROM`` (a fixed number of
statements, whatever the number of companies), the same SQL on SQLite and PostgreSQL apart from three
expressions (greatest/least of dates, days between two dates). Money is computed in whole pence (integers), so
rounding is exact on both databases.

Idempotent: an account that already has an invoice for the period is left alone (the unique constraint on
(account, period) backs it up with ``ON CONFLICT DO NOTHING``). Runs for the same period are serialised on
PostgreSQL by a transaction-level advisory lock; a second run started at the same time waits, then finds every
invoice issued and changes nothing.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_tasks import task

from partnerdesk.audit.models import Action, Event
from partnerdesk.audit.services import record_event
from partnerdesk.billing.invoice_notices import notify_issued
from partnerdesk.billing.models import Invoice, InvoiceLine
from partnerdesk.identity.models import Company, User
from partnerdesk.lib.errors import NotFound
from partnerdesk.practice.models import Practice

# pg_advisory_xact_lock(key1, key2): key1 names the job, key2 is the period as YYYYMM.
ADVISORY_LOCK_CLASS = 0x1_0007
VAT_RATE_PERCENT = 20
PENNY = Decimal("0.01")


@dataclass(frozen=True)
class RunResult:
    period: dt.date
    invoices_created: int
    lines_created: int
    invoices_existing: int  # accounts already invoiced for the period (left alone)
    net_total: Decimal = Decimal("0.00")  # of the invoices created by this run
    vat_total: Decimal = Decimal("0.00")
    total: Decimal = Decimal("0.00")


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(period: dt.date) -> dt.date:
    return (period.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def previous_month(today: dt.date) -> dt.date:
    """The period an invoice run on ``today`` bills: the calendar month before today's."""
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def invoice_number(*, period: dt.date, customer_number: str) -> str:
    """``INV-YYYYMM-<account customer number>``: unique per account and month, stable across reruns."""
    return f"{_number_prefix(period)}{customer_number}"


def _number_prefix(period: dt.date) -> str:
    return f"INV-{period:%Y%m}-"


# --------------------------------------------------------------------------------------------
# SQL. Three expressions differ between the vendors; everything else is the same text.


@dataclass(frozen=True)
class _Dialect:
    greatest: str
    least: str
    days_between: str  # format(end=..., start=...)


_DIALECTS = {
    "postgresql": _Dialect(greatest="GREATEST", least="LEAST", days_between="({end} - {start})"),
    "sqlite": _Dialect(
        greatest="MAX", least="MIN", days_between="CAST(julianday({end}) - julianday({start}) AS INTEGER)"
    ),
}


def _dialect() -> _Dialect:
    try:
        return _DIALECTS[connection.vendor]
    except KeyError:
        raise NotImplementedError(f"the invoice run supports SQLite and PostgreSQL, not {connection.vendor}") from None


def _segments_sql(d: _Dialect, *, licence_filter: str, invoice_join: str = "", invoice_column: str = "NULL") -> str:
    """CTEs ending in ``seg``: every billable (account, company, service, licence, discount rate, price) range in
    the period, clipped to the period, with its days; empty ranges are left out.

    ``disc`` holds the practices' discount rates as ranges, like ``price``, plus a 0% range before a practice's
    first rate when that starts after the period does (so no day of a licence is ever lost by the join). The price ranges are a grouped subquery (computed once; a correlated subquery here would be re-evaluated for
    every line). ``licence_filter`` restricts the licences (by their account) before anything is joined to them, so a rerun
    never joins subscription items for accounts that are already invoiced. ``invoice_join`` may join the run's
    invoice for the account (exposing ``invoice_id``)."""
    # A discounted licence is cut where the practice's rate changes (a day before its first rate: no discount).
    lic_starts = f"{d.greatest}(l.starts_on, COALESCE(disc.effective_from, l.starts_on))"
    lic_ends = f"{d.least}(COALESCE(l.ends_on, %(p1)s), COALESCE(disc.next_from, %(p1)s))"
    starts = f"{d.greatest}(s.starts_on, lic.starts_on, price.effective_from, %(p0)s)"
    ends = (
        f"{d.least}(COALESCE(s.ends_on, %(p1)s), COALESCE(lic.ends_on, %(p1)s), "
        f"COALESCE(price.next_from, %(p1)s), %(p1)s)"
    )
    # Only fixed fragments are interpolated (never input); values are bound parameters.
    return f"""
WITH price AS (
    SELECT sp.service_id, sp.monthly_rrp, sp.effective_from, MIN(n.effective_from) AS next_from
    FROM billing_serviceprice sp
    LEFT JOIN billing_serviceprice n ON n.service_id = sp.service_id AND n.effective_from > sp.effective_from
    WHERE sp.effective_from < %(p1)s
    GROUP BY sp.id, sp.service_id, sp.monthly_rrp, sp.effective_from
),
disc AS (
    SELECT pd.practice_id, pd.rate, pd.effective_from, MIN(n.effective_from) AS next_from
    FROM billing_practicediscount pd
    LEFT JOIN billing_practicediscount n ON n.practice_id = pd.practice_id AND n.effective_from > pd.effective_from
    WHERE pd.effective_from < %(p1)s
    GROUP BY pd.id, pd.practice_id, pd.rate, pd.effective_from
    UNION ALL
    SELECT f0.practice_id, 0, NULL, MIN(f0.effective_from)
    FROM billing_practicediscount f0
    GROUP BY f0.practice_id
    HAVING MIN(f0.effective_from) > %(p0)s
),
lic AS (
    SELECT l.company_id, l.payer,
        {lic_starts} AS starts_on,
        {lic_ends} AS ends_on,
        COALESCE(pr.company_id, l.company_id) AS account_id,
        COALESCE(disc.rate, 0) AS discount_rate,
        {invoice_column} AS invoice_id
    FROM billing_licence l
    LEFT JOIN practice_practice pr ON pr.id = l.practice_id AND l.payer = 'accountant'
    LEFT JOIN disc ON disc.practice_id = l.practice_id AND l.payer = 'accountant' AND l.discounted
        AND (disc.next_from IS NULL OR disc.next_from > {d.greatest}(l.starts_on, %(p0)s))
        AND (disc.effective_from IS NULL OR disc.effective_from < COALESCE(l.ends_on, %(p1)s))
    {invoice_join}
    WHERE l.starts_on < %(p1)s AND (l.ends_on IS NULL OR l.ends_on > %(p0)s) AND l.starts_on < COALESCE(l.ends_on, %(p1)s)
      AND {licence_filter}
),
clipped AS (
    SELECT lic.invoice_id, lic.account_id, lic.payer, lic.discount_rate, s.company_id, s.service_id,
        price.monthly_rrp, {starts} AS starts_on, {ends} AS ends_on
    FROM lic
    JOIN billing_subscriptionitem s ON s.company_id = lic.company_id
    JOIN price ON price.service_id = s.service_id
    WHERE s.starts_on < %(p1)s AND (s.ends_on IS NULL OR s.ends_on > %(p0)s)
      AND (price.next_from IS NULL OR price.next_from > %(p0)s)
),
seg AS (
    SELECT clipped.*, {d.days_between.format(end="clipped.ends_on", start="clipped.starts_on")} AS days
    FROM clipped
    WHERE clipped.starts_on < clipped.ends_on
)"""  # noqa: S608 (fixed fragments only; values are bound parameters)


_ACCOUNT = "COALESCE(pr.company_id, l.company_id)"


def _invoices_insert_sql(d: _Dialect) -> str:
    """One invoice (totals still zero) for every account with a billable range and no invoice for the period. What
    the invoice says about whom it bills (customer number, name: the practice's for a practice, else the company's
    business name) is copied onto it here, in the same statement, as the lines copy their client's: an issued
    invoice never changes when a name does."""
    not_invoiced = f"NOT EXISTS (SELECT 1 FROM billing_invoice i WHERE i.account_id = {_ACCOUNT} AND i.period = %(p0)s)"  # noqa: S608
    # INSERT first, then WITH: Python's sqlite3 reports the row count only for statements starting with INSERT.
    return (
        """
INSERT INTO billing_invoice
    (number, account_id, kind, practice_id, customer_number, billed_to_name, period, issued_at, run,
     subtotal, discount_total, net_total, vat_total, total)"""  # noqa: S608
        + _segments_sql(d, licence_filter=not_invoiced)
        + """
SELECT %(prefix)s || c.customer_number, a.account_id,
    CASE WHEN pp.id IS NULL THEN 'company' ELSE 'practice' END, pp.id, c.customer_number,
    CASE WHEN pp.id IS NULL THEN c.business_name ELSE pp.name END, %(p0)s, %(now)s, %(run)s,
    0, 0, 0, 0, 0
FROM (SELECT DISTINCT seg.account_id FROM seg) a
JOIN identity_company c ON c.id = a.account_id
LEFT JOIN practice_practice pp ON pp.company_id = a.account_id
WHERE 1 = 1
ON CONFLICT DO NOTHING"""
    )


def _lines_insert_sql(d: _Dialect) -> str:
    """The lines of the invoices this run has just created (identified by the run's id, never by the clock: two runs
    in the same instant must not both add lines), in pence:
    amount = round_half_up(rrp_p x days / dim), discount = round_half_up(amount_p x rate_bp / 10000)."""
    run_invoice = f"JOIN billing_invoice ri ON ri.account_id = {_ACCOUNT} AND ri.period = %(p0)s AND ri.run = %(run)s"
    return (
        """
INSERT INTO billing_invoiceline
    (invoice_id, company_id, service_id, payer, business_name, customer_number, starts_on, ends_on,
     days_active, days_in_period, monthly_rrp, amount, discount_rate, discount, net)"""  # noqa: S608
        + _segments_sql(d, licence_filter="1 = 1", invoice_join=run_invoice, invoice_column="ri.id")
        + """
SELECT x.invoice_id, x.company_id, x.service_id, x.payer, c.business_name, c.customer_number, x.starts_on, x.ends_on,
    x.days, %(dim)s, x.monthly_rrp, x.amount_p / 100.0, x.discount_rate, x.discount_p / 100.0,
    (x.amount_p - x.discount_p) / 100.0
FROM (
    SELECT y.*, (2 * y.amount_p * y.rate_bp + 10000) / 20000 AS discount_p
    FROM (
        SELECT seg.*,
            (2 * CAST(ROUND(seg.monthly_rrp * 100) AS BIGINT) * seg.days + %(dim)s) / (2 * %(dim)s) AS amount_p,
            CAST(ROUND(seg.discount_rate * 100) AS BIGINT) AS rate_bp
        FROM seg
    ) y
) x
JOIN identity_company c ON c.id = x.company_id"""
    )


# VAT in pence, half up: round(net_p x 20 / 100) = (2 x net_p + 5) div 10 (net_p >= 0). The sums are cast back to
# BIGINT: PostgreSQL's SUM(bigint) is numeric, and numeric division would not truncate.
_TOTALS_UPDATE_SQL = """
UPDATE billing_invoice AS inv SET
    subtotal = t.amount_p / 100.0,
    discount_total = t.discount_p / 100.0,
    net_total = t.net_p / 100.0,
    vat_total = ((2 * t.net_p + 5) / 10) / 100.0,
    total = (t.net_p + (2 * t.net_p + 5) / 10) / 100.0
FROM (
    SELECT l.invoice_id,
        CAST(SUM(CAST(ROUND(l.amount * 100) AS BIGINT)) AS BIGINT) AS amount_p,
        CAST(SUM(CAST(ROUND(l.discount * 100) AS BIGINT)) AS BIGINT) AS discount_p,
        CAST(SUM(CAST(ROUND(l.net * 100) AS BIGINT)) AS BIGINT) AS net_p
    FROM billing_invoiceline l
    JOIN billing_invoice ri ON ri.id = l.invoice_id AND ri.period = %(p0)s AND ri.run = %(run)s
    GROUP BY l.invoice_id
) t
WHERE inv.id = t.invoice_id"""

# Never issue an invoice without lines (cannot happen with the same ranges on both sides; kept as a guard).
_EMPTY_DELETE_SQL = """
DELETE FROM billing_invoice
WHERE period = %(p0)s AND run = %(run)s
  AND NOT EXISTS (SELECT 1 FROM billing_invoiceline l WHERE l.invoice_id = billing_invoice.id)"""

_SUMMARY_SQL = """
SELECT
    COALESCE(SUM(CASE WHEN run = %(run)s THEN 1 ELSE 0 END), 0),
    COALESCE(SUM(CASE WHEN run = %(run)s THEN 0 ELSE 1 END), 0),
    COALESCE(SUM(CASE WHEN run = %(run)s THEN CAST(ROUND(net_total * 100) AS BIGINT) ELSE 0 END), 0),
    COALESCE(SUM(CASE WHEN run = %(run)s THEN CAST(ROUND(vat_total * 100) AS BIGINT) ELSE 0 END), 0)
FROM billing_invoice WHERE period = %(p0)s"""


def invoice_run(*, period: dt.date, actor: User | None = None) -> RunResult:
    """Issue the invoices for the calendar month starting on ``period`` (its first day). Idempotent."""
    if period.day != 1:
        raise ValueError("period must be the first day of a month")
    d = _dialect()
    p1 = next_month(period)
    with transaction.atomic():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Serialise runs for the same period: a concurrent second run waits here, then finds all issued.
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s, %s)", [ADVISORY_LOCK_CLASS, period.year * 100 + period.month]
                )
                # Sorts and hashes over every line of the month stay in memory (this transaction only).
                cursor.execute("SET LOCAL work_mem = '64MB'")
            now = timezone.now()
            # The run's own id, written on every invoice it creates: the later statements find "this run's
            # invoices" by it (a frozen or coarse clock gives two runs the same ``now``).
            run = uuid.uuid4()
            params: dict[str, Any] = {
                "p0": period,
                "p1": p1,
                "dim": (p1 - period).days,
                "now": connection.ops.adapt_datetimefield_value(now),
                "prefix": _number_prefix(period),
                "run": Invoice._meta.get_field("run").get_db_prep_value(run, connection),
            }
            cursor.execute(_invoices_insert_sql(d), params)
            cursor.execute(_lines_insert_sql(d), params)
            lines_created = max(cursor.rowcount, 0)
            cursor.execute(_TOTALS_UPDATE_SQL, params)
            cursor.execute(_EMPTY_DELETE_SQL, params)
            cursor.execute(_SUMMARY_SQL, params)
            created, existing, net_p, vat_p = (int(v) for v in cursor.fetchone())
        # Whoever pays each new invoice is told, in this transaction (bulk inserts: a fixed number of statements).
        if created:
            notify_issued(period=period, run=run)
        result = RunResult(
            period=period,
            invoices_created=created,
            lines_created=lines_created,
            invoices_existing=existing,
            net_total=(Decimal(net_p) / 100).quantize(PENNY),
            vat_total=(Decimal(vat_p) / 100).quantize(PENNY),
            total=(Decimal(net_p + vat_p) / 100).quantize(PENNY),
        )
        record_event(
            action=Action.INVOICE_RUN,
            actor=actor,
            data={
                "period": period.isoformat(),
                "invoices_created": result.invoices_created,
                "lines_created": result.lines_created,
                "invoices_existing": result.invoices_existing,
                "net_total": str(result.net_total),
                "vat_total": str(result.vat_total),
                "total": str(result.total),
            },
        )
    return result


def invoice_run_due(*, today: dt.date) -> RunResult | None:
    """The periodic job's decision: on the 1st, bill the previous month (every tick of the 1st is safe: the run is
    idempotent); on any other day, only catch up a month that has had no run at all (the scheduler was down)."""
    period = previous_month(today)
    if today.day != 1 and Event.objects.filter(action=Action.INVOICE_RUN, data__period=period.isoformat()).exists():
        return None
    return invoice_run(period=period)


@task()
def invoice_run_monthly() -> int:
    """Periodic: issue last month's invoices (Europe/London calendar). Returns the number of invoices created."""
    result = invoice_run_due(today=timezone.localdate())
    return result.invoices_created if result is not None else 0


# --------------------------------------------------------------------------------------------
# Reads: always scoped to the billing account; another tenant's invoice is NotFound (a 404).


def invoices_for_account(*, account: Company) -> QuerySet[Invoice]:
    return Invoice.objects.filter(account=account).order_by("-period", "number")


def invoice_for_account(*, account: Company, number: str) -> Invoice:
    invoice = Invoice.objects.select_related("account", "practice").filter(account=account, number=number).first()
    if invoice is None:
        raise NotFound("No such invoice")
    return invoice


def invoices_for_practice(*, practice: Practice) -> QuerySet[Invoice]:
    """A practice's invoices: those billed to its own company."""
    return Invoice.objects.filter(account_id=practice.company_id).order_by("-period", "number")


def invoice_for_practice(*, practice: Practice, number: str) -> Invoice:
    invoice = Invoice.objects.select_related("account").filter(account_id=practice.company_id, number=number).first()
    if invoice is None:
        raise NotFound("No such invoice")
    return invoice


def invoice_lines(*, invoice: Invoice) -> QuerySet[InvoiceLine]:
    return (
        InvoiceLine.objects.filter(invoice=invoice)
        .select_related("service")
        .order_by("business_name", "company_id", "service__sort_order", "service_id", "starts_on")
    )


@dataclass(frozen=True)
class LineRow:
    """A line as shown: ``last_day`` is the last billed day (inclusive), as people read date ranges."""

    line: InvoiceLine
    last_day: dt.date

    @property
    def period(self) -> str:
        """The billed days as read on the page, the printable page and the PDF: "2 Dec", an en dash, "5 Dec 2026";
        one day as "2 Dec 2026" (not the same day twice)."""
        return billed_days_text(self.line.starts_on, self.last_day)


def billed_days_text(first: dt.date, last: dt.date) -> str:
    """A billed range of days, both inclusive ("2 Dec" EN DASH "5 Dec 2026"; one day: "2 Dec 2026")."""
    if first == last:
        return f"{last.day} {last:%b %Y}"
    return f"{first.day} {first:%b} \u2013 {last.day} {last:%b %Y}"


@dataclass
class ClientGroup:
    """One company's lines on an invoice, with their subtotals (the per-client breakdown)."""

    company_id: int
    business_name: str
    customer_number: str
    rows: list[LineRow] = field(default_factory=list)
    amount: Decimal = Decimal("0.00")
    discount: Decimal = Decimal("0.00")
    net: Decimal = Decimal("0.00")


def invoice_breakdown(*, invoice: Invoice) -> list[ClientGroup]:
    """The invoice's lines grouped by client company (in business-name order), each with its subtotals."""
    groups: list[ClientGroup] = []
    for line in invoice_lines(invoice=invoice):
        if not groups or groups[-1].company_id != line.company_id:
            groups.append(ClientGroup(line.company_id, line.business_name, line.customer_number))
        group = groups[-1]
        group.rows.append(LineRow(line, line.ends_on - dt.timedelta(days=1)))
        group.amount += line.amount
        group.discount += line.discount
        group.net += line.net
    return groups


CSV_HEADER = [
    "Invoice number",
    "Period",
    "Account customer number",
    "Client business name",
    "Client customer number",
    "Service",
    "Who pays",
    "From",
    "To",
    "Days active",
    "Days in month",
    "Monthly RRP",
    "Amount",
    "Discount rate %",
    "Discount",
    "Net",
]


class _Echo:
    def write(self, value: str) -> str:
        return value


def _safe(value: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection): a leading = + - @ is prefixed with a quote."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def invoice_csv(invoice: Invoice, lines: Iterable[InvoiceLine]) -> Iterator[str]:
    """One row per line (``To`` is the last billed day, inclusive), streamed; the BOM lets Excel read UTF-8."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(CSV_HEADER)
    for line in lines:
        yield writer.writerow(
            [
                invoice.number,
                f"{invoice.period:%Y-%m}",
                invoice.customer_number,
                _safe(line.business_name),
                line.customer_number,
                line.service.name,
                line.get_payer_display(),
                line.starts_on.isoformat(),
                (line.ends_on - dt.timedelta(days=1)).isoformat(),
                line.days_active,
                line.days_in_period,
                f"{line.monthly_rrp:.2f}",
                f"{line.amount:.2f}",
                f"{line.discount_rate:.2f}",
                f"{line.discount:.2f}",
                f"{line.net:.2f}",
            ]
        )


def days_in_month(period: dt.date) -> int:
    return calendar.monthrange(period.year, period.month)[1]
