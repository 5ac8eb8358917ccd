from django.contrib import admin

from partnerdesk.ledger.models import Entry


@admin.register(Entry)
class EntryAdmin(admin.ModelAdmin[Entry]):
    """Read-only: entries are written by their company's people and practice through the services (audited)."""

    list_display = ["company", "date", "description", "amount", "created_at"]
    list_select_related = ["company"]
    search_fields = ["company__customer_number", "description"]
    raw_id_fields = ["company", "created_by"]
    date_hierarchy = "date"

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
