from django.contrib import admin

from partnerdesk.practice.models import Client, Practice, PracticeMember


class MemberInline(admin.TabularInline[PracticeMember, Practice]):
    model = PracticeMember
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Practice)
class PracticeAdmin(admin.ModelAdmin[Practice]):
    list_display = ["name", "contact_email", "created_at"]
    search_fields = ["name"]
    raw_id_fields = ["company"]
    inlines = [MemberInline]


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin[Client]):
    list_display = ["business_name", "practice", "tab", "access", "payer", "hidden"]
    list_filter = ["tab", "access", "payer", "hidden"]
    search_fields = ["business_name", "email", "company__customer_number"]
    raw_id_fields = ["practice", "company"]
