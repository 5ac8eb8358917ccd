from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from partnerdesk.backoffice.models import ChangeRequest, PeriodicRun
from partnerdesk.backoffice.services import change_requests_mark_done
from partnerdesk.identity.models import User


@admin.register(ChangeRequest)
class ChangeRequestAdmin(admin.ModelAdmin[ChangeRequest]):
    """Practices' changes to participating clients, for the administration team to apply."""

    list_display = [
        "created_at",
        "business_name",
        "client_email",
        "practice_name",
        "practice_user_email",
        "status",
        "handled_by",
        "handled_at",
    ]
    list_filter = ["status"]
    search_fields = ["business_name", "client_email", "practice_name", "practice_user_email"]
    readonly_fields = [f.name for f in ChangeRequest._meta.fields]
    actions = ["mark_done"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Mark selected change requests as done")
    def mark_done(self, request: HttpRequest, queryset: QuerySet[ChangeRequest]) -> None:
        assert isinstance(request.user, User)
        done = change_requests_mark_done(
            actor=request.user, ids=list(queryset.values_list("pk", flat=True)), request=request
        )
        self.message_user(request, f"{done} change request{'s' if done != 1 else ''} marked as done.", messages.SUCCESS)


@admin.register(PeriodicRun)
class PeriodicRunAdmin(admin.ModelAdmin[PeriodicRun]):
    list_display = ["name", "slot", "enqueued_at"]
    list_filter = ["name"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
