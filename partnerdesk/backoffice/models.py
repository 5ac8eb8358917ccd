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


class ChangeRequest(models.Model):
    """A practice amended a participating client's details: the administration team applies it."""

    class Status(models.TextChoices):
        NEW = "new", "New"
        DONE = "done", "Done"

    client = models.ForeignKey("practice.Client", on_delete=models.CASCADE, related_name="change_requests")
    business_name = models.CharField(max_length=200)
    client_email = models.EmailField(blank=True)
    practice_name = models.CharField(max_length=200)
    practice_user_email = models.EmailField()
    changes = models.JSONField(default=dict, help_text="Field: [old, new]")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    created_at = models.DateTimeField(default=timezone.now)
    handled_by = models.ForeignKey("identity.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=["new", "done"]), name="change_request_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.business_name} ({self.status})"
