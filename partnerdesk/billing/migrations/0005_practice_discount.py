"""The practice's discount becomes a dated history (``PracticeDiscount``), like service prices. Each existing
practice gets one row: its current rate, from a date no later than any existing licence starts, so every month not
yet invoiced keeps the rate it had (the column ``practice_practice.discount_rate`` is then dropped by
practice 0008)."""

import datetime as dt

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

EARLIEST = dt.date(2000, 1, 1)


def seed(apps, schema_editor):
    Practice = apps.get_model("practice", "Practice")
    Licence = apps.get_model("billing", "Licence")
    PracticeDiscount = apps.get_model("billing", "PracticeDiscount")
    first_licence = Licence.objects.aggregate(first=models.Min("starts_on"))["first"]
    since = min(EARLIEST, first_licence) if first_licence else EARLIEST
    PracticeDiscount.objects.bulk_create(
        [
            PracticeDiscount(practice_id=pk, rate=rate, effective_from=since)
            for pk, rate in Practice.objects.values_list("pk", "discount_rate")
        ],
        batch_size=1000,
    )


def unseed(apps, schema_editor):
    """Backwards: practice 0008's reverse re-adds the column at 0; give it back the rate in force today."""
    Practice = apps.get_model("practice", "Practice")
    PracticeDiscount = apps.get_model("billing", "PracticeDiscount")
    today = dt.date.today()
    for practice in Practice.objects.all():
        row = (
            PracticeDiscount.objects.filter(practice=practice, effective_from__lte=today)
            .order_by("-effective_from")
            .first()
        )
        if row is not None:
            Practice.objects.filter(pk=practice.pk).update(discount_rate=row.rate)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0004_subscription_item_company_service_index"),
        ("practice", "0007_client_requested_by"),
    ]

    operations = [
        migrations.CreateModel(
            name="PracticeDiscount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("rate", models.DecimalField(decimal_places=2, help_text="Percent off RRP.", max_digits=5)),
                ("effective_from", models.DateField()),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "practice",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="discounts",
                        to="practice.practice",
                    ),
                ),
            ],
            options={
                "ordering": ["practice", "-effective_from"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("practice", "effective_from"), name="practice_discount_one_per_day"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("rate__gte", 0), ("rate__lte", 100)), name="practice_discount_rate_valid"
                    ),
                ],
            },
        ),
        migrations.RunPython(seed, unseed, elidable=False),
    ]
