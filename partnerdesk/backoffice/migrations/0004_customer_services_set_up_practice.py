"""Customer services sets up a new practice (Practices -> "Set up a practice"): the group gets
``practice.add_practice``, which that form requires. Nothing else is added: the form makes the company, the practice,
its discount and its first admin's invitation through one audited service."""

from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

GROUP = "Customer services"


def forward(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for app_config in apps.get_app_configs():  # permissions are otherwise only made after every migration
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    found = Permission.objects.filter(content_type__app_label="practice", codename="add_practice").first()
    if found is not None:
        group.permissions.add(found)


def backward(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name=GROUP).first()
    found = Permission.objects.filter(content_type__app_label="practice", codename="add_practice").first()
    if group is not None and found is not None:
        group.permissions.remove(found)


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0003_customer_services_group"),
        ("practice", "0013_invitation_sees_all_clients"),
    ]

    operations = [migrations.RunPython(forward, backward)]
