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
    # Restore the flag exactly as it was: when this runs against the project's real app
    # registry, leaving it None made every later post_migrate (e.g. after a test flush) skip
    # this app's content types and permissions.
    config = apps.get_app_config("summaries")
    had_flag = hasattr(config, "models_module")
    previous = getattr(config, "models_module", None)
    config.models_module = True
    try:
        create_permissions(config, apps=apps, verbosity=0)
    finally:
        if had_flag:
            config.models_module = previous
        else:
            del config.models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    for app_label, model, codename in PERMISSIONS:
        permission = Permission.objects.filter(
            content_type__app_label=app_label, content_type__model=model, codename=codename
        ).first()
        if permission is not None:
            group.permissions.add(permission)


def keep_group(apps, schema_editor):
    """Rolling back leaves the group and its members alone.

    Deleting it would also delete every membership, and migrating forward again would make an
    empty group: summary editors would silently lose their role (tests/security/
    test_migrations_safe.py, plan test G6).
    """


class Migration(migrations.Migration):
    dependencies = [
        ("summaries", "0001_initial"),
        ("wagtailadmin", "0001_create_admin_access_permissions"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_group, keep_group)]
