from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from partnerdesk.billing.models import DirectDebitMandate
from partnerdesk.lib import crypto

COLUMNS = ["sort_code_encrypted", "account_number_encrypted"]


class Command(BaseCommand):
    help = (
        "Re-encrypt the Direct Debit bank details with the newest FIELD_ENCRYPTION_KEY (the first in the list). "
        "Run after putting a new key first; then the old key can be dropped. Safe to rerun."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, batch_size: int = 500, **options: Any) -> None:
        rotated = 0
        last_pk = 0
        while True:
            with transaction.atomic():
                batch = list(
                    DirectDebitMandate.objects.select_for_update()
                    .filter(pk__gt=last_pk)
                    .order_by("pk")
                    .only("pk", *COLUMNS)[:batch_size]
                )
                if not batch:
                    break
                changed = []
                for mandate in batch:
                    if all(crypto.encrypted_with_newest(getattr(mandate, column)) for column in COLUMNS):
                        continue
                    for column in COLUMNS:
                        setattr(mandate, column, crypto.rotate(getattr(mandate, column)))
                    changed.append(mandate)
                DirectDebitMandate.objects.bulk_update(changed, COLUMNS)
                rotated += len(changed)
                last_pk = batch[-1].pk
        self.stdout.write(
            f"Re-encrypted {rotated} Direct Debit mandate{'s' if rotated != 1 else ''} with the newest key."
        )
