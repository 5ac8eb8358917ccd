from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from partnerdesk.identity.models import Company, CompanyMembership, User


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


class MembershipInline(admin.TabularInline[CompanyMembership, Company]):
    model = CompanyMembership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin[Company]):
    list_display = ["business_name", "customer_number", "registration_id", "owner_email", "owner"]
    search_fields = ["business_name", "customer_number", "registration_id", "owner_email"]
    readonly_fields = ["customer_number", "registration_id"]
    raw_id_fields = ["owner"]
    inlines = [MembershipInline]
