from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoalitionConfig(AppConfig):
    name = "coalition"
    verbose_name = _("Partner settlement")

    def ready(self) -> None:
        # The statements' part of the nightly reconciliation that members runs.
        from coalition import checks  # noqa: F401
