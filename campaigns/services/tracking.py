"""What the providers tell after a send. Email (django-anymail's normalised tracking events): a bounce or
a complaint marks the delivery and withdraws the member's email consent, so no campaign mails them again.
SMS (Twilio's status callbacks): a message that could not be delivered marks its delivery failed; one
refused because the member replied STOP withdraws their SMS consent."""

import logging

from django.db import transaction

from campaigns.models import Delivery
from members import services as member_services
from members.models import Member

logger = logging.getLogger(__name__)

# anymail event type -> what the delivery becomes. A soft bounce (mailbox full, greylisting) marks it too,
# but leaves the consent: the address works.
OUTCOMES = {
    "bounced": Delivery.Status.BOUNCED,
    "rejected": Delivery.Status.BOUNCED,
    "complained": Delivery.Status.COMPLAINED,
    "unsubscribed": None,
}


def _delivery(message_id: str, metadata: dict) -> Delivery | None:
    delivery_id = str((metadata or {}).get("delivery", ""))
    if delivery_id.isdigit():
        found = Delivery.objects.select_related("member").filter(pk=int(delivery_id)).first()
        if found is not None:
            return found
    if message_id:
        return Delivery.objects.select_related("member").filter(provider_id=message_id).order_by("-pk").first()
    return None


@transaction.atomic
def email_event_record(
    *, event_type: str, message_id: str, recipient: str, metadata: dict, reason: str = "", soft: bool = False
) -> Delivery | None:
    """Apply one tracking event. Other event types (delivered, opened, ...) change nothing. Safe to repeat:
    providers retry webhooks."""
    if event_type not in OUTCOMES:
        return None
    delivery = _delivery(message_id, metadata)
    outcome = OUTCOMES[event_type]
    if delivery is not None and outcome is not None:
        Delivery.objects.filter(pk=delivery.pk).update(status=outcome, error=(reason or event_type)[:255])
    if soft:
        return delivery
    if delivery is not None:
        members = [delivery.member]
    else:
        # A message of ours we cannot place (a test send, a sign-in link): every member with that address.
        members = list(Member.objects.filter(email__iexact=recipient, consent_email=True)) if recipient else []
    for member in members:
        if member.consent_email:
            member_services.member_consent_set(member=member, channel="email", granted=False)
    logger.info(
        "email %s: delivery %s, consent withdrawn for %d members", event_type, delivery and delivery.pk, len(members)
    )
    return delivery


# Twilio: the recipient replied STOP to the sender (error 21610): they do not want SMS from us.
TWILIO_UNSUBSCRIBED = "21610"


@transaction.atomic
def sms_status_record(*, message_sid: str, status: str, error_code: str = "") -> Delivery | None:
    """Apply one SMS status. queued/sent/delivered change nothing (the delivery is already sent);
    undelivered and failed mark it failed with Twilio's error code. Safe to repeat."""
    delivery = (
        Delivery.objects.select_related("member").filter(provider_id=message_sid, channel=Delivery.Channel.SMS).first()
        if message_sid
        else None
    )
    if delivery is None or status not in ("undelivered", "failed"):
        return delivery
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.FAILED, error=f"SMS {status} (Twilio error {error_code or '-'})"[:255]
    )
    if error_code == TWILIO_UNSUBSCRIBED and delivery.member.consent_sms:
        member_services.member_consent_set(member=delivery.member, channel="sms", granted=False)
    return delivery
