"""Reactions to other apps' events: surveys after purchases and resolved tickets; erasure of a member's words."""

from feedback import services
from feedback.models import Survey
from members.events import handles
from members.models import Event, Partner


@handles("purchase.recorded")
def survey_after_purchase(event: Event) -> None:
    if event.member is None:  # the member was deleted before dispatch
        return
    partner_id = event.payload.get("partner")
    services.surveys_schedule_after(
        trigger=Survey.Trigger.PURCHASE,
        member=event.member,
        reference=f"purchase:{event.payload['purchase']}",
        partner=Partner.objects.filter(pk=partner_id).first() if partner_id else None,
    )


@handles("ticket.resolved")
def survey_after_ticket(event: Event) -> None:
    if event.member is None:
        return
    services.surveys_schedule_after(
        trigger=Survey.Trigger.TICKET, member=event.member, reference=f"ticket:{event.payload['ticket']}"
    )


@handles("member.erased")
def erase_member_feedback(event: Event) -> None:
    if event.member is not None:
        services.member_feedback_erase(member=event.member)
