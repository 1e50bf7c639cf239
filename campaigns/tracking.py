"""django-anymail's tracking signal, received here and handed to the service (anymail only speaks signals)."""

from anymail.signals import tracking
from django.dispatch import receiver

from campaigns.services.tracking import email_event_record


@receiver(tracking, dispatch_uid="campaigns.email_tracking")
def email_tracking_received(sender, event, esp_name, **kwargs) -> None:
    raw = event.esp_event if isinstance(event.esp_event, dict) else {}
    email_event_record(
        event_type=event.event_type,
        message_id=event.message_id or "",
        recipient=event.recipient or "",
        metadata=event.metadata or {},
        reason=event.mta_response or event.description or event.reject_reason or "",
        soft="soft" in str(raw.get("event", "")),
    )
