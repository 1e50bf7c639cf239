"""The staff roles (backoffice/roles.py): "program manager", "support agent", "analyst", "auditor".

Backoffice is the top app, so this migration runs after every app's models exist and can grant across
them (it moved here from campaigns 0003: on a database that ran that one, it finds the groups in place). Permissions are normally created after all migrations (post_migrate): on a fresh database they
are created here first. The "analyst" group of members 0003 is kept and given exactly its role's
permissions. Later models reach the groups through backoffice.roles.staff_groups_sync after every migrate.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from backoffice.roles import ROLES, groups_sync


def staff_groups_create(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    groups_sync(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"), apps.get_model("contenttypes", "ContentType"))


def staff_groups_remove(apps, schema_editor):
    # The analyst group predates this migration (members 0003): it stays.
    apps.get_model("auth", "Group").objects.filter(name__in=[r for r in ROLES if r != "analyst"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("members", "0006_audit_trail"),
        ("rewards", "0002_reward_kind_constraints"),
        ("feedback", "0002_ticket_email_sent"),
        ("campaigns", "0002_remove_offer_reward_id_offer_reward_and_more"),
    ]

    operations = [migrations.RunPython(staff_groups_create, staff_groups_remove)]
