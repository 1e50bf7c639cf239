from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RewardsConfig(AppConfig):
    name = "rewards"
    verbose_name = _("Rewards")

    def ready(self) -> None:
        # Rewards' event types; challenge progress and automatic surprises react to members' events;
        # the voucher and stock checks join the nightly reconciliation that members runs; its part of
        # a member's data export (members.exports); catalog prices join every rule revision.
        from rewards import checks, events, exports, handlers, revisions  # noqa: F401

        revisions.register()
