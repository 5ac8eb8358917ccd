from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


class OutboundEmail(models.Model):
    """The outbox: one row per ``send_email`` call. Its id is the idempotency key and the Message-ID."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        # Not sent: the link it carries no longer works (its invitation was replaced, cancelled or used).
        SKIPPED = "skipped", "Skipped"
        GIVEN_UP = "given_up", "Given up"  # customer services stopped it for good: never sent, never retried

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    template = models.CharField(max_length=100)
    to = models.JSONField(help_text="List of recipient addresses.")
    context = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    subject = models.CharField(max_length=255, blank=True, help_text="As rendered when sent.")
    about = models.CharField(
        max_length=100,
        blank=True,
        default="",
        help_text='What the email\'s link is for, as "app_label.Model:pk" (an invitation): checked before each '
        "attempt, and the email is skipped once that link no longer works.",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["queued", "sent", "failed", "skipped", "given_up"]),
                name="outbound_status_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="sent") | models.Q(sent_at__isnull=False), name="outbound_sent_has_sent_at"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template} -> {', '.join(self.to)} ({self.status})"

    @property
    def message_id(self) -> str:
        return f"<{self.id}@partnerdesk>"


class Message(models.Model):
    """An in-app message to a company's service or to a practice (exactly one of the two)."""

    company = models.ForeignKey(
        "identity.Company", null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    practice = models.ForeignKey(
        "practice.Practice", null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    subject = models.CharField(max_length=200)
    body = models.TextField()
    link = models.CharField(max_length=500, blank=True)
    owner_only = models.BooleanField(
        default=False, help_text="For the Subscription Owner only (payment, services, who manages the company)."
    )
    client = models.ForeignKey(
        "practice.Client",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Practice messages: the client it is about, while that client exists.",
    )
    visible_to = models.ManyToManyField(
        "practice.PracticeMember",
        blank=True,
        related_name="+",
        help_text="Practice messages about a client: the restricted staff assigned to it when it was posted (they "
        "keep seeing it after the client is gone, e.g. a withdrawn invitation).",
    )
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(company__isnull=False, practice__isnull=True))
                | (models.Q(company__isnull=True, practice__isnull=False)),
                name="message_exactly_one_recipient",
            ),
            models.CheckConstraint(
                condition=models.Q(client__isnull=True) | models.Q(practice__isnull=False),
                name="message_client_only_for_practice",
            ),
        ]
        indexes = [
            # Newest first for one recipient: a practice's Messages page (paged) and a company's latest notices,
            # read from the index instead of sorting every message the recipient ever got.
            models.Index(fields=["practice", "-created_at", "-id"], name="message_practice_recent_idx"),
            models.Index(fields=["company", "-created_at"], name="message_company_recent_idx"),
        ]

    def __str__(self) -> str:
        return self.subject


class DevMail(models.Model):
    """A copy of every email sent while the developer inbox is on (DEBUG without EMAIL_URL)."""

    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    message_id = models.CharField(max_length=255, blank=True)
    from_email = models.CharField(max_length=255)
    to = models.JSONField()
    subject = models.CharField(max_length=255)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return self.subject
