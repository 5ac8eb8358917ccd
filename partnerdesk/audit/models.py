from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils import timezone


class Action(models.TextChoices):
    """Every audited action, named ``<app>.<subject>.<verb>``. Later features add theirs here."""

    IDENTITY_SIGNUP = "identity.user.signup", "Account created"
    IDENTITY_EMAIL_VERIFY = "identity.email.verify", "Email address verified"
    IDENTITY_LOGIN = "identity.login.success", "Signed in"
    IDENTITY_LOGIN_FAILED = "identity.login.failure", "Sign-in failed"
    IDENTITY_LOGOUT = "identity.logout", "Signed out"
    IDENTITY_PASSWORD_CHANGE = "identity.password.change", "Password changed"
    IDENTITY_PASSWORD_RESET = "identity.password.reset", "Password reset"
    IDENTITY_MFA_ADD = "identity.mfa.add", "Two-factor method added"
    IDENTITY_MFA_REMOVE = "identity.mfa.remove", "Two-factor method removed"
    IDENTITY_MFA_RESET = "identity.mfa.reset", "Recovery codes regenerated"
    IDENTITY_SESSION_END = "identity.session.end", "Session ended"
    COMPANY_LINK_OWNER = "identity.company.link_owner", "Linked as subscription owner"
    ACCESS_REQUEST_CREATE = "identity.access_request.create", "Access requested"
    ACCESS_REQUEST_APPROVE = "identity.access_request.approve", "Access request approved"
    ACCESS_REQUEST_DECLINE = "identity.access_request.decline", "Access request declined"
    ACCESS_REQUEST_EXPIRE = "identity.access_request.expire", "Access request expired"
    ACCESS_REQUEST_CANCEL = "identity.access_request.cancel", "Access request cancelled"
    COMPANY_MEMBER_REMOVE = "identity.company.member_remove", "User removed from company"
    COMPANY_RENAME = "backoffice.company.rename", "Business name changed by customer services"
    CHANGE_REQUEST_DONE = "backoffice.change_request.done", "Change request handled"
    CLIENT_CREATE = "practice.client.create", "Client added"
    CLIENT_UPDATE = "practice.client.update", "Client details amended"
    CLIENT_HIDE = "practice.client.hide", "Client hidden"
    CLIENT_SHOW = "practice.client.show", "Client shown"
    CLIENT_DELETE = "practice.client.delete", "Client deleted"
    CLIENT_IMPORT = "practice.client.import", "Client imported from CSV"
    IMPORT_COMMIT = "practice.import.commit", "CSV import completed"
    CLIENT_INVITE_PRACTICE = "practice.client.invite_practice", "Client invited the practice"
    CLIENT_INVITE_PRACTICE_WITHDRAW = "practice.client.invite_practice_withdraw", "Client withdrew its invitation"
    CLIENT_INVITATION_ACCEPT = "practice.client.invitation_accept", "Client invitation accepted"
    CLIENT_INVITATION_DECLINE = "practice.client.invitation_decline", "Client invitation declined"
    CLIENT_CONNECT_REQUEST = "practice.client.connect_request", "Practice asked to manage the company"
    CONNECT_REQUEST_UNMATCHED = "practice.connect.unmatched", "Connect existing client: nothing was requested"
    CLIENT_CONNECT_ACCEPT = "practice.client.connect_accept", "Client accepted the practice's request"
    CLIENT_CONNECT_DECLINE = "practice.client.connect_decline", "Client declined the practice's request"
    CLIENT_CONNECT_EXPIRE = "practice.client.connect_expire", "Practice's request expired"
    STAFF_INVITE = "practice.staff.invite", "Staff member invited"
    STAFF_INVITE_RESEND = "practice.staff.invite_resend", "Staff invitation resent"
    STAFF_INVITE_REVOKE = "practice.staff.invite_revoke", "Staff invitation revoked"
    STAFF_INVITE_EXPIRE = "practice.staff.invite_expire", "Staff invitation expired"
    STAFF_INVITE_ACCEPT = "practice.staff.invite_accept", "Staff invitation accepted"
    STAFF_ROLE_CHANGE = "practice.staff.role_change", "Staff member's role changed"
    STAFF_REMOVE = "practice.staff.remove", "Staff member removed"
    STAFF_VISIBILITY = "practice.staff.visibility", "Staff member's client visibility changed"
    STAFF_ASSIGN = "practice.staff.assign", "Clients assigned to a staff member"
    STAFF_UNASSIGN = "practice.staff.unassign", "Clients unassigned from a staff member"
    PRACTICE_SETTINGS_UPDATE = "practice.settings.update", "Practice settings changed"
    CLIENT_ACCESS_INVITE = "practice.client.access_invite", "Client invited to access their subscription"
    CLIENT_ACCESS_RESEND = "practice.client.access_resend", "Client access invitation resent"
    CLIENT_ACCESS_CANCEL = "practice.client.access_cancel", "Client access invitation cancelled"
    CLIENT_ACCESS_EXPIRE = "practice.client.access_expire", "Client access invitation expired"
    CLIENT_ACCESS_ACCEPT = "practice.client.access_accept", "Client activated their access"
    CLIENT_DISABLE = "practice.client.disable", "Client access disabled"
    CLIENT_ENABLE = "practice.client.enable", "Client access enabled"
    CLIENT_STOP = "practice.client.stop", "Stopped managing this client"
    CLIENT_TRANSFER = "practice.client.transfer", "Data and subscription transferred to the client"
    CLIENT_DELETE_DATA = "practice.client.delete_data", "Data deleted and subscription cancelled"
    CLIENT_REVOKED = "practice.client.revoked_by_client", "The client removed their accountant"
    COMPANY_GRACE_REMINDER = "billing.company.grace_reminder", "Payment details reminder sent"
    COMPANY_SUSPEND = "billing.company.suspend", "Access suspended: no payment details after the grace period"
    COMPANY_UNSUSPEND = "billing.company.unsuspend", "Access restored: payment details entered"
    SUBSCRIPTION_ADD = "billing.subscription.add", "Service added"
    SUBSCRIPTION_REMOVE = "billing.subscription.remove", "Service removed"
    MANDATE_CREATE = "billing.mandate.create", "Direct Debit mandate set up"
    MANDATE_CANCEL = "billing.mandate.cancel", "Direct Debit mandate cancelled"
    INVOICE_RUN = "billing.invoice.run", "Invoice run"
    PRICE_CHANGE = "billing.price.change", "Service price changed"
    PRACTICE_DISCOUNT_CHANGE = "backoffice.practice.discount_change", "Practice discount rate changed"
    PRACTICE_SET_UP = "backoffice.practice.create", "Practice set up by customer services"
    PRACTICE_FIRST_ADMIN = "practice.staff.first_admin", "Subscription Owner became the practice's first admin"
    LEDGER_ENTRY_ADD = "ledger.entry.add", "Bookkeeping entry added"
    LEDGER_IMPORT = "ledger.entry.import", "Bookkeeping entries imported"
    ACCOUNTS_PERIOD_CREATE = "compliance.period.create", "Accounts period created"
    ACCOUNTS_PERIOD_DELETE = "compliance.period.delete", "Accounts period deleted"
    SUBMISSION_CREATE = "compliance.submission.create", "Submission recorded"
    SUBMISSION_DELETE = "compliance.submission.delete", "Submission deleted"
    API_TOKEN_CREATE = "api.token.create", "API token created"
    API_TOKEN_REVOKE = "api.token.revoke", "API token revoked"
    DEMO_LOAD = "demo.data.load", "Demo data loaded"
    OUTBOX_SEND_AGAIN = "notifications.email.send_again", "Email sent again by customer services"
    OUTBOX_GIVE_UP = "notifications.email.give_up", "Email given up by customer services"


class AppendOnlyError(Exception):
    """Audit events are never changed or removed."""


class EventQuerySet(models.QuerySet["Event"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events cannot be updated")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("audit events cannot be deleted")


class Event(models.Model):
    """Append-only audit log. References are kept without FK constraints so history outlives its subjects."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_email = models.EmailField(blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    practice = models.ForeignKey(
        "practice.Practice", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    company = models.ForeignKey(
        "identity.Company", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    client = models.ForeignKey(
        "practice.Client", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    action = models.CharField(max_length=64, choices=Action.choices)
    data = models.JSONField(default=dict, blank=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["client", "-at"], name="audit_event_client_idx"),
            models.Index(fields=["practice", "-at"], name="audit_event_practice_idx"),
            models.Index(fields=["company", "-at"], name="audit_event_company_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("audit events cannot be updated")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events cannot be deleted")
