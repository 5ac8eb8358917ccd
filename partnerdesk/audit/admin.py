from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from partnerdesk.audit.models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin[Event]):
    list_display = ["at", "action", "actor_email", "ip", "practice_id", "company_id", "client_id"]
    list_filter = ["action"]
    search_fields = ["actor_email", "action"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
