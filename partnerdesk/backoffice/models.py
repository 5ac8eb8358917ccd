from __future__ import annotations

from django.db import models
from django.utils import timezone


class PeriodicRun(models.Model):
    """One row per periodic job and time slot: the unique key makes any number of schedulers enqueue it once."""

    name = models.CharField(max_length=100)
    slot = models.BigIntegerField(help_text="Seconds since the epoch at the start of the slot.")
    enqueued_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["name", "slot"], name="periodic_run_once_per_slot")]

    def __str__(self) -> str:
        return f"{self.name} @ {self.slot}"
