from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Members and points")

    def ready(self) -> None:
        # Members' event types, the rules-cache invalidation and the webhook sender, an event handler.
        # (The admin, members.admin, is imported by Django's admin autodiscovery.)
        from members import events, invalidation  # noqa: F401
        from members.partners import webhooks  # noqa: F401
