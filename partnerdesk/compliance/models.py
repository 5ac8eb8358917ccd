from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from partnerdesk.practice.models import Client, Practice


class AccountsPeriod(models.Model):
    """A client's accounting period for Final Accounts, kept by the practice.

    ``client`` is PROTECT on purpose: a client relationship cannot be removed while its Final Accounts data
    exists (delete the submissions, then the periods, first). The data outlives the end of the relationship:
    an ended client with periods stays reachable as a former client (``Client.all_objects``)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        FILED = "filed", "Filed"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="accounts_periods")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="accounts_periods")
    period_start = models.DateField()
    period_end = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gt=models.F("period_start")), name="accounts_period_end_after_start"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["draft", "filed"]), name="accounts_period_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["client", "period_end"], name="accounts_period_client_idx")]

    def __str__(self) -> str:
        return f"{self.client_id}: {self.period_start} to {self.period_end} ({self.status})"


class Submission(models.Model):
    """A filing made for an accounts period: the accounts at Companies House, or the Corporation Tax return."""

    class Kind(models.TextChoices):
        ACCOUNTS = "accounts", "Companies House accounts"
        CT600 = "ct600", "Corporation Tax return (CT600)"

    period = models.ForeignKey(AccountsPeriod, on_delete=models.PROTECT, related_name="submissions")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    reference = models.CharField(max_length=100, help_text="The receipt or submission reference.")
    submitted_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=["accounts", "ct600"]), name="submission_kind_valid"),
        ]
        indexes = [models.Index(fields=["period", "submitted_at"], name="submission_period_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.reference}"
