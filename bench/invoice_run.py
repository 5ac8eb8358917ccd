"""The monthly invoice run over 100,000 companies with 3 services each, on PostgreSQL (issue 7's benchmark).

Run from the repository root (``make bench`` runs it too):

    .venv/bin/python bench/invoice_run.py                      # 100,000 companies, 2 rounds
    BENCH_COMPANIES=20000 .venv/bin/python bench/invoice_run.py
    .venv/bin/python bench/invoice_run.py --explain            # + EXPLAIN ANALYZE of the run's statements

What it does:

1. PostgreSQL from BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bench_invoices), created when
   missing and migrated. The data is generated in SQL (``INSERT ... SELECT generate_series``) and kept: a later run
   reuses a database whose ``bench_invoice_run_meta`` row says it holds this layout at this size.
2. Layout: 5 practices (discounts 10-25%; practice 1's goes up by 5 points on the 16th of the month, so its lines
   split there) and N client companies, each subscribed to 3 services of the seeded
   catalogue (Accounting Standard, Payroll, Final Accounts). Licences: 87% accountant-paying under the practices
   (spread evenly), 10% client-paying, 2% stopped mid-month (practice pays to the 14th, client from the 15th), 1%
   transferred with a grace period running past the month (practice pays to the 5th, nobody after). 5% of
   subscription items start mid-month and 3% end mid-month (prorated lines).
3. For the month (November 2026), per round: the invoices are deleted, then timed:
   - **floor**: the same lines written by one plain ``INSERT ... SELECT`` (licence x subscription x price, clipped
     to the month, amounts in pence) into a scratch table shaped like ``billing_invoiceline`` (same columns,
     indexes and checks; no foreign keys), committed;
   - **run**: ``invoice_run(period=...)`` (invoices, lines, totals, audit event, one transaction, committed);
   - **rerun**: the same call again (must change nothing).
   The floor's rows are checked against the run's (count and sums of amount, discount and net).
4. Prints seconds (best of the rounds) and the ratios run/floor (target <= 3) and rerun/run (target < 0.10).
   Also, for information, a floor into a bare scratch table (no indexes, no checks).

Figures are printed, never asserted. The exit status is non-zero only for a broken run (no PostgreSQL, a floor that
disagrees with the run, a rerun that changed something).

Environment: BENCH_DATABASE_URL, BENCH_COMPANIES (100000), BENCH_ROUNDS (2).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path

from bench_login import ROOT, BenchError, ensure_database, env_int, manage

DEFAULT_DB_URL = "postgres://postgres@127.0.0.1:5432/bench_invoices"
PRACTICES = 5
SERVICES = ("accounting-standard", "payroll", "final-accounts")
PERIOD = dt.date(2026, 11, 1)
LAYOUT = f"v2:practices={PRACTICES}:services={','.join(SERVICES)}:period={PERIOD}"
TARGET_RUN_FLOOR = 3.0
TARGET_RERUN_RUN = 0.10


def generate_sql(n: int, service_ids: list[int]) -> list[str]:
    """Companies 1..5 are the practices' own; company 5 + k is client k (k = 1..n). Ids explicit, sequences moved."""
    p0 = f"DATE '{PERIOD.isoformat()}'"
    total = PRACTICES + n
    services = "ARRAY[" + ",".join(str(s) for s in service_ids) + "]::bigint[]"
    return [
        "SET LOCAL synchronous_commit = off",
        "TRUNCATE billing_invoiceline, billing_invoice, billing_licence, billing_subscriptionitem, "
        "billing_practicediscount, practice_practice, identity_company RESTART IDENTITY CASCADE",
        f"""INSERT INTO identity_company (id, customer_number, registration_id, business_name, owner_email, created_at)
            SELECT i, (10000000 + i)::text, 'MBR' || lpad(i::text, 8, '0'),
                   CASE WHEN i <= {PRACTICES} THEN 'Practice ' || i || ' LLP' ELSE 'Client ' || (i - {PRACTICES}) || ' Ltd' END,
                   '', now()
            FROM generate_series(1, {total}) i""",
        f"""INSERT INTO practice_practice (id, name, contact_email, contact_email_pending, contact_email_token_hash,
                                          created_at, company_id)
            SELECT i, 'Practice ' || i || ' LLP', '', '', '', now(), i
            FROM generate_series(1, {PRACTICES}) i""",
        f"""INSERT INTO billing_practicediscount (practice_id, rate, effective_from, created_at)
            SELECT i, 10 + 5 * (i % 4), DATE '2000-01-01', now() FROM generate_series(1, {PRACTICES}) i
            UNION ALL SELECT 1, 20, {p0} + 15, now()""",
        # Accountant-paying: every k with k % 100 >= 10. 10, 11: stopped on the 14th; 12: transferred (grace).
        f"""INSERT INTO billing_licence (payer, discounted, starts_on, ends_on, created_at, company_id, practice_id)
            SELECT 'accountant', true, DATE '2025-01-01',
                   CASE WHEN k % 100 IN (10, 11) THEN {p0} + 14 WHEN k % 100 = 12 THEN {p0} + 4 END,
                   now(), {PRACTICES} + k, 1 + k % {PRACTICES}
            FROM generate_series(1, {n}) k WHERE k % 100 >= 10""",
        f"""INSERT INTO billing_licence (payer, discounted, starts_on, ends_on, created_at, company_id, practice_id)
            SELECT 'client', false,
                   CASE WHEN k % 100 < 10 THEN DATE '2025-01-01' WHEN k % 100 IN (10, 11) THEN {p0} + 14
                        ELSE {p0} + 34 END,
                   NULL, now(), {PRACTICES} + k, NULL
            FROM generate_series(1, {n}) k WHERE k % 100 <= 12""",
        f"""INSERT INTO billing_subscriptionitem (starts_on, ends_on, created_at, company_id, service_id)
            SELECT CASE WHEN (k + s) % 20 = 0 THEN {p0} + (k % 28) ELSE DATE '2025-01-01' END,
                   CASE WHEN (k + s) % 33 = 1 AND (k + s) % 20 <> 0 THEN {p0} + 10 + (k % 15) END,
                   now(), {PRACTICES} + k, s
            FROM generate_series(1, {n}) k CROSS JOIN unnest({services}) s""",
        "SELECT setval(pg_get_serial_sequence('identity_company', 'id'), (SELECT max(id) FROM identity_company))",
        "SELECT setval(pg_get_serial_sequence('practice_practice', 'id'), (SELECT max(id) FROM practice_practice))",
    ]


# The floor: the same line data by one plain INSERT ... SELECT (PostgreSQL only; LEAD for the price and discount
# ranges; every practice has a rate from 2000, so the discount ranges cover every accountant-paying day).
FLOOR_SQL = """
INSERT INTO {table}
    (invoice_id, company_id, service_id, payer, business_name, customer_number, starts_on, ends_on,
     days_active, days_in_period, monthly_rrp, amount, discount_rate, discount, net)
SELECT account_id, company_id, service_id, payer, business_name, customer_number, starts_on, ends_on,
    days, %(dim)s, monthly_rrp, amount_p / 100.0, rate, discount_p / 100.0, (amount_p - discount_p) / 100.0
FROM (
    SELECT x.*, (2 * amount_p * (rate * 100)::bigint + 10000) / 20000 AS discount_p
    FROM (
        SELECT r.*, (ends_on - starts_on) AS days,
            (2 * (monthly_rrp * 100)::bigint * (ends_on - starts_on) + %(dim)s) / (2 * %(dim)s) AS amount_p
        FROM (
            SELECT COALESCE(pr.company_id, l.company_id) AS account_id, s.company_id, s.service_id, l.payer,
                c.business_name, c.customer_number, p.monthly_rrp,
                COALESCE(d.rate, 0) AS rate,
                GREATEST(s.starts_on, l.starts_on, p.effective_from, d.effective_from, %(p0)s) AS starts_on,
                LEAST(COALESCE(s.ends_on, %(p1)s), COALESCE(l.ends_on, %(p1)s), COALESCE(p.next_from, %(p1)s),
                      COALESCE(d.next_from, %(p1)s), %(p1)s) AS ends_on
            FROM billing_licence l
            LEFT JOIN practice_practice pr ON pr.id = l.practice_id
            LEFT JOIN (SELECT practice_id, rate, effective_from,
                              LEAD(effective_from) OVER (PARTITION BY practice_id ORDER BY effective_from) AS next_from
                       FROM billing_practicediscount) d ON d.practice_id = l.practice_id AND l.discounted
            JOIN billing_subscriptionitem s ON s.company_id = l.company_id
            JOIN (SELECT service_id, monthly_rrp, effective_from,
                         LEAD(effective_from) OVER (PARTITION BY service_id ORDER BY effective_from) AS next_from
                  FROM billing_serviceprice) p ON p.service_id = s.service_id
            JOIN identity_company c ON c.id = s.company_id
        ) r
        WHERE starts_on < ends_on
    ) x
) y
"""


def setup_django(url: str) -> None:
    os.environ.update({"DATABASE_URL": url, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "partnerdesk.settings"})
    os.environ.pop("EMAIL_URL", None)
    os.chdir(ROOT)
    import django

    django.setup()


def ensure_data(n: int) -> tuple[bool, float]:
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_invoice_run_meta (layout text, companies integer)")
        cursor.execute("SELECT layout, companies FROM bench_invoice_run_meta")
        meta = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM billing_subscriptionitem")
        items = cursor.fetchone()[0]
    if meta == (LAYOUT, n) and items == 3 * n:
        return False, 0.0
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, code FROM billing_service WHERE code = ANY(%s)", [list(SERVICES)])
        ids = {code: pk for pk, code in cursor.fetchall()}
        if set(ids) != set(SERVICES):
            raise BenchError(f"the seeded catalogue lacks {set(SERVICES) - set(ids)} (migration 0002)")
        with transaction.atomic():
            for statement in generate_sql(n, [ids[code] for code in SERVICES]):
                cursor.execute(statement)
            cursor.execute("DELETE FROM bench_invoice_run_meta")
            cursor.execute("INSERT INTO bench_invoice_run_meta VALUES (%s, %s)", [LAYOUT, n])
        cursor.execute("VACUUM ANALYZE")
    return True, time.perf_counter() - started


def clear_invoices() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE billing_invoiceline, billing_invoice")
        cursor.execute("DROP TABLE IF EXISTS bench_floor_like, bench_floor_bare, bench_floor_fk")
        cursor.execute("CREATE TABLE bench_floor_bare (LIKE billing_invoiceline INCLUDING IDENTITY)")
        cursor.execute("CREATE TABLE bench_floor_like (LIKE billing_invoiceline INCLUDING ALL)")
        cursor.execute("CREATE TABLE bench_floor_fk (LIKE billing_invoiceline INCLUDING ALL)")
        # The real table's three deferred foreign keys (the floor's invoice_id holds the account's company id, so
        # that one points at identity_company: the same check against a table of the same size class).
        for column, target in (
            ("company_id", "identity_company"),
            ("service_id", "billing_service"),
            ("invoice_id", "identity_company"),
        ):
            cursor.execute(
                f"ALTER TABLE bench_floor_fk ADD FOREIGN KEY ({column}) REFERENCES {target} (id) "
                "DEFERRABLE INITIALLY DEFERRED"
            )
        cursor.execute("VACUUM ANALYZE billing_invoice")
        cursor.execute("VACUUM ANALYZE billing_invoiceline")
        cursor.execute("CHECKPOINT")


def floor(table: str) -> float:
    from django.db import connection, transaction

    from partnerdesk.billing.invoicing import next_month

    params = {"p0": PERIOD, "p1": next_month(PERIOD), "dim": (next_month(PERIOD) - PERIOD).days}
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(FLOOR_SQL.format(table=table), params)
    return time.perf_counter() - started


def sums(table: str) -> tuple:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*), sum(amount), sum(discount), sum(net) FROM {table}")
        return tuple(cursor.fetchone())


def snapshot() -> tuple:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), sum(total), max(xmin::text::bigint), (SELECT count(*) FROM billing_invoiceline),"
            " (SELECT max(xmin::text::bigint) FROM billing_invoiceline) FROM billing_invoice"
        )
        return tuple(cursor.fetchone())


def explain() -> None:
    """EXPLAIN (ANALYZE, BUFFERS) each write of a run and of a rerun, each inside a savepoint rolled back at once,
    so the real statement that follows it is unaffected."""
    from django.db import connection, transaction

    from partnerdesk.billing.invoicing import invoice_run

    def explaining(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        if sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            savepoint = transaction.savepoint()
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                plan = [row[0] for row in cursor.fetchall()]
            transaction.savepoint_rollback(savepoint)
            print("\n-- " + " ".join(sql.split())[:140])
            print("\n".join("   " + line for line in plan))
        return execute(sql, params, many, context)

    clear_invoices()
    for label in ("run", "rerun"):
        print(f"\n==== EXPLAIN ANALYZE: {label}")
        with connection.execute_wrapper(explaining):
            invoice_run(period=PERIOD)
    clear_invoices()


def main() -> int:
    n = env_int("BENCH_COMPANIES", 100_000)
    rounds = env_int("BENCH_ROUNDS", 2)
    url = os.environ.get("BENCH_DATABASE_URL", "").strip() or DEFAULT_DB_URL
    print(f"bench invoice_run: {n:,} companies x {len(SERVICES)} services, {PRACTICES} practices, month {PERIOD:%Y-%m}")
    ensure_database(url)
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "partnerdesk.settings"}
    manage(env, "migrate", "--noinput")
    setup_django(url)
    generated, took = ensure_data(n)
    print(f"data generated in {took:.1f}s" if generated else "data reused (already generated at this size)")

    from partnerdesk.billing.invoicing import invoice_run

    best: dict[str, float] = {}
    for round_no in range(1, rounds + 1):
        clear_invoices()
        t_floor_bare = floor("bench_floor_bare")
        t_floor = floor("bench_floor_like")
        t_floor_fk = floor("bench_floor_fk")
        started = time.perf_counter()
        result = invoice_run(period=PERIOD)
        t_run = time.perf_counter() - started
        before = snapshot()
        started = time.perf_counter()
        again = invoice_run(period=PERIOD)
        t_rerun = time.perf_counter() - started
        if snapshot() != before or again.invoices_created or again.lines_created:
            raise BenchError(f"the rerun changed something: {before} -> {snapshot()}, {again}")
        run_sums, floor_sums = sums("billing_invoiceline"), sums("bench_floor_like")
        if run_sums != floor_sums:
            raise BenchError(f"the floor's lines differ from the run's: run {run_sums}, floor {floor_sums}")
        print(
            f"round {round_no}: floor {t_floor:.3f}s (bare table {t_floor_bare:.3f}s, with foreign keys "
            f"{t_floor_fk:.3f}s), run {t_run:.3f}s "
            f"({result.invoices_created:,} invoices, {result.lines_created:,} lines), rerun {t_rerun:.3f}s"
        )
        pairs = (("floor", t_floor), ("bare", t_floor_bare), ("fk", t_floor_fk), ("run", t_run), ("rerun", t_rerun))
        for key, value in pairs:
            best[key] = min(best.get(key, value), value)

    print(f"\nlines: {run_sums[0]:,}; amount £{run_sums[1]:,}, discount £{run_sums[2]:,}, net £{run_sums[3]:,}")
    print(f"best of {rounds}:")
    print(f"  floor (one INSERT ... SELECT, table shaped like billing_invoiceline)  {best['floor']:8.3f}s")
    print(f"  floor (same, into a bare table: no indexes or checks)                {best['bare']:8.3f}s")
    print(f"  floor (same, plus the real table's 3 deferred foreign keys)          {best['fk']:8.3f}s")
    print(f"  invoice run                                                          {best['run']:8.3f}s")
    print(f"  immediate rerun                                                      {best['rerun']:8.3f}s")
    ratio, rerun_ratio = best["run"] / best["floor"], best["rerun"] / best["run"]
    verdict = {True: "met", False: "NOT met"}
    print(f"run / floor   {ratio:6.2f}x   (target <= {TARGET_RUN_FLOOR:.0f}x: {verdict[ratio <= TARGET_RUN_FLOOR]})")
    fk_ratio = best["run"] / best["fk"]
    print(
        f"run / floor with foreign keys {fk_ratio:6.2f}x   (target <= {TARGET_RUN_FLOOR:.0f}x: {verdict[fk_ratio <= TARGET_RUN_FLOOR]})"
    )
    print(f"run / bare-table floor {best['run'] / best['bare']:6.2f}x   (information)")
    print(
        f"rerun / run   {rerun_ratio:6.1%}   (target < {TARGET_RERUN_RUN:.0%}: {verdict[rerun_ratio < TARGET_RERUN_RUN]})"
    )
    if "--explain" in sys.argv[1:]:
        explain()
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"bench invoice_run: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("bench invoice_run: interrupted", file=sys.stderr)
        sys.exit(130)
