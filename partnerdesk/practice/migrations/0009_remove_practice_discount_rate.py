"""The discount rate lives in billing's dated history now (billing 0005 copied each practice's rate there first)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("practice", "0008_accountant_invitation"),
        ("billing", "0005_practice_discount"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="practice", name="practice_discount_rate_range"),
        migrations.RemoveField(model_name="practice", name="discount_rate"),
    ]
