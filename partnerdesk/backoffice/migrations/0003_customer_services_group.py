"""The "Customer services" group: what the back office's staff need, and nothing more (no deleting companies,
no editing people's logins or the catalogue). Superusers remain for the platform's administrators."""

from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

GROUP = "Customer services"
# app_label.codename
PERMISSIONS = [
    # Change a participating client's business name (the company's only editable field) and handle change requests.
    "identity.view_company",
    "identity.change_company",
    "identity.view_companymembership",
    "backoffice.view_changerequest",
    "backoffice.change_changerequest",
    # Look up, read only.
    "identity.view_user",
    "identity.view_accessrequest",
    "practice.view_practice",
    "practice.view_practicemember",
    "practice.view_client",
    "audit.view_event",
    "notifications.view_outboundemail",
    "notifications.view_message",
    "billing.view_invoice",
    "billing.view_invoiceline",
    "billing.view_licence",
    "billing.view_subscriptionitem",
    "billing.view_service",
    "billing.view_serviceprice",
    "billing.view_directdebitmandate",
]


def forward(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for app_config in apps.get_app_configs():  # permissions are otherwise only made after every migration
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    wanted = []
    for name in PERMISSIONS:
        app_label, codename = name.split(".")
        found = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
        if found is not None:
            wanted.append(found)
    group.permissions.set(wanted)


def backward(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("backoffice", "0002_changerequest"),
        ("identity", "0003_company_suspended_at"),
        ("practice", "0007_client_requested_by"),
        ("billing", "0004_subscription_item_company_service_index"),
        ("audit", "0005_connect_request_actions"),
        ("notifications", "0001_initial"),
    ]

    operations = [migrations.RunPython(forward, backward)]
