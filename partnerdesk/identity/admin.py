from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from partnerdesk.identity.models import AccessRequest, Company, CompanyMembership, User
from partnerdesk.identity.services import company_rename
from partnerdesk.lib.admin import ReadOnlyAdminMixin


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff", "date_joined"]
    search_fields = ["email", "full_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("full_name",)}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # memberships, decisions and the audit trail point at a login: make it inactive instead


class MembershipInline(admin.TabularInline[CompanyMembership, Company]):
    """Who can use the company. Read-only here: linking, approvals and removals go through the services."""

    model = CompanyMembership
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = ["user", "role", "created_at"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[CompanyMembership]:
        # Each row shows its login and is named "user @ company": joined, not fetched per row.
        return super().get_queryset(request).select_related("user", "company")


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin[Company]):
    """Customer services: the one place a participating client's business name is changed ("change business
    name"): saving a new name records who did it and tells the company's owner."""

    list_display = ["business_name", "customer_number", "registration_id", "owner_email", "owner"]
    list_select_related = ["owner"]  # nullable: Django would not join it by itself
    search_fields = ["business_name", "customer_number", "registration_id", "owner_email"]
    fields = ["business_name", "customer_number", "registration_id", "owner_email", "owner", "created_at"]
    readonly_fields = ["customer_number", "registration_id", "owner_email", "owner", "created_at"]
    inlines = [MembershipInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a company's invoices, audit trail and data outlive any back-office click

    def save_model(self, request: HttpRequest, obj: Company, form: Any, change: bool) -> None:
        if change and "business_name" in form.changed_data:
            assert isinstance(request.user, User)
            company_rename(actor=request.user, company_id=obj.pk, business_name=obj.business_name, request=request)
        elif not change:
            super().save_model(request, obj, form, change)


@admin.register(AccessRequest)
class AccessRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[AccessRequest]):
    """Requests to use a company's subscription, read-only: the owner (or the managing practice's admins) decides
    them in the product, and the expiry job closes the ones nobody answered."""

    list_display = ["created_at", "company", "requester", "status", "expires_at", "decided_at", "decided_by"]
    list_filter = ["status"]
    list_select_related = ["company", "requester", "decided_by"]
    search_fields = ["company__business_name", "company__customer_number", "requester__email", "requester__full_name"]
    date_hierarchy = "created_at"
    ACCESS_REQUEST_FIELDS = ("company", "requester", "status", "created_at", "expires_at", "decided_at", "decided_by")
    fields = ACCESS_REQUEST_FIELDS
    readonly_fields = ACCESS_REQUEST_FIELDS
