"""What feedback holds about a member, for their data export (members.exports): invitations, answers
and comments, tickets with the messages the member wrote or was sent (internal notes stay out)."""

from feedback.models import Answer, Invitation, Response, Ticket, TicketMessage
from members.exports import export_rows, export_section
from members.models import Member


@export_section("feedback")
def feedback_export(member: Member) -> dict:
    answers: dict[int, list[dict]] = {}
    for row in export_rows(
        Answer.objects.filter(response__member=member).order_by("response_id", "question__position", "question_id"),
        "response_id",
        "question__text",
        "score",
        "text",
    ):
        answers.setdefault(row.pop("response_id"), []).append(row)
    responses = export_rows(
        Response.objects.filter(member=member).order_by("started_at", "id"),
        "id",
        "survey__title",
        "language",
        "score",
        "category",
        "started_at",
        "completed_at",
    )
    for response in responses:
        response["answers"] = answers.get(response.pop("id"), [])

    messages: dict[int, list[dict]] = {}
    for row in export_rows(
        TicketMessage.objects.filter(ticket__member=member, kind__in=TicketMessage.PUBLIC_KINDS).order_by(
            "created_at", "id"
        ),
        "ticket_id",
        "kind",
        "body",
        "created_at",
    ):
        messages.setdefault(row.pop("ticket_id"), []).append(row)
    tickets = export_rows(
        Ticket.objects.filter(member=member).order_by("created_at", "id"),
        "id",
        "subject",
        "category",
        "status",
        "channel",
        "partner__name",
        "created_at",
        "resolved_at",
        "closed_at",
    )
    for ticket in tickets:
        ticket_id = ticket.pop("id")
        ticket["number"] = f"T-{ticket_id:06d}"
        ticket["messages"] = messages.get(ticket_id, [])

    return {
        "survey_invitations": export_rows(
            Invitation.objects.filter(member=member).order_by("send_at", "id"),
            "survey__title",
            "channel",
            "status",
            "send_at",
            "sent_at",
            "opened_at",
        ),
        "survey_responses": responses,
        "tickets": tickets,
    }
