"""Erasure: what feedback forgets when a member is erased."""

from django.db import transaction

from feedback.models import Answer, Invitation, Ticket, TicketMessage
from members.models import Member

ERASED_TEXT = "[erased]"


@transaction.atomic
def member_feedback_erase(*, member: Member) -> dict[str, int]:
    """GDPR erasure: the member's own words go (comments, ticket messages and subjects); scores stay for the
    metrics, as ledger amounts do. Scheduled invitations are cancelled."""
    answers = Answer.objects.filter(response__member=member).exclude(text="").update(text=ERASED_TEXT)
    messages = TicketMessage.objects.filter(ticket__member=member, kind=TicketMessage.Kind.CUSTOMER).update(
        body=ERASED_TEXT
    )
    Ticket.objects.filter(member=member).update(subject=ERASED_TEXT)
    cancelled = Invitation.objects.filter(member=member, status=Invitation.Status.SCHEDULED).update(
        status=Invitation.Status.SKIPPED, skip_reason=Invitation.Skip.INACTIVE
    )
    return {"answers": answers, "messages": messages, "invitations": cancelled}
