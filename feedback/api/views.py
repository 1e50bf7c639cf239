"""Partner API v1, feedback part: open a ticket for a member (a complaint made at the till, by phone...)."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.response import Response

from feedback import services
from feedback.api import serializers as s
from feedback.models import Ticket
from members.partners.base import PartnerAPIView, idempotent
from members.partners.docs import IDEMPOTENCY_KEY, IN_FLIGHT, WRITE_ERRORS, errors


class TicketsView(PartnerAPIView):
    @extend_schema(
        tags=["feedback"],
        operation_id="tickets_open",
        summary="Open a ticket for a member",
        description="Staff see it in admin with its SLA; the member gets a confirmation with the target date.",
        parameters=[IDEMPOTENCY_KEY],
        request=s.TicketOpenSerializer,
        examples=[
            OpenApiExample(
                "complaint",
                request_only=True,
                value={
                    "member": "402519876543",
                    "subject": "Points missing for my order",
                    "body": "I bought coffee on 20 November and got no points.",
                    "category": "points",
                    "external_id": "CASE-7781",
                },
            )
        ],
        responses={
            201: OpenApiResponse(
                s.TicketSerializer,
                examples=[
                    OpenApiExample(
                        "opened",
                        value={
                            "id": 92,
                            "member": "402519876543",
                            "subject": "Points missing for my order",
                            "category": "points",
                            "priority": "normal",
                            "status": "new",
                            "external_id": "CASE-7781",
                            "created_at": "2026-11-23T09:00:00Z",
                            "acknowledge_due_at": "2026-11-23T10:00:00Z",
                            "due_at": "2026-11-26T09:00:00Z",
                        },
                    )
                ],
            ),
            **errors(
                *WRITE_ERRORS,
                conflicts=(
                    ("duplicate_external_id", "This external id was already used for another ticket."),
                    IN_FLIGHT,
                ),
            ),
        },
    )
    @idempotent
    def post(self, request):
        data = s.TicketOpenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        member = self.member_or_404(fields.pop("member"))
        ticket = services.ticket_open(member=member, partner=self.partner, channel=Ticket.Channel.API, **fields)
        return Response(s.TicketSerializer(ticket).data, status=201)
