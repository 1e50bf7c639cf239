from django.contrib.admin.apps import AdminConfig
from django.db.models.signals import post_migrate


class FidelisAdminConfig(AdminConfig):
    """Django admin with the Fidelis site: its index is the program dashboard."""

    default_site = "config.admin.FidelisAdminSite"

    def ready(self) -> None:
        super().ready()
        from config.admin import analyst_group_sync

        post_migrate.connect(analyst_group_sync, dispatch_uid="fidelis-analyst-group-sync")
