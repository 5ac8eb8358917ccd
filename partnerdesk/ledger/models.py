from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from partnerdesk.identity.models import Company


class Entry(models.Model):
    """One bookkeeping entry of a company: a positive amount is income, a negative one an expense (GBP)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="ledger_entries")
    date = models.DateField()
    description = models.CharField(max_length=200)
    amount = models.DecimalField(max_digits=12, decimal_places=2, help_text="Positive: income. Negative: expense.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "entries"
        constraints = [
            models.CheckConstraint(condition=~models.Q(amount=0), name="ledger_entry_amount_not_zero"),
        ]
        indexes = [models.Index(fields=["company", "date"], name="ledger_entry_company_date_idx")]

    def __str__(self) -> str:
        return f"{self.date} {self.description} {self.amount}"
