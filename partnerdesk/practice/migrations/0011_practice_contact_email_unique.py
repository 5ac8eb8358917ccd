# Separate from 0010: PostgreSQL refuses to alter a table with the data migration's pending trigger events.

import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("practice", "0010_practice_contact_email_confirmation"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="practice",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("contact_email"),
                condition=models.Q(("contact_email", ""), _negated=True),
                name="practice_contact_email_unique",
            ),
        ),
        migrations.AddConstraint(
            model_name="practice",
            constraint=models.UniqueConstraint(
                condition=models.Q(("contact_email_token_hash", ""), _negated=True),
                fields=("contact_email_token_hash",),
                name="practice_contact_email_token_unique",
            ),
        ),
    ]
