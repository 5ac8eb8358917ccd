from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from partnerdesk.identity.models import Company


class Practice(models.Model):
    """An accountancy firm: itself a Company with a Partner Edition subscription."""

    company = models.OneToOneField(Company, on_delete=models.PROTECT, related_name="practice")
    name = models.CharField(max_length=200)
    contact_email = models.EmailField(
        blank=True,
        help_text="The contact email in use: always one the practice has proven it receives (a confirmation link "
        "sent to it was opened, or it is the admin's own verified login address). Stored lower-case.",
    )
    contact_email_pending = models.EmailField(
        blank=True, help_text="A new contact email waiting for confirmation: used for nothing until confirmed."
    )
    contact_email_token_hash = models.CharField(
        max_length=64,
        blank=True,
        help_text="SHA-256 of the pending address's confirmation link token; never the token.",
    )
    contact_email_token_expires_at = models.DateTimeField(null=True, blank=True)
    # The discount rate is dated: billing.PracticeDiscount (billing.selectors.discount_rate_in_force).
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # An owner's "Invite your accountant" by this address must lead to one practice only.
            models.UniqueConstraint(
                Lower("contact_email"), condition=~models.Q(contact_email=""), name="practice_contact_email_unique"
            ),
            models.UniqueConstraint(
                fields=["contact_email_token_hash"],
                condition=~models.Q(contact_email_token_hash=""),
                name="practice_contact_email_token_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PracticeMember(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        STAFF = "staff", "Staff"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="practice_memberships")
    role = models.CharField(max_length=10, choices=Role.choices)
    sees_all_clients = models.BooleanField(
        default=True, help_text="Staff only: see every client, or only the clients assigned to them. Admins see all."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "user"], name="practice_member_unique"),
            # A person belongs to one practice: their login address leads an owner's invitation to one practice.
            models.UniqueConstraint(fields=["user"], name="practice_member_one_practice"),
            models.CheckConstraint(condition=models.Q(role__in=["admin", "staff"]), name="practice_member_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.practice} ({self.role})"


class CurrentClientManager(models.Manager["Client"]):
    """Clients whose relationship has not ended. Ended ones are read through ``Client.all_objects``."""

    def get_queryset(self) -> models.QuerySet[Client]:
        return super().get_queryset().filter(ended_at__isnull=True)


class Client(models.Model):
    """One practice's relationship to one company, with the four independent facts of DESIGN.md.

    A relationship that ends (Stop Managing This Client, the client removing the practice) keeps its
    row with ``ended_at`` and ``ended_reason``: the default manager leaves it out everywhere, and it
    shows as a former client while the practice holds Final Accounts data for it."""

    class Tab(models.TextChoices):
        PENDING = "pending", "Pending"
        IMPORTED = "imported", "Imported"
        ACTIVE = "active", "Active"

    class Access(models.TextChoices):
        NONE = "none", "No client access"
        INVITED = "invited", "Awaiting Client Activation"
        BOTH = "both", "My company and client both have access"
        DISABLED = "disabled", "Client access disabled"

    class Payer(models.TextChoices):
        ACCOUNTANT = "accountant", "Accountant paying"
        CLIENT = "client", "Client paying"

    class Ended(models.TextChoices):
        TRANSFERRED = "transferred", "Transferred to the client"
        DELETED = "deleted", "Data deleted and subscription cancelled"
        REVOKED_BY_CLIENT = "revoked_by_client", "The client removed the practice"

    class RequestedBy(models.TextChoices):
        CLIENT = "client", "The client invited the practice"
        PRACTICE = "practice", "The practice asked to manage the company"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="clients")
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="client_relationships")
    business_name = models.CharField(max_length=200)
    contact_name = models.CharField(max_length=150, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=30, blank=True)
    address = models.TextField(blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    vat_number = models.CharField(max_length=14, blank=True)
    company_number = models.CharField(max_length=8, blank=True)
    tab = models.CharField(max_length=10, choices=Tab.choices, default=Tab.ACTIVE)
    access = models.CharField(max_length=10, choices=Access.choices, default=Access.NONE)
    hidden = models.BooleanField(default=False)
    payer = models.CharField(max_length=10, choices=Payer.choices, default=Payer.ACCOUNTANT)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(
        default=1, help_text="Bumped on every details change (optimistic concurrency)."
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_reason = models.CharField(max_length=20, choices=Ended.choices, blank=True)
    grace_ends_on = models.DateField(
        null=True, blank=True, help_text="Transferred non-participating clients: first day without free access."
    )
    grace_reminders_sent = models.PositiveSmallIntegerField(
        default=0, help_text="Grace reminders already sent (day 23, day 29)."
    )
    requested_by = models.CharField(
        max_length=10,
        choices=RequestedBy.choices,
        blank=True,
        default="",
        help_text="Who asked for the connection (Pending tab); blank for clients the practice added or imported.",
    )
    request_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="A practice's request waiting for the client's approval lapses then."
    )

    # The business details a practice edits (Add client, Manage -> Details, import).
    DETAIL_FIELDS: ClassVar[list[str]] = [
        "business_name",
        "contact_name",
        "email",
        "phone",
        "address",
        "postcode",
        "vat_number",
        "company_number",
    ]

    all_objects = models.Manager()
    objects = CurrentClientManager()

    class Meta:
        default_manager_name = "objects"
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "company"],
                condition=models.Q(ended_at__isnull=True),
                name="client_practice_company_unique",
            ),
            models.CheckConstraint(
                condition=(models.Q(ended_at__isnull=True) & models.Q(ended_reason=""))
                | (
                    models.Q(ended_at__isnull=False)
                    & models.Q(ended_reason__in=["transferred", "deleted", "revoked_by_client"])
                ),
                name="client_ended_reason_iff_ended",
            ),
            models.CheckConstraint(
                condition=models.Q(tab__in=["pending", "imported", "active"]), name="client_tab_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(access__in=["none", "invited", "both", "disabled"]), name="client_access_valid"
            ),
            models.CheckConstraint(condition=models.Q(payer__in=["accountant", "client"]), name="client_payer_valid"),
            models.CheckConstraint(
                condition=models.Q(requested_by__in=["", "client", "practice"]), name="client_requested_by_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(tab="pending", requested_by="practice")
                | models.Q(request_expires_at__isnull=False),
                name="client_practice_request_expires",
            ),
        ]
        indexes = [
            models.Index(fields=["practice", "tab", "hidden", "business_name"], name="client_list_idx"),
            models.Index(
                fields=["request_expires_at"],
                condition=models.Q(request_expires_at__isnull=False),
                name="client_request_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.business_name

    @property
    def awaiting_client_approval(self) -> bool:
        """A practice's request to manage the company, still waiting for its owner (Pending tab)."""
        return self.tab == self.Tab.PENDING and self.requested_by == self.RequestedBy.PRACTICE


class PracticeInvitation(models.Model):
    """An admin's invitation for someone to join the practice as admin or staff: a single-use link, stored hashed."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        REVOKED = "revoked", "Revoked"
        EXPIRED = "expired", "Expired"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(help_text="Stored lower-case.")
    role = models.CharField(max_length=10, choices=PracticeMember.Role.choices, default=PracticeMember.Role.STAFF)
    sees_all_clients = models.BooleanField(
        default=False,
        help_text="Staff only: what they see once they accept (every client, or only those assigned to them).",
    )
    token_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the link's token; never the token.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "email"],
                condition=models.Q(status="pending"),
                name="practice_invitation_one_pending",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "accepted", "revoked", "expired"]),
                name="practice_invitation_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=["admin", "staff"]), name="practice_invitation_role_valid"
            ),
        ]
        indexes = [models.Index(fields=["status", "expires_at"], name="practice_invitation_due_idx")]

    def __str__(self) -> str:
        return f"{self.email} -> {self.practice} ({self.status})"


class AccountantInvitation(models.Model):
    """My accountant -> Invite your accountant: the address the owner typed, kept whether or not it belongs to a
    practice, so the portal and the API answer the same for both (decision 25). ``client`` is the practice's
    Pending row when the address matched a practice; the invitation is over once that row is accepted (Active) or
    gone (declined, deleted), and is marked closed when the owner next invites. One pending invitation per company;
    the owner withdraws it to invite another."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        WITHDRAWN = "withdrawn", "Withdrawn"
        CLOSED = "closed", "Answered by the practice"

    company = models.ForeignKey("identity.Company", on_delete=models.CASCADE, related_name="accountant_invitations")
    email = models.EmailField(help_text="Stored lower-case, as typed by the owner.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    matched = models.BooleanField(default=False, help_text="The address was a practice's: a Pending row was made.")
    client = models.ForeignKey(Client, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company"], condition=models.Q(status="pending"), name="accountant_invitation_one_pending"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "withdrawn", "closed"]),
                name="accountant_invitation_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company} -> {self.email} ({self.status})"

    @property
    def answered(self) -> bool:
        """The practice accepted (its row is Active) or declined or deleted it (its row is gone)."""
        return self.matched and (self.client is None or self.client.tab != Client.Tab.PENDING)


class ClientAssignment(models.Model):
    """A client assigned to a staff member who does not see all of the practice's clients."""

    member = models.ForeignKey(PracticeMember, on_delete=models.CASCADE, related_name="assignments")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="assignments")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "client"], name="client_assignment_unique")]
        indexes = [models.Index(fields=["client", "member"], name="client_assignment_client_idx")]

    def __str__(self) -> str:
        return f"{self.client} -> {self.member}"


class ImportBatch(models.Model):
    """A CSV import's preview, kept server-side until it is imported or discarded.

    ``rows`` is a list of ``{"index": 1.., "values": {field: str}, "problems": [{"field", "code", "message"}],
    "dropped": bool}`` in file order; ``index`` is the row's position among the file's data rows."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Preview"
        IMPORTED = "imported", "Imported"
        DISCARDED = "discarded", "Discarded"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="import_batches")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    filename = models.CharField(max_length=255, blank=True)
    rows = models.JSONField(default=list, blank=True)
    ignored_columns = models.JSONField(default=list, blank=True, help_text="Headers that matched no client field.")
    imported_count = models.PositiveIntegerField(default=0)
    imported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["draft", "imported", "discarded"]), name="import_batch_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["practice", "-created_at"], name="import_batch_practice_idx")]

    def __str__(self) -> str:
        return f"{self.filename or 'import'} ({self.status})"


class ClientAccessInvitation(models.Model):
    """An activation link for a client's owner: **Give client access**, or a transfer when the practice
    stops managing a non-participating client. Single-use, stored hashed, valid 14 days; at most one
    pending per client (database constraint)."""

    class Purpose(models.TextChoices):
        ACCESS = "access", "Give client access"
        TRANSFER = "transfer", "Transfer to the client"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        CANCELLED = "cancelled", "Cancelled"
        SUPERSEDED = "superseded", "Replaced by a newer link"
        EXPIRED = "expired", "Expired"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="access_invitations")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="access_invitations")
    email = models.EmailField(help_text="Stored lower-case.")
    purpose = models.CharField(max_length=10, choices=Purpose.choices, default=Purpose.ACCESS)
    token_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the link's token; never the token.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client"], condition=models.Q(status="pending"), name="client_access_invitation_one_pending"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "accepted", "cancelled", "superseded", "expired"]),
                name="client_access_invitation_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(purpose__in=["access", "transfer"]), name="client_access_invitation_purpose_valid"
            ),
        ]
        indexes = [models.Index(fields=["status", "expires_at"], name="client_access_inv_due_idx")]

    def __str__(self) -> str:
        return f"{self.email} -> {self.client_id} ({self.status})"
