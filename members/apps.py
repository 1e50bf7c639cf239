from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Members and points")

    def ready(self) -> None:
        # Members' event types and own handlers, the rules-cache invalidation and the webhook sender.
        # (The admin, members.admin, is imported by Django's admin autodiscovery.)
        from django.core import checks

        from core.wallet import check_wallet_configuration
        from members import events, handlers, invalidation  # noqa: F401
        from members.partners import webhooks  # noqa: F401

        # The wallet certificates and keys are read at startup: a bad path or password fails the deploy.
        checks.register(check_wallet_configuration, "wallet")
