"""SMS sending behind a small interface, chosen by settings.SMS_BACKEND."""

import logging

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class ConsoleSmsBackend:
    """Logs the message instead of sending it (development and tests)."""

    sent: list[tuple[str, str]] = []

    def send(self, *, to: str, body: str) -> str:
        self.sent.append((to, body))
        logger.info("SMS to ...%s (%d chars)", to[-3:], len(body))
        return f"console-{len(self.sent)}"


def send_sms(*, to: str, body: str) -> str:
    """Send one SMS; returns the provider's message id."""
    return import_string(settings.SMS_BACKEND)().send(to=to, body=body)
