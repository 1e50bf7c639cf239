from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate


class FidelisAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the Fidelis site: its index is the program dashboard."""

    default = False
    default_site = "backoffice.site.FidelisAdminSite"


class BackofficeConfig(AppConfig):
    """The top app: admin site, dashboard, staff roles and two-factor sign-in; it reads every app."""

    default = True
    name = "backoffice"
    verbose_name = "Back office"

    def ready(self) -> None:
        from prometheus_client import REGISTRY

        from backoffice.gauges import BacklogCollector
        from backoffice.roles import staff_groups_sync

        REGISTRY.register(BacklogCollector())

        # Models added by later migrations reach the staff groups (backoffice/roles.py) after every migrate.
        post_migrate.connect(staff_groups_sync, dispatch_uid="fidelis-staff-groups-sync")
