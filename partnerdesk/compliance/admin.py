from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from partnerdesk.compliance.models import AccountsPeriod, Submission


class SubmissionInline(admin.TabularInline[Submission, AccountsPeriod]):
    model = Submission
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "reference", "submitted_at", "created_by", "created_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Submission]:
        # Each row shows who recorded it: joined, not fetched per submission.
        return super().get_queryset(request).select_related("created_by")


@admin.register(AccountsPeriod)
class AccountsPeriodAdmin(admin.ModelAdmin[AccountsPeriod]):
    """Read-only: the practice keeps this data through the services (audited, with the deletion rules)."""

    list_display = ["client", "practice", "period_start", "period_end", "status"]
    list_select_related = ["client", "practice"]
    list_filter = ["status"]
    search_fields = ["client__business_name", "practice__name"]
    raw_id_fields = ["practice", "client", "created_by"]
    inlines = [SubmissionInline]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
