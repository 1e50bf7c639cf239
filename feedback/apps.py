from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("Feedback loops")

    def ready(self) -> None:
        # Surveys scheduled after purchases and resolved tickets (event handlers).
        from feedback import handlers  # noqa: F401
