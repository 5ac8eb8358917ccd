"""The database refuses overlapping date ranges, on both vendors:

- two licences of one company (who pays is never two payers on one day);
- two subscription items of one company and one service (a service is never billed twice for one day).

Ranges are half-open ``[starts_on, ends_on)`` with a null ``ends_on`` open-ended, so ``[a, b)`` then ``[b, c)``
are adjacent, not overlapping. An empty range (``ends_on = starts_on``: a licence or service cancelled before it
started) covers no day and overlaps nothing.

SQLite: BEFORE INSERT / UPDATE row triggers (SQLite has one writer at a time, so the check cannot race).
PostgreSQL: AFTER statement triggers over the statement's new rows (one set-based check however many rows a
statement writes, e.g. a bulk insert of 300,000 subscription items), using ``daterange(starts_on, ends_on, '[)')``
and ``&&`` (built in: no extension needed). Before checking, the trigger locks the companies concerned
(``FOR NO KEY UPDATE``, which does not block foreign-key checks from other tables), so two transactions writing
ranges for one company are serialised and the second one's check sees the first one's committed rows.
SQLSTATE 23P01 (exclusion_violation) on PostgreSQL and a constraint error on SQLite: both are IntegrityError.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

LICENCE_MESSAGE = "billing_licence_overlap: the licences of one company must not overlap"
ITEM_MESSAGE = "billing_subscriptionitem_overlap: the subscription items of one company and service must not overlap"

# A row's range is non-empty, and it overlaps another row's range (half-open, null end = open).
_SQLITE_OVERLAP = """(NEW.ends_on IS NULL OR NEW.ends_on > NEW.starts_on) AND EXISTS (
        SELECT 1 FROM {table} o
        WHERE o.company_id = NEW.company_id{extra}
          AND (o.ends_on IS NULL OR o.ends_on > o.starts_on)
          AND (o.ends_on IS NULL OR o.ends_on > NEW.starts_on)
          AND (NEW.ends_on IS NULL OR o.starts_on < NEW.ends_on){not_self})"""


def _sqlite_triggers(name: str, table: str, extra: str, columns: str, message: str) -> list[str]:
    on_insert = _SQLITE_OVERLAP.format(table=table, extra=extra, not_self="")
    on_update = _SQLITE_OVERLAP.format(table=table, extra=extra, not_self="\n          AND o.id <> OLD.id")
    return [
        f"""CREATE TRIGGER {name}_insert BEFORE INSERT ON {table}
    WHEN {on_insert}
    BEGIN SELECT RAISE(ABORT, '{message}'); END""",
        f"""CREATE TRIGGER {name}_update BEFORE UPDATE OF {columns} ON {table}
    WHEN {on_update}
    BEGIN SELECT RAISE(ABORT, '{message}'); END""",
    ]


SQLITE_FORWARD = [
    *_sqlite_triggers(
        "billing_licence_no_overlap", "billing_licence", "", "company_id, starts_on, ends_on", LICENCE_MESSAGE
    ),
    *_sqlite_triggers(
        "billing_subscriptionitem_no_overlap",
        "billing_subscriptionitem",
        "\n          AND o.service_id = NEW.service_id",
        "company_id, service_id, starts_on, ends_on",
        ITEM_MESSAGE,
    ),
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS billing_licence_no_overlap_insert",
    "DROP TRIGGER IF EXISTS billing_licence_no_overlap_update",
    "DROP TRIGGER IF EXISTS billing_subscriptionitem_no_overlap_insert",
    "DROP TRIGGER IF EXISTS billing_subscriptionitem_no_overlap_update",
]


def _pg_function(name: str, table: str, extra: str, message: str) -> str:
    return f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
BEGIN
    -- Serialise writers per company: a concurrent transaction's rows are committed (and seen by the check
    -- below, which runs with a new snapshot) before this one goes on.
    PERFORM 1 FROM identity_company c
        WHERE c.id IN (SELECT n.company_id FROM new_rows n)
        ORDER BY c.id
        FOR NO KEY UPDATE;
    IF EXISTS (
        SELECT 1 FROM new_rows n
        JOIN {table} o ON o.company_id = n.company_id{extra} AND o.id <> n.id
        WHERE daterange(n.starts_on, n.ends_on, '[)') && daterange(o.starts_on, o.ends_on, '[)')
    ) THEN
        RAISE EXCEPTION '{message}' USING ERRCODE = 'exclusion_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql"""


def _pg_triggers(name: str, table: str) -> list[str]:
    # A trigger with transition tables has one event: one for INSERT, one for UPDATE, same function.
    return [
        f"""CREATE TRIGGER {name}_insert AFTER INSERT ON {table}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {name}()""",
        f"""CREATE TRIGGER {name}_update AFTER UPDATE ON {table}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {name}()""",
    ]


PG_FORWARD = [
    _pg_function("billing_licence_no_overlap", "billing_licence", "", LICENCE_MESSAGE),
    *_pg_triggers("billing_licence_no_overlap", "billing_licence"),
    _pg_function(
        "billing_subscriptionitem_no_overlap",
        "billing_subscriptionitem",
        " AND o.service_id = n.service_id",
        ITEM_MESSAGE,
    ),
    *_pg_triggers("billing_subscriptionitem_no_overlap", "billing_subscriptionitem"),
]
PG_REVERSE = [
    "DROP TRIGGER IF EXISTS billing_licence_no_overlap_insert ON billing_licence",
    "DROP TRIGGER IF EXISTS billing_licence_no_overlap_update ON billing_licence",
    "DROP FUNCTION IF EXISTS billing_licence_no_overlap()",
    "DROP TRIGGER IF EXISTS billing_subscriptionitem_no_overlap_insert ON billing_subscriptionitem",
    "DROP TRIGGER IF EXISTS billing_subscriptionitem_no_overlap_update ON billing_subscriptionitem",
    "DROP FUNCTION IF EXISTS billing_subscriptionitem_no_overlap()",
]


# Rows already overlapping (a trigger checks only what is written after it): the migration refuses to go on.
EXISTING_OVERLAPS = """SELECT count(*) FROM {table} a JOIN {table} b
    ON b.company_id = a.company_id{extra} AND b.id > a.id
    WHERE (a.ends_on IS NULL OR a.ends_on > a.starts_on) AND (b.ends_on IS NULL OR b.ends_on > b.starts_on)
      AND (a.ends_on IS NULL OR a.ends_on > b.starts_on) AND (b.ends_on IS NULL OR b.starts_on < a.ends_on)"""


def _refuse_existing_overlaps(schema_editor: BaseDatabaseSchemaEditor) -> None:
    checks = [
        ("billing_licence", ""),
        ("billing_subscriptionitem", " AND b.service_id = a.service_id"),
    ]
    with schema_editor.connection.cursor() as cursor:
        for table, extra in checks:
            cursor.execute(EXISTING_OVERLAPS.format(table=table, extra=extra))
            (count,) = cursor.fetchone()
            if count:
                raise RuntimeError(
                    f"{table} has {count} pair(s) of overlapping date ranges: end the earlier row where the later "
                    "one starts, then migrate again"
                )


def forward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    _refuse_existing_overlaps(schema_editor)
    for statement in {"sqlite": SQLITE_FORWARD, "postgresql": PG_FORWARD}.get(vendor, []):
        schema_editor.execute(statement, params=None)


def reverse(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    for statement in {"sqlite": SQLITE_REVERSE, "postgresql": PG_REVERSE}.get(vendor, []):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_licence_one_way_and_catalogue")]
    operations = [migrations.RunPython(forward, reverse, elidable=False)]
