from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from partnerdesk.backoffice.models import ChangeRequest, PeriodicRun
from partnerdesk.backoffice.services import change_requests_mark_done
from partnerdesk.identity.models import User


@admin.register(ChangeRequest)
class ChangeRequestAdmin(admin.ModelAdmin[ChangeRequest]):
    """Practices' changes to participating clients, for the administration team to apply.

    Nothing on a change request is edited here: its page shows the changes as the admin-team email does and has one
    button, "Mark as done" (the same service as the list's action). A new business name is applied on the company."""

    # Few, short columns, so that Status and Handled by stay in view on a 1280-pixel screen beside the filter; the
    # emails and the handling time are on the request's page.
    list_display = ["received", "business_name", "practice_name", "status", "handled_by_name"]
    list_filter = ["status"]
    list_select_related = ["handled_by"]
    search_fields = ["business_name", "client_email", "practice_name", "practice_user_email"]
    CHANGE_REQUEST_FIELDS = (
        "business_name",
        "company_link",
        "client",
        "client_email",
        "practice_name",
        "practice_user_email",
        "changes_table",
        "status",
        "created_at",
        "handled_by",
        "handled_at",
    )
    fields = CHANGE_REQUEST_FIELDS
    readonly_fields = CHANGE_REQUEST_FIELDS
    actions = ["mark_done"]
    change_form_template = "admin/backoffice/changerequest/change_form.html"

    @admin.display(description="Received", ordering="created_at")
    def received(self, obj: ChangeRequest) -> str:
        return f"{timezone.localtime(obj.created_at):%-d %b %Y}"

    @admin.display(description="Handled by", ordering="handled_by__email")
    def handled_by_name(self, obj: ChangeRequest) -> str:
        user = obj.handled_by
        return (user.full_name or user.email) if user is not None else "-"

    def get_queryset(self, request: HttpRequest) -> QuerySet[ChangeRequest]:
        return super().get_queryset(request).select_related("client__company", "handled_by")

    @admin.display(description="Changes")
    def changes_table(self, obj: ChangeRequest) -> str:
        """Field | Before | After, with the Details form's labels (as the admin-team email names them)."""
        from partnerdesk.practice.forms import detail_label

        rows = format_html_join(
            "",
            "<tr><th scope='row'>{}</th><td>{}</td><td>{}</td></tr>",
            (
                (detail_label(field), before or "(none)", after or "(none)")
                for field, (before, after) in (obj.changes or {}).items()
            ),
        )
        return format_html(
            '<table class="change-request-changes"><thead><tr><th scope="col">Field</th><th scope="col">Before</th>'
            '<th scope="col">After</th></tr></thead><tbody>{}</tbody></table>',
            rows,
        )

    @admin.display(description="Company")
    def company_link(self, obj: ChangeRequest) -> str:
        company = obj.client.company
        url = reverse("admin:identity_company_change", args=[company.pk])
        return format_html(
            '<a href="{}">{} ({})</a> — a new business name is applied there',
            url,
            company.business_name,
            company.customer_number,
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """Viewing, and the page's one button: "Mark as done". A POST saves nothing else (every field is
        read-only), so there is no Save button to suggest otherwise."""
        if request.method == "POST":
            obj = self.get_object(request, object_id)
            if obj is None or not self.has_change_permission(request, obj):
                return super().change_view(request, object_id, form_url, extra_context)
            if "_mark_done" in request.POST:
                assert isinstance(request.user, User)
                done = change_requests_mark_done(actor=request.user, ids=[obj.pk], request=request)
                if done:
                    self.message_user(request, "Change request marked as done.", messages.SUCCESS)
                else:
                    self.message_user(request, "This change request was already done.", messages.WARNING)
            return HttpResponseRedirect(request.path)
        context = {
            **(extra_context or {}),
            "title": "Change request",
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
        }
        return super().change_view(request, object_id, form_url, context)

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
