"""Reactions to other apps' events: surveys after purchases and resolved tickets; erasure of a member's words."""

from feedback import services
from feedback.events import TicketResolved
from feedback.models import Survey
from members.events import MemberErased, PurchaseRecorded
from members.models import Event, Partner
from members.outbox import handles


@handles(PurchaseRecorded)
def survey_after_purchase(event: Event) -> None:
    if event.member is None:  # the member was deleted before dispatch
        return
    payload = PurchaseRecorded.read(event)
    services.surveys_schedule_after(
        trigger=Survey.Trigger.PURCHASE,
        member=event.member,
        reference=f"purchase:{payload.purchase}",
        partner=Partner.objects.filter(pk=payload.partner).first() if payload.partner else None,
    )


@handles(TicketResolved)
def survey_after_ticket(event: Event) -> None:
    if event.member is None:
        return
    services.surveys_schedule_after(
        trigger=Survey.Trigger.TICKET, member=event.member, reference=f"ticket:{TicketResolved.read(event).ticket}"
    )


@handles(MemberErased)
def erase_member_feedback(event: Event) -> None:
    if event.member is not None:
        services.member_feedback_erase(member=event.member)
