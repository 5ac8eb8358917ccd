from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from partnerdesk.identity.models import User
from partnerdesk.notifications.models import DevMail, Message, OutboundEmail
from partnerdesk.notifications.services import outbox_give_up, outbox_send_again
from partnerdesk.practice.models import PracticeMember


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
    # The context is what the templates fill in: one-time codes and reset or invitation links while the email
    # waits. Customer services sees which values it holds, never the values.
    exclude = ["context"]
    readonly_fields = [f.name for f in OutboundEmail._meta.fields if f.name != "context"] + ["context_holds"]

    @admin.display(description="Context")
    def context_holds(self, obj: OutboundEmail) -> str:
        keys = sorted((obj.context or {}).keys())
        return f"holds {', '.join(keys)} (values not shown)" if keys else "empty"

    actions = ["send_again", "give_up"]

    def _report(self, request: HttpRequest, done: int, selected: int, what: str) -> None:
        plural = "s" if done != 1 else ""
        self.message_user(request, f"{done} email{plural} {what}.", messages.SUCCESS if done else messages.WARNING)
        if selected > done:
            self.message_user(
                request,
                f"{selected - done} already sent or given up: left as they are.",
                messages.WARNING,
            )

    # Customer services may use both (view permission on the outbox): each goes through a service, audited.
    @admin.action(description="Send again now (queued or failed emails)", permissions=["view"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[OutboundEmail]) -> None:
        assert isinstance(request.user, User)
        ids = list(queryset.values_list("pk", flat=True))
        done = outbox_send_again(actor=request.user, ids=ids, request=request)
        self._report(request, done, len(ids), "queued to send again now")

    @admin.action(description="Mark as given up (never sent; queued or failed emails)", permissions=["view"])
    def give_up(self, request: HttpRequest, queryset: QuerySet[OutboundEmail]) -> None:
        assert isinstance(request.user, User)
        ids = list(queryset.values_list("pk", flat=True))
        done = outbox_give_up(actor=request.user, ids=ids, request=request)
        self._report(request, done, len(ids), "marked as given up")

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
    list_select_related = ["company", "practice"]  # both nullable: Django would not join them by itself
    raw_id_fields = ["company", "practice"]

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "visible_to":  # each choice is named "login @ practice (role)": joined, not per choice
            kwargs["queryset"] = PracticeMember.objects.select_related("user", "practice")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # what a company or practice was told stays on record


@admin.register(DevMail)
class DevMailAdmin(admin.ModelAdmin[DevMail]):
    list_display = ["received_at", "subject", "from_email"]
