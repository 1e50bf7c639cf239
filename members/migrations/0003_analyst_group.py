"""The "analyst" staff role: view-only on every model, plus the admin dashboard.

Permissions are normally created after all migrations ran (post_migrate), so on a fresh database
they are created here first. Models added later by other apps are granted by
backoffice.roles.staff_groups_sync, which runs after every migrate.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ANALYST = "analyst"


def create_analyst_group(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=ANALYST)
    group.permissions.add(*Permission.objects.filter(codename__startswith="view_"))


def remove_analyst_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=ANALYST).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("members", "0002_ledger_notices"),
    ]

    operations = [migrations.RunPython(create_analyst_group, remove_analyst_group)]
