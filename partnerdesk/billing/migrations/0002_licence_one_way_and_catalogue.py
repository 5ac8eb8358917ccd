"""The licence is one-way, enforced by the database on both vendors, and the service catalogue is seeded.

- A licence's payer and discount never change once written (UPDATE refused).
- A company that has ever had a client-paying licence never gets an accountant-paying one (INSERT refused).
- ``practice_client.payer`` never goes from ``client`` back to ``accountant`` (UPDATE refused).
The check constraints on the model forbid a discount on a client-paying licence.
"""

from datetime import date
from decimal import Decimal

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

MESSAGE = "licence payer is one-way: client-paying never returns to accountant-paying"

SQLITE_FORWARD = [
    f"""CREATE TRIGGER billing_licence_immutable_payer BEFORE UPDATE OF payer, discounted, company_id ON billing_licence
    WHEN NEW.payer <> OLD.payer OR NEW.discounted <> OLD.discounted OR NEW.company_id <> OLD.company_id
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER billing_licence_one_way BEFORE INSERT ON billing_licence
    WHEN NEW.payer = 'accountant' AND EXISTS (
        SELECT 1 FROM billing_licence WHERE company_id = NEW.company_id AND payer = 'client')
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER practice_client_payer_one_way BEFORE UPDATE OF payer ON practice_client
    WHEN OLD.payer = 'client' AND NEW.payer <> 'client'
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS billing_licence_immutable_payer",
    "DROP TRIGGER IF EXISTS billing_licence_one_way",
    "DROP TRIGGER IF EXISTS practice_client_payer_one_way",
]
PG_FORWARD = [
    f"""CREATE OR REPLACE FUNCTION billing_licence_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.payer <> OLD.payer OR NEW.discounted <> OLD.discounted OR NEW.company_id <> OLD.company_id THEN
            RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'check_violation';
        END IF;
    ELSIF NEW.payer = 'accountant' AND EXISTS (
        SELECT 1 FROM billing_licence WHERE company_id = NEW.company_id AND payer = 'client') THEN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql""",
    """CREATE TRIGGER billing_licence_guard BEFORE INSERT OR UPDATE ON billing_licence
    FOR EACH ROW EXECUTE FUNCTION billing_licence_guard()""",
    f"""CREATE OR REPLACE FUNCTION practice_client_payer_one_way() RETURNS trigger AS $$
BEGIN
    IF OLD.payer = 'client' AND NEW.payer <> 'client' THEN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql""",
    """CREATE TRIGGER practice_client_payer_one_way BEFORE UPDATE OF payer ON practice_client
    FOR EACH ROW EXECUTE FUNCTION practice_client_payer_one_way()""",
]
PG_REVERSE = [
    "DROP TRIGGER IF EXISTS billing_licence_guard ON billing_licence",
    "DROP FUNCTION IF EXISTS billing_licence_guard()",
    "DROP TRIGGER IF EXISTS practice_client_payer_one_way ON practice_client",
    "DROP FUNCTION IF EXISTS practice_client_payer_one_way()",
]

# Monthly RRP ex VAT, from the start of 2026 (realistic UK small-business cloud accounting prices).
CATALOGUE = [
    ("accounting-start", "Accounting Start", "accounting", Decimal("14.00")),
    ("accounting-standard", "Accounting Standard", "accounting", Decimal("30.00")),
    ("accounting-plus", "Accounting Plus", "accounting", Decimal("42.00")),
    ("payroll", "Payroll", "payroll", Decimal("10.00")),
    ("final-accounts", "Final Accounts", "partner", Decimal("25.00")),
]


def triggers_forward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    for statement in {"sqlite": SQLITE_FORWARD, "postgresql": PG_FORWARD}.get(vendor, []):
        schema_editor.execute(statement, params=None)


def triggers_reverse(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    for statement in {"sqlite": SQLITE_REVERSE, "postgresql": PG_REVERSE}.get(vendor, []):
        schema_editor.execute(statement, params=None)


def seed_catalogue(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Service = apps.get_model("billing", "Service")
    ServicePrice = apps.get_model("billing", "ServicePrice")
    for order, (code, name, product, rrp) in enumerate(CATALOGUE, start=1):
        service, _ = Service.objects.get_or_create(
            code=code, defaults={"name": name, "product": product, "sort_order": order}
        )
        ServicePrice.objects.get_or_create(
            service=service, effective_from=date(2026, 1, 1), defaults={"monthly_rrp": rrp}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0001_initial"),
        ("practice", "0005_clientaccessinvitation_and_more"),
    ]
    operations = [
        migrations.RunPython(triggers_forward, triggers_reverse, elidable=False),
        migrations.RunPython(seed_catalogue, migrations.RunPython.noop),
    ]
