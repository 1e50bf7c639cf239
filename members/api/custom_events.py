"""Partner API v1, operator-defined events: report one of the program's event types for a member."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from members import services
from members.api.members import MEMBER_PARAM, NUMBER
from members.api.serializers import BalanceShortSerializer, NFCCharField
from members.partners.base import PartnerAPIView, idempotent
from members.partners.docs import IDEMPOTENCY_KEY, IN_FLIGHT, WRITE_ERRORS, errors
from members.partners.serializers import StrictSerializer

EVENT_RESULT = {
    "member": NUMBER,
    "type": "run_completed",
    "reference": "RUN-20261120-1",
    "attributes": {"km": 7.5},
    "points": 32,
    "created_at": "2026-11-20T17:42:03Z",
    "balance": {"available": 1272, "pending": 85},
}


class CustomEventSerializer(StrictSerializer):
    type = serializers.CharField(max_length=40, help_text="The key of one of the program's event types.")
    reference = NFCCharField(max_length=120, help_text="Your id of the event: the same one earns once.")
    attributes = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        default=dict,
        help_text="As the event type lists them (string, number or boolean values); others are refused.",
    )


class CustomEventResultSerializer(serializers.Serializer):
    member = serializers.CharField(source="member.number")
    type = serializers.CharField(source="event_type.key")
    reference = serializers.CharField()
    attributes = serializers.DictField(child=serializers.JSONField())
    points = serializers.IntegerField(help_text="0 when the type's daily cap was reached.")
    created_at = serializers.DateTimeField()
    balance = BalanceShortSerializer(source="member")


class MemberEventsView(PartnerAPIView):
    @extend_schema(
        tags=["transactions"],
        operation_id="members_events_create",
        summary="Report an operator-defined event for a member (a class attended, km run, ...)",
        description="Event types are configured by the program's staff (admin → Custom event types): a key, "
        "the attributes it carries, fixed points and/or points per unit of a number attribute (at most the "
        "type's maximum), and a daily cap per member. The same (type, reference) for a member earns once: "
        "sending it again answers 200 with the first event. An unknown or inactive type is a 404 "
        "`unknown_event_type`; attributes that do not match the type a 400 `invalid_attributes`.",
        parameters=[MEMBER_PARAM, IDEMPOTENCY_KEY],
        request=CustomEventSerializer,
        examples=[
            OpenApiExample(
                "run",
                request_only=True,
                value={"type": "run_completed", "reference": "RUN-20261120-1", "attributes": {"km": 7.5}},
            )
        ],
        responses={
            201: OpenApiResponse(
                CustomEventResultSerializer,
                examples=[OpenApiExample("earned", value=EVENT_RESULT)],
            ),
            200: OpenApiResponse(
                CustomEventResultSerializer,
                description="Already recorded (same reference).",
                examples=[OpenApiExample("already recorded", value=EVENT_RESULT)],
            ),
            **errors(
                *WRITE_ERRORS,
                conflicts=(("member_inactive", "Member 402519876543 is suspended."), IN_FLIGHT),
                refusals=(("invalid_attributes", "Some attributes do not match the event type."),),
            ),
        },
    )
    @idempotent
    def post(self, request, number: str):
        member = self.member_or_404(number)
        data = CustomEventSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        event, created = services.custom_event_record(
            member=member, key=d["type"], reference=d["reference"], attributes=d["attributes"], partner=self.partner
        )
        event.member.refresh_from_db(fields=["points_available", "points_pending"])
        return Response(CustomEventResultSerializer(event).data, status=201 if created else 200)
