from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from partnerdesk.practice.models import Client, ClientAssignment, Practice, PracticeInvitation, PracticeMember


class MemberInline(admin.TabularInline[PracticeMember, Practice]):
    model = PracticeMember
    extra = 0
    raw_id_fields = ["user"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PracticeMember]:
        # Each row is named "login @ practice (role)": joined, not fetched per row.
        return super().get_queryset(request).select_related("user", "practice")


class PracticeAdminForm(forms.ModelForm[Practice]):
    """The practice's fields, plus a new discount rate from a date (a dated history, like prices: rows already
    written are never edited, so months not yet invoiced keep the rate they had)."""

    new_discount_rate = forms.DecimalField(
        required=False,
        min_value=0,
        max_value=100,
        decimal_places=2,
        label="New discount rate (%)",
        help_text="Percent off RRP on accountant-paying licences. Leave empty to keep the current rate.",
    )
    new_discount_from = forms.DateField(
        required=False,
        label="New rate from",
        help_text="First day at the new rate (today when empty; the current month at the earliest).",
    )

    class Meta:
        model = Practice
        # No contact email: it is only ever an address the practice proved it receives (decision 71). Customer
        # services starts the same confirmation flow as the practice's Settings ("Send confirmation to a new
        # address"), never types one in.
        fields = ["company", "name", "created_at"]

    def clean(self) -> dict[str, Any]:
        """The service's date rules, checked here too so that a refused rate is a form error on its field (the
        practice is not saved, and no "changed successfully" beside it)."""
        from partnerdesk.billing.models import PracticeDiscount
        from partnerdesk.billing.selectors import today

        cleaned: dict[str, Any] = super().clean() or {}
        rate, starts = cleaned.get("new_discount_rate"), cleaned.get("new_discount_from")
        if rate is None:
            if starts is not None:
                self.add_error("new_discount_rate", "Enter the new rate, or leave the date empty.")
            return cleaned
        starts = starts or today()
        if starts < today().replace(day=1):
            self.add_error("new_discount_from", "The current month at the earliest: earlier months are invoiced.")
        elif (
            self.instance.pk and PracticeDiscount.objects.filter(practice=self.instance, effective_from=starts).exists()
        ):
            self.add_error("new_discount_from", f"There is already a rate from {starts:%-d %B %Y}.")
        return cleaned


class PracticeSetupForm(forms.Form):
    """Set up a practice: what customer services takes from a new accountancy firm."""

    business_name = forms.CharField(
        label="Business name",
        max_length=200,
        widget=forms.TextInput(attrs={"class": "vTextField"}),
        help_text="The firm's name, as its clients and invoices will see it.",
    )
    contact_email = forms.EmailField(
        label="Contact email",
        widget=forms.EmailInput(attrs={"class": "vTextField"}),
        help_text="The firm's address for clients' invitations. It counts once someone opens the confirmation link "
        "emailed to it.",
    )
    admin_email = forms.EmailField(
        label="First admin's email",
        widget=forms.EmailInput(attrs={"class": "vTextField"}),
        help_text="Gets an invitation to join as admin (14 days). Also the company's owner email.",
    )
    discount_rate = forms.DecimalField(
        label="Discount rate (%)",
        min_value=0,
        max_value=100,
        decimal_places=2,
        initial=0,
        help_text="Percent off RRP on accountant-paying licences, from today.",
    )


class ContactEmailChangeForm(forms.Form):
    email = forms.EmailField(
        label="New contact email",
        max_length=254,
        widget=forms.EmailInput(attrs={"class": "vTextField", "autocomplete": "off", "spellcheck": "false"}),
        help_text="A link is emailed to this address; it becomes the practice's contact email when someone opens it.",
    )


@admin.register(Practice)
class PracticeAdmin(admin.ModelAdmin[Practice]):
    form = PracticeAdminForm
    list_display = ["name", "contact_email", "discount_today", "created_at"]
    search_fields = ["name"]
    raw_id_fields = ["company"]
    readonly_fields = ["discount_history", "name_with_company", "contact_email_status"]
    fields = [
        "company",
        "name",
        "contact_email_status",
        "created_at",
        "discount_history",
        "new_discount_rate",
        "new_discount_from",
    ]
    inlines = [MemberInline]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # its clients, invoices and audit trail point at it

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """ "Set up a practice" (the list's add button): one form, one service that makes the company, the practice,
        its discount and the first admin's invitation together. Needs ``practice.add_practice``."""
        from partnerdesk.backoffice.services import practice_set_up
        from partnerdesk.identity.models import User
        from partnerdesk.lib.errors import DomainError

        if not self.has_add_permission(request):
            raise PermissionDenied
        form = PracticeSetupForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            assert isinstance(request.user, User)
            try:
                done = practice_set_up(actor=request.user, request=request, **form.cleaned_data)
            except DomainError as exc:
                field = exc.extra.get("field")
                form.add_error(field if field in form.fields else None, exc.message)
            else:
                self.message_user(
                    request,
                    f"{done.practice.name} is set up (Customer Number {done.company.customer_number}). "
                    f"{done.invitation.email} has been invited as its first admin; the invitation expires on "
                    f"{done.invitation.expires_at:%-d %B %Y}. The contact email {done.practice.contact_email_pending} "
                    "has been sent a confirmation link: it is used once confirmed.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:practice_practice_change", args=[done.practice.pk]))
        context = {
            **self.admin_site.each_context(request),
            **(extra_context or {}),
            "title": "Set up a practice",
            "subtitle": None,
            "opts": self.opts,
            "form": form,
            "has_view_permission": self.has_view_permission(request),
        }
        return TemplateResponse(request, "admin/practice/practice/set_up.html", context)

    def get_fields(self, request: HttpRequest, obj: Practice | None = None) -> Any:
        """Someone who may only view a practice sees its discount history, not two empty "new rate" fields."""
        fields = list(super().get_fields(request, obj))
        if obj is not None:  # its name is its company's business name: renamed there (or in its Settings), together
            fields = ["name_with_company" if name == "name" else name for name in fields]
        else:  # a new practice has no contact email yet: its page then offers to send a confirmation link
            fields = [name for name in fields if name != "contact_email_status"]
        if not self.has_change_permission(request, obj):
            fields = [name for name in fields if not (isinstance(name, str) and name.startswith("new_discount_"))]
        return fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Practice]:
        from partnerdesk.billing.selectors import discount_rate_subquery, today

        # The list's "Discount rate today" in the same query, not one query per practice.
        return super().get_queryset(request).annotate(discount_rate_today=discount_rate_subquery(on=today()))

    @admin.display(description="Name")
    def name_with_company(self, obj: Practice) -> str:
        return (
            f"{obj.name} (the business name of its own company, customer number {obj.company.customer_number}: "
            "change it on that company, or the practice's admins do in Settings; both change together)"
        )

    @admin.display(description="Contact email")
    def contact_email_status(self, obj: Practice) -> str:
        """The address in use (always proven), any address waiting for its confirmation link, and the one way to
        change it from here."""
        in_use = format_html("<strong>{}</strong>", obj.contact_email) if obj.contact_email else "None"
        waiting = mark_safe("")
        if obj.contact_email_pending:
            expires_at = obj.contact_email_token_expires_at
            if not obj.contact_email_token_hash or expires_at is None:
                state = "no link sent"
            elif expires_at <= timezone.now():
                state = f"its link expired on {timezone.localtime(expires_at):%-d %B %Y}"
            else:
                state = f"a link was sent to it, usable until {timezone.localtime(expires_at):%-d %B %Y}"
            waiting = format_html(
                "<p>Waiting for confirmation: <strong>{}</strong> ({}).</p>", obj.contact_email_pending, state
            )
        return format_html(
            '<p>{}</p>{}<p><a class="button" href="{}">Send confirmation to a new address</a></p>'
            "<p><small>It changes only when someone opens the link emailed to the new address; the address in use "
            "is told. The practice's admins change it in Settings the same way.</small></p>",
            in_use,
            waiting,
            reverse("admin:practice_practice_contact_email", args=[obj.pk]),
        )

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:object_id>/contact-email/",
                self.admin_site.admin_view(self.contact_email_view),
                name="practice_practice_contact_email",
            ),
            *super().get_urls(),
        ]

    def contact_email_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Send confirmation to a new address: the practice's Settings flow, started by customer services (who may
        view practices: the address changes only once its mailbox confirms, and the old one is told)."""
        from partnerdesk.backoffice.services import practice_contact_email_send_confirmation
        from partnerdesk.identity.models import User
        from partnerdesk.lib.errors import DomainError

        practice = self.get_object(request, str(object_id))
        if practice is None:
            raise Http404("No such practice")
        if not self.has_view_permission(request, practice):
            raise PermissionDenied
        form = ContactEmailChangeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            assert isinstance(request.user, User)
            try:
                practice_contact_email_send_confirmation(
                    actor=request.user, practice_id=practice.pk, email=form.cleaned_data["email"], request=request
                )
            except DomainError as exc:
                form.add_error("email", exc.message)
            else:
                address, current = form.cleaned_data["email"].strip().lower(), practice.contact_email
                told = f"; {current} was told" if current else ""
                self.message_user(
                    request,
                    f"A confirmation link was sent to {address}. The contact email stays {current or 'empty'} until "
                    f"someone opens the link{told}. The practice's admins have a message about it.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:practice_practice_change", args=[practice.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Send confirmation to a new address",
            "subtitle": practice.name,
            "opts": self.opts,
            "original": practice,
            "form": form,
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/practice/practice/contact_email.html", context)

    @admin.display(description="Discount rate today")
    def discount_today(self, obj: Practice) -> str:
        from partnerdesk.billing.selectors import discount_rate_in_force, today

        if not hasattr(obj, "discount_rate_today"):  # not from get_queryset
            return f"{discount_rate_in_force(practice=obj, on=today())}%"
        rate = getattr(obj, "discount_rate_today", None)  # NULL before the practice's first rate: none
        # Two places as the column holds them (SQLite gives a subquery's decimal without its scale).
        return f"{Decimal('0.00') if rate is None else Decimal(rate).quantize(Decimal('0.01'))}%"

    @admin.display(description="Discount rates")
    def discount_history(self, obj: Practice) -> str:
        rows = list(obj.discounts.order_by("-effective_from")) if obj.pk else []
        return (
            "; ".join(f"{row.rate}% from {row.effective_from.day} {row.effective_from:%B %Y}" for row in rows)
            or "None (0%)"
        )

    def save_model(self, request: HttpRequest, obj: Practice, form: Any, change: bool) -> None:
        """A new discount rate goes through the billing service (dated, audited)."""
        super().save_model(request, obj, form, change)
        rate = form.cleaned_data.get("new_discount_rate")
        if rate is None:
            return
        from partnerdesk.billing.services import practice_discount_set
        from partnerdesk.identity.models import User
        from partnerdesk.lib.errors import DomainError

        assert isinstance(request.user, User)
        try:
            practice_discount_set(
                practice=obj,
                rate=rate,
                effective_from=form.cleaned_data.get("new_discount_from"),
                actor=request.user,
                request=request,
            )
        except DomainError as exc:
            self.message_user(request, f"Discount rate not changed: {exc.message}", messages.ERROR)


class RelationshipFilter(admin.SimpleListFilter):
    """Live relationships, or those the practice stopped managing (transferred, deleted, removed by the client)."""

    title = "relationship"
    parameter_name = "relationship"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("live", "Live"), ("ended", "Ended")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Client]) -> QuerySet[Client]:
        if self.value() == "live":
            return queryset.filter(ended_at__isnull=True)
        if self.value() == "ended":
            return queryset.filter(ended_at__isnull=False)
        return queryset


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin[Client]):
    """Every relationship, ended ones included (decision 29: they keep their row; customer services looks them
    up too), so it reads through ``Client.all_objects``, not the default manager that leaves them out."""

    list_display = ["business_name", "practice", "tab", "access", "payer", "hidden", "ended_reason", "ended_at"]
    list_filter = [RelationshipFilter, "ended_reason", "tab", "access", "payer", "hidden"]
    list_select_related = ["practice"]
    search_fields = ["business_name", "email", "company__customer_number"]
    raw_id_fields = ["practice", "company"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Client]:
        queryset = Client.all_objects.get_queryset()
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # decision 29: a relationship keeps its row (ended, not deleted), through the services


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
    # A member is named "login @ practice (role)"; assigned_by is nullable (Django would not join it by itself).
    list_select_related = ["client", "member__user", "member__practice", "assigned_by"]
    raw_id_fields = ["client", "member"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
