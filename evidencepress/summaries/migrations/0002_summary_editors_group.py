"""Create the "Summary editors" group with admin access and the summaries permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Summary editors"
PERMISSIONS = [
    ("wagtailadmin", "admin", "access_admin"),
    ("summaries", "summaryrequest", "view_summaryrequest"),
    ("summaries", "summaryrequest", "change_summaryrequest"),
    ("summaries", "summaryrequest", "delete_summaryrequest"),
]


def create_group(apps, schema_editor):
    # Permissions are normally made after all migrations; make this app's now so the group can
    # hold them on a fresh database.
    config = apps.get_app_config("summaries")
    config.models_module = True
    create_permissions(config, apps=apps, verbosity=0)
    config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    for app_label, model, codename in PERMISSIONS:
        permission = Permission.objects.filter(
            content_type__app_label=app_label, content_type__model=model, codename=codename
        ).first()
        if permission is not None:
            group.permissions.add(permission)


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("summaries", "0001_initial"),
        ("wagtailadmin", "0001_create_admin_access_permissions"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
