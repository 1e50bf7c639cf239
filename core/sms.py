"""SMS sending behind a small interface, chosen by settings.SMS_BACKEND: the console (development, tests)
or Twilio's Messages API through the official `twilio` client."""

import functools
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


@functools.cache
def _twilio_client(account_sid: str, auth_token: str, api_base: str):
    from twilio.rest import Client

    client = Client(account_sid, auth_token)
    if api_base:
        # Another endpoint for the Messages API (the tests' loopback server speaks it).
        client.api.base_url = api_base
    return client


class TwilioSmsBackend:
    """Twilio's Messages API. TWILIO_FROM is a sender number (+40...) or a Messaging Service SID (MG...);
    Twilio posts each message's status to TWILIO_STATUS_CALLBACK_URL (the campaigns' callback view checks
    its signature). Returns the message SID, stored as the delivery's provider id. A refusal raises
    twilio's TwilioRestException with Twilio's code and message."""

    def send(self, *, to: str, body: str) -> str:
        client = _twilio_client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.TWILIO_API_BASE)
        sender = settings.TWILIO_FROM
        params = {"messaging_service_sid": sender} if sender.startswith("MG") else {"from_": sender}
        if settings.TWILIO_STATUS_CALLBACK_URL:
            params["status_callback"] = settings.TWILIO_STATUS_CALLBACK_URL
        message = client.messages.create(to=to, body=body, **params)
        logger.info("SMS to ...%s sent: %s", to[-3:], message.sid)
        return message.sid


def send_sms(*, to: str, body: str) -> str:
    """Send one SMS; returns the provider's message id."""
    return import_string(settings.SMS_BACKEND)().send(to=to, body=body)
