"""Connect existing client: who asked for a Pending connection (the client or the practice), and when a
practice's request lapses. Existing Pending rows were all invitations from the client.

SQLite rebuilds ``practice_client`` for the new NOT NULL column and the check constraints, and a rebuilt
table loses its triggers: the payer one-way trigger of ``billing.0002`` is created again afterwards
(PostgreSQL alters the table in place and keeps it).
"""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

# The same statement as billing.0002_licence_one_way_and_catalogue (migrations hold constant trigger SQL).
SQLITE_PAYER_TRIGGER = """CREATE TRIGGER practice_client_payer_one_way BEFORE UPDATE OF payer ON practice_client
    WHEN OLD.payer = 'client' AND NEW.payer <> 'client'
    BEGIN SELECT RAISE(ABORT, 'licence payer is one-way: client-paying never returns to accountant-paying'); END"""


def restore_sqlite_trigger(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS practice_client_payer_one_way", params=None)
        schema_editor.execute(SQLITE_PAYER_TRIGGER, params=None)


def pending_rows_were_client_invitations(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Client = apps.get_model("practice", "Client")
    Client._base_manager.filter(tab="pending", requested_by="").update(requested_by="client")


class Migration(migrations.Migration):
    dependencies = [
        ("identity", "0003_company_suspended_at"),
        ("practice", "0006_client_default_manager"),
        ("billing", "0002_licence_one_way_and_catalogue"),
    ]

    operations = [
        # Unapplying rebuilds the table again: the trigger is restored last in that direction too.
        migrations.RunPython(migrations.RunPython.noop, restore_sqlite_trigger, elidable=False),
        migrations.AddField(
            model_name="client",
            name="request_expires_at",
            field=models.DateTimeField(
                blank=True, help_text="A practice's request waiting for the client's approval lapses then.", null=True
            ),
        ),
        migrations.AddField(
            model_name="client",
            name="requested_by",
            field=models.CharField(
                blank=True,
                choices=[
                    ("client", "The client invited the practice"),
                    ("practice", "The practice asked to manage the company"),
                ],
                default="",
                help_text="Who asked for the connection (Pending tab); blank for clients the practice added or imported.",
                max_length=10,
            ),
        ),
        migrations.AddIndex(
            model_name="client",
            index=models.Index(
                condition=models.Q(("request_expires_at__isnull", False)),
                fields=["request_expires_at"],
                name="client_request_due_idx",
            ),
        ),
        migrations.AddConstraint(
            model_name="client",
            constraint=models.CheckConstraint(
                condition=models.Q(("requested_by__in", ["", "client", "practice"])), name="client_requested_by_valid"
            ),
        ),
        migrations.AddConstraint(
            model_name="client",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("requested_by", "practice"), ("tab", "pending"), _negated=True),
                    ("request_expires_at__isnull", False),
                    _connector="OR",
                ),
                name="client_practice_request_expires",
            ),
        ),
        migrations.RunPython(restore_sqlite_trigger, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(pending_rows_were_client_invitations, migrations.RunPython.noop),
    ]
