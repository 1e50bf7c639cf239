from django.contrib.admin.apps import AdminConfig
from django.db.models.signals import post_migrate


class FidelisAdminConfig(AdminConfig):
    """Django admin with the Fidelis site: its index is the program dashboard."""

    default_site = "config.admin.FidelisAdminSite"

    def ready(self) -> None:
        super().ready()
        from config.roles import staff_groups_sync

        # Models added by later migrations reach the staff groups (config/roles.py) after every migrate.
        post_migrate.connect(staff_groups_sync, dispatch_uid="fidelis-staff-groups-sync")
