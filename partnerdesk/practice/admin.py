from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from partnerdesk.practice.models import Client, ClientAssignment, Practice, PracticeInvitation, PracticeMember


class MemberInline(admin.TabularInline[PracticeMember, Practice]):
    model = PracticeMember
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Practice)
class PracticeAdmin(admin.ModelAdmin[Practice]):
    list_display = ["name", "contact_email", "discount_rate", "created_at"]
    search_fields = ["name"]
    raw_id_fields = ["company"]
    inlines = [MemberInline]

    def save_model(self, request: HttpRequest, obj: Practice, form: Any, change: bool) -> None:
        """A change of discount rate goes through the billing service (audited)."""
        if change and "discount_rate" in form.changed_data:
            from partnerdesk.billing.services import practice_discount_set
            from partnerdesk.identity.models import User

            assert isinstance(request.user, User)
            new_rate = obj.discount_rate
            obj.discount_rate = Practice.objects.values_list("discount_rate", flat=True).get(pk=obj.pk)
            super().save_model(request, obj, form, change)  # the other fields
            practice_discount_set(practice=obj, rate=new_rate, actor=request.user, request=request)
        else:
            super().save_model(request, obj, form, change)


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin[Client]):
    list_display = ["business_name", "practice", "tab", "access", "payer", "hidden"]
    list_filter = ["tab", "access", "payer", "hidden"]
    search_fields = ["business_name", "email", "company__customer_number"]
    raw_id_fields = ["practice", "company"]


@admin.register(PracticeInvitation)
class PracticeInvitationAdmin(admin.ModelAdmin[PracticeInvitation]):
    """Staff invitations (read-only: sending, resending and revoking go through the practice's admins)."""

    list_display = ["email", "practice", "role", "status", "created_at", "expires_at"]
    list_filter = ["status", "role"]
    search_fields = ["email", "practice__name"]
    exclude = ["token_hash"]
    readonly_fields = [
        "practice",
        "email",
        "role",
        "status",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "accepted_by",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ClientAssignment)
class ClientAssignmentAdmin(admin.ModelAdmin[ClientAssignment]):
    list_display = ["client", "member", "assigned_by", "created_at"]
    raw_id_fields = ["client", "member"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
