from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("Feedback loops")

    def ready(self) -> None:
        # Feedback's event types; surveys scheduled after purchases and resolved tickets (handlers);
        # its part of a member's data export (members.exports).
        from feedback import events, exports, handlers  # noqa: F401
