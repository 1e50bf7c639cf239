from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Members and points")

    def ready(self) -> None:
        # Partner API admin (keys, webhooks), the review-case queue, the rules-cache invalidation and the
        # webhook sender, an event handler.
        from members import fraud_admin, invalidation  # noqa: F401
        from members.api import admin  # noqa: F401
        from members.partners import webhooks  # noqa: F401
