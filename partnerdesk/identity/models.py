from __future__ import annotations

import secrets
import uuid
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """One person, one account: the email address is the login."""

    email = models.EmailField("email address", max_length=254, unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(default=False, help_text="May sign in to the back office.")
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["full_name"]

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="identity_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


def _new_customer_number() -> str:
    return f"{secrets.randbelow(90_000_000) + 10_000_000}"


def _new_registration_id() -> str:
    return f"MBR{secrets.randbelow(100_000_000):08d}"


class Company(models.Model):
    """A business with a subscription. Numbers are random (not sequential) so they reveal nothing."""

    customer_number = models.CharField(max_length=8, unique=True, editable=False)
    registration_id = models.CharField(max_length=11, unique=True, editable=False)
    business_name = models.CharField(max_length=200)
    owner_email = models.EmailField(blank=True)
    owner = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_companies")
    created_at = models.DateTimeField(default=timezone.now)
    suspended_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set when a client-paying company's grace period ended without a Direct Debit mandate; "
        "its users cannot reach it until payment details are entered.",
    )

    class Meta:
        verbose_name_plural = "companies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(customer_number__regex=r"^[0-9]{8}$"), name="company_customer_number_8_digits"
            ),
            models.CheckConstraint(
                condition=models.Q(registration_id__regex=r"^MBR[0-9]{8}$"), name="company_registration_id_format"
            ),
        ]
        indexes = [
            # Access requests for an ownerless company are decided by whoever proves its recorded owner email:
            # looked up on every home page (identity.selectors.access_requests_to_decide).
            models.Index(
                fields=["owner_email"], condition=models.Q(owner__isnull=True), name="company_ownerless_email_idx"
            )
        ]

    def __str__(self) -> str:
        return self.business_name


class CompanyMembership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Subscription Owner"
        USER = "user", "User"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="company_memberships")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "company"], name="company_membership_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=["owner", "user"]), name="company_membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.company} ({self.role})"


class AccessRequest(models.Model):
    """A person asks to use a company's subscription; its owner (or managing practice's admins) decides."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for approval"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Expired"
        CANCELLED = "cancelled", "Cancelled"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    requester = models.ForeignKey(User, on_delete=models.CASCADE, related_name="access_requests")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="access_requests")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["requester", "company"],
                condition=models.Q(status="pending"),
                name="access_request_one_open_per_person_company",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "approved", "declined", "expired", "cancelled"]),
                name="access_request_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status="pending") | models.Q(decided_at__isnull=False),
                name="access_request_decided_has_time",
            ),
        ]
        indexes = [models.Index(fields=["status", "expires_at"], name="access_request_expiry_idx")]

    def __str__(self) -> str:
        return f"{self.requester} -> {self.company} ({self.status})"


class SpentRefreshToken(models.Model):
    """A refresh token already exchanged for a new one, remembered to detect its reuse (decision 60).

    Reuse of a spent refresh token means two parties hold it, so every token of its family (the
    tokens descended from one authorization code, tagged in ``Token.data``) is revoked. Only the
    hash is kept (allauth's, as in ``Token.hash``); the row lives as long as the family can.
    """

    hash = models.CharField(max_length=255, unique=True)
    family = models.UUIDField(db_index=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey("allauth_idp_oidc.Client", on_delete=models.CASCADE, related_name="+")
    spent_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)

    def __str__(self) -> str:
        return f"Spent refresh token of family {self.family}"
