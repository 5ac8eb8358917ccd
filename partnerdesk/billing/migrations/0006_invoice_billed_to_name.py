"""An issued invoice keeps who it was billed to: ``Invoice.billed_to_name``, written by the invoice run. Invoices
issued before it take the names in use now (the practice's name for a practice's invoice, else the company's
business name): the best record there is of what they said."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill(apps, schema_editor):
    Invoice = apps.get_model("billing", "Invoice")
    Practice = apps.get_model("practice", "Practice")
    Company = apps.get_model("identity", "Company")
    Invoice.objects.filter(kind="practice").update(
        billed_to_name=Subquery(Practice.objects.filter(pk=OuterRef("practice_id")).values("name")[:1])
    )
    Invoice.objects.filter(kind="company").update(
        billed_to_name=Subquery(Company.objects.filter(pk=OuterRef("account_id")).values("business_name")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0005_practice_discount"),
        ("identity", "0001_initial"),
        ("practice", "0013_invitation_sees_all_clients"),
    ]

    operations = [
        migrations.AddField(
            model_name="invoice",
            name="billed_to_name",
            field=models.CharField(
                default="",
                help_text="Billed to, as issued: the practice's name (practice invoices) or the company's business "
                "name.",
                max_length=200,
                verbose_name="billed to",
            ),
            preserve_default=False,
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
