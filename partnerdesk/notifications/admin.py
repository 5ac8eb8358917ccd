from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from partnerdesk.notifications.models import DevMail, Message, OutboundEmail


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin[OutboundEmail]):
    list_display = [
        "created_at",
        "template",
        "recipients",
        "status",
        "last_error",
        "attempts",
        "sent_at",
        "next_attempt_at",
    ]
    list_filter = ["status", "template"]
    search_fields = ["id", "template", "subject", "about"]
    readonly_fields = [f.name for f in OutboundEmail._meta.fields]

    @admin.display(description="To")
    def recipients(self, obj: OutboundEmail) -> str:
        return ", ".join(obj.to)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the record of what was sent to whom


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin[Message]):
    list_display = ["created_at", "subject", "company", "practice", "read_at"]
    raw_id_fields = ["company", "practice"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # what a company or practice was told stays on record


@admin.register(DevMail)
class DevMailAdmin(admin.ModelAdmin[DevMail]):
    list_display = ["received_at", "subject", "from_email"]
