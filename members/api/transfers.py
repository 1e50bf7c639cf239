"""Partner API v1, points transfers: a member gives points to another member of the program."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from members import services
from members.api.members import NUMBER
from members.api.serializers import BalanceShortSerializer, NFCCharField
from members.partners.base import PartnerAPIView, idempotent
from members.partners.docs import IDEMPOTENCY_KEY, IN_FLIGHT, WRITE_ERRORS, errors
from members.partners.serializers import StrictSerializer

RECIPIENT = "402519876550"


class TransferSerializer(StrictSerializer):
    sender = serializers.CharField(max_length=12, help_text="Membership number of the member giving points.")
    recipient = serializers.CharField(max_length=12, help_text="Membership number of the member receiving them.")
    points = serializers.IntegerField(min_value=1, max_value=1_000_000_000)
    reference = NFCCharField(
        max_length=64, help_text="Your id of the transfer, unique in the program: the same one again moves nothing."
    )


class TransferSideSerializer(serializers.Serializer):
    member = serializers.CharField(source="number")
    balance = BalanceShortSerializer(source="*")


class TransferResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    points = serializers.IntegerField()
    sender = TransferSideSerializer()
    recipient = TransferSideSerializer()
    created_at = serializers.DateTimeField()


TRANSFER_RESULT = {
    "id": 31,
    "reference": "GIFT-2026-0007",
    "points": 200,
    "sender": {"member": NUMBER, "balance": {"available": 1040, "pending": 85}},
    "recipient": {"member": RECIPIENT, "balance": {"available": 260, "pending": 0}},
    "created_at": "2026-11-20T17:42:03Z",
}


class TransfersView(PartnerAPIView):
    @extend_schema(
        tags=["members"],
        operation_id="transfers_create",
        summary="Transfer points from one member to another of your program",
        description="Moves available points, within the program's limits: per transfer (400 "
        "`transfer_out_of_range`) and per sender and day (409 `transfer_daily_limit`); a program that allows "
        "none answers 409 `transfers_off`. Both members' histories say why, naming the other member. The points "
        "keep their expiry. Idempotent by `reference`: the same one again answers 200 with the first transfer; "
        "with other members or points it is a 409 `duplicate_reference`.",
        parameters=[IDEMPOTENCY_KEY],
        request=TransferSerializer,
        examples=[
            OpenApiExample(
                "gift",
                request_only=True,
                value={"sender": NUMBER, "recipient": RECIPIENT, "points": 200, "reference": "GIFT-2026-0007"},
            )
        ],
        responses={
            201: OpenApiResponse(TransferResultSerializer, examples=[OpenApiExample("moved", value=TRANSFER_RESULT)]),
            200: OpenApiResponse(
                TransferResultSerializer,
                description="Already done (same reference).",
                examples=[OpenApiExample("already done", value=TRANSFER_RESULT)],
            ),
            **errors(
                *WRITE_ERRORS,
                conflicts=(
                    ("insufficient_points", "Not enough points: 40 more needed."),
                    ("transfer_daily_limit", "A member may send 1000 points a day; 900 already sent today."),
                    ("transfers_off", "This program does not let members transfer points."),
                    ("duplicate_reference", "This reference was already used for another transfer."),
                    ("member_inactive", "Member 402519876543 is suspended."),
                    IN_FLIGHT,
                ),
                refusals=(
                    ("transfer_out_of_range", "A transfer moves 10 to 5000 points."),
                    ("same_member", "A member cannot transfer points to themselves."),
                ),
            ),
        },
    )
    @idempotent
    def post(self, request):
        data = TransferSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        transfer, created = services.points_transfer(
            sender=self.member_or_404(d["sender"]),
            recipient=self.member_or_404(d["recipient"]),
            points=d["points"],
            reference=d["reference"],
            partner=self.partner,
        )
        sender, recipient = transfer.sender, transfer.recipient
        if not created:  # the balances now, not the rows as loaded
            sender.refresh_from_db(fields=["points_available", "points_pending"])
            recipient.refresh_from_db(fields=["points_available", "points_pending"])
        answer = {
            "id": transfer.pk,
            "reference": transfer.reference,
            "points": transfer.points,
            "sender": sender,
            "recipient": recipient,
            "created_at": transfer.created_at,
        }
        return Response(TransferResultSerializer(answer).data, status=201 if created else 200)
