from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from partnerdesk.identity.models import Company


class Practice(models.Model):
    """An accountancy firm: itself a Company with a Partner Edition subscription."""

    company = models.OneToOneField(Company, on_delete=models.PROTECT, related_name="practice")
    name = models.CharField(max_length=200)
    contact_email = models.EmailField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class PracticeMember(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        STAFF = "staff", "Staff"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="practice_memberships")
    role = models.CharField(max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "user"], name="practice_member_unique"),
            models.CheckConstraint(condition=models.Q(role__in=["admin", "staff"]), name="practice_member_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.practice} ({self.role})"


class Client(models.Model):
    """One practice's relationship to one company, with the four independent facts of DESIGN.md."""

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

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "company"], name="client_practice_company_unique"),
            models.CheckConstraint(
                condition=models.Q(tab__in=["pending", "imported", "active"]), name="client_tab_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(access__in=["none", "invited", "both", "disabled"]), name="client_access_valid"
            ),
            models.CheckConstraint(condition=models.Q(payer__in=["accountant", "client"]), name="client_payer_valid"),
        ]
        indexes = [models.Index(fields=["practice", "tab", "hidden", "business_name"], name="client_list_idx")]

    def __str__(self) -> str:
        return self.business_name
