"""Partner API v1, receipts: a purchase recorded without a member (the customer was not known at
the till), claimed later by a member within the program's window; it earns then, once."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers

from core.errors import NotFound
from members import services
from members.api import selectors as api_selectors
from members.api import serializers as s
from members.api.members import NUMBER
from members.api.transactions import PURCHASE_REFUSALS, PURCHASE_REQUEST, PURCHASE_RESULT, purchase_answer
from members.partners.base import PartnerAPIView, created_or_ok, idempotent
from members.partners.docs import IDEMPOTENCY_KEY, IN_FLIGHT, WRITE_ERRORS, errors
from members.partners.serializers import MONEY, StrictSerializer

RECEIPT_REQUEST = {k: v for k, v in PURCHASE_REQUEST.items() if k != "member"}
RECEIPT_EXAMPLE = {
    "id": 77,
    "external_id": "ORD-2026-000123",
    "amount": "84.50",
    "currency": "EUR",
    "occurred_at": "2026-11-20T17:42:00Z",
    "claim_until": "2026-12-20T17:42:03Z",
    "member": None,
    "transaction": None,
}
RECEIPT_PARAM = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Receipt id.")


class ReceiptSerializer(s.PurchaseSerializer):
    """A purchase's body without the member."""

    def get_fields(self):
        fields = super().get_fields()
        del fields["member"], fields["card"]
        return fields

    def validate(self, attrs):
        return attrs


class ReceiptResultSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Receipt id, to claim it.")
    external_id = serializers.CharField()
    amount = serializers.DecimalField(**MONEY)
    currency = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    claim_until = serializers.DateTimeField(help_text="A member may claim it until then.")
    member = serializers.CharField(source="member.number", allow_null=True, default=None)
    transaction = serializers.IntegerField(source="purchase_id", allow_null=True, help_text="Once claimed.")


class ClaimSerializer(StrictSerializer):
    member = serializers.CharField(max_length=12, required=False, help_text="Membership number (or send `card`).")
    card = serializers.CharField(max_length=23, required=False, help_text="A card number of the member.")

    def validate(self, attrs):
        if not attrs.get("member") and not attrs.get("card"):
            raise serializers.ValidationError({"member": ["Send the membership number or a card number."]})
        return attrs


class ReceiptsView(PartnerAPIView):
    @extend_schema(
        tags=["transactions"],
        operation_id="receipts_create",
        summary="Record a purchase without a member (a receipt a member may claim later)",
        description="The same body as a purchase, without `member`. Nothing is earned until a member claims "
        "it (within the program's window, 30 days by default). Your `external_id` is shared with purchases: "
        "the same one again returns the first receipt with 200 (another amount: 409 `duplicate_external_id`).",
        parameters=[IDEMPOTENCY_KEY],
        request=ReceiptSerializer,
        examples=[OpenApiExample("receipt", request_only=True, value=RECEIPT_REQUEST)],
        responses={
            201: OpenApiResponse(ReceiptResultSerializer, examples=[OpenApiExample("recorded", value=RECEIPT_EXAMPLE)]),
            200: OpenApiResponse(
                ReceiptResultSerializer,
                description="Already recorded (same external_id).",
                examples=[OpenApiExample("already recorded", value=RECEIPT_EXAMPLE)],
            ),
            **errors(
                *WRITE_ERRORS,
                conflicts=(
                    ("duplicate_external_id", "This external id was already used for another purchase or receipt."),
                    ("receipts_off", "This program does not let members claim receipts later."),
                    IN_FLIGHT,
                ),
                refusals=PURCHASE_REFUSALS[:5],
            ),
        },
    )
    @idempotent
    def post(self, request):
        data = ReceiptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        receipt, created = services.receipt_record(partner=self.partner, **data.validated_data)
        return created_or_ok(ReceiptResultSerializer(receipt).data, created)


class ReceiptClaimView(PartnerAPIView):
    @extend_schema(
        tags=["transactions"],
        operation_id="receipts_claim",
        summary="Give a receipt to a member: it becomes their purchase and earns now",
        description="Within the receipt's window (`claim_until`; else 409 `receipt_expired`). It earns by the "
        "program's rules as a purchase would, dated when it happened, even before the member enrolled. "
        "Claiming again for the same member returns the same transaction with 200; for another member it is a "
        "409 `receipt_claimed`.",
        parameters=[RECEIPT_PARAM, IDEMPOTENCY_KEY],
        request=ClaimSerializer,
        examples=[OpenApiExample("claim", request_only=True, value={"member": NUMBER})],
        responses={
            201: OpenApiResponse(
                s.PurchaseResultSerializer, examples=[OpenApiExample("claimed", value=PURCHASE_RESULT)]
            ),
            200: OpenApiResponse(
                s.PurchaseResultSerializer,
                description="Already claimed by this member.",
                examples=[OpenApiExample("already claimed", value=PURCHASE_RESULT)],
            ),
            **errors(
                *WRITE_ERRORS,
                conflicts=(
                    ("receipt_claimed", "This receipt was already claimed by a member."),
                    ("receipt_expired", "This receipt could be claimed until 2026-12-20."),
                    ("member_inactive", "Member 402519876543 is suspended."),
                    IN_FLIGHT,
                ),
                refusals=PURCHASE_REFUSALS[4:],
            ),
        },
    )
    @idempotent
    def post(self, request, pk: int):
        receipt = api_selectors.receipt_for_partner(partner=self.partner, receipt_id=pk)
        if receipt is None:
            raise NotFound("Receipt not found.")
        data = ClaimSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        purchase, created = services.receipt_claim(receipt=receipt, member=d.get("member"), card=d.get("card", ""))
        return created_or_ok(purchase_answer(purchase), created)
