from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = _("Campaigns")

    def ready(self) -> None:
        # The journey and offer event handlers; its part of a member's data export (members.exports); the
        # email provider's bounce and complaint webhooks (anymail's tracking signal).
        from campaigns import exports, handlers, tracking  # noqa: F401
