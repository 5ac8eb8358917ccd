from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from partnerdesk.audit.models import Action, Event
from partnerdesk.lib.admin import ReadOnlyAdminMixin

# allauth's authenticator types, as the Security page names them: one TOTP setup records two "added" events.
MFA_TYPES = {"totp": "authenticator app", "recovery_codes": "recovery codes", "webauthn": "security key"}
MFA_ACTIONS = {Action.IDENTITY_MFA_ADD, Action.IDENTITY_MFA_REMOVE, Action.IDENTITY_MFA_RESET}


def event_label(event: Event) -> str:
    """The action as people read it; a two-factor event names its method ("Two-factor method added: recovery
    codes")."""
    label = str(event.get_action_display())
    kind = (event.data or {}).get("type") if event.action in MFA_ACTIONS else None
    return f"{label}: {MFA_TYPES.get(kind, kind)}" if kind else label


@admin.register(Event)
class EventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Event]):
    """The audit trail, read-only. Practice, company and client by name (one query for the page: joined), found by
    business name, customer number, practice name, actor email or action (its code or its words)."""

    list_display = ["at", "what", "actor_email", "ip", "practice", "company_shown", "client"]
    list_filter = ["action"]
    list_select_related = ["practice", "company", "client"]
    search_fields = [
        "actor_email",
        "action",
        "company__business_name",
        "company__customer_number",
        "client__business_name",
        "practice__name",
    ]
    date_hierarchy = "at"
    EVENT_FIELDS = ("at", "what", "actor", "actor_email", "ip", "practice", "company", "client", "data")
    fields = EVENT_FIELDS
    readonly_fields = EVENT_FIELDS

    @admin.display(description="Action", ordering="action")
    def what(self, obj: Event) -> str:
        return event_label(obj)

    @admin.display(description="Company", ordering="company__business_name")
    def company_shown(self, obj: Event) -> str:
        company = obj.company
        return f"{company.business_name} ({company.customer_number})" if company is not None else "-"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Event], search_term: str
    ) -> tuple[QuerySet[Event], bool]:
        """Also by the action's words ("Two-factor"), as the list shows them."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip().lower()
        if term:
            codes = [code for code, label in Action.choices if term in str(label).lower()]
            if codes:
                results = results | queryset.filter(Q(action__in=codes))
        return results, may_have_duplicates
