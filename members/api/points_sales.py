"""Partner API v1, buying points: a partner sells a member points at the program's price (its till
took the payment) and refunds a sale within the program's window, for the points still unspent."""

from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from core.errors import NotFound
from members import services
from members.api.members import NUMBER
from members.api.serializers import BalanceShortSerializer, NFCCharField
from members.models import PointsSale
from members.partners.base import PartnerAPIView, idempotent
from members.partners.docs import IDEMPOTENCY_KEY, IN_FLIGHT, WRITE_ERRORS, errors
from members.partners.serializers import MONEY, StrictSerializer
from members.services.points_sales import points_sale_refundable_until


class PointsPurchaseSerializer(StrictSerializer):
    points = serializers.IntegerField(
        min_value=1, max_value=1_000_000_000, help_text="Points bought: a whole number of the program's blocks."
    )
    payment_reference = NFCCharField(
        max_length=64,
        help_text="Your payment's id (till receipt, card transaction): unique in the program, it makes the sale "
        "idempotent and is written on the member's ledger entry.",
    )
    price = serializers.DecimalField(
        **MONEY,
        min_value=Decimal("0.01"),
        required=False,
        help_text="What you charged, in the program's currency: when sent it must be the program's price "
        "(400 `price_mismatch` otherwise).",
    )


class PointsSaleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    order = serializers.CharField(help_text="Fidelis' reference of the sale.")
    member = serializers.CharField(source="member.number")
    points = serializers.IntegerField()
    price = serializers.DecimalField(**MONEY)
    currency = serializers.CharField()
    status = serializers.ChoiceField(choices=PointsSale.Status.choices)
    payment_reference = serializers.CharField()
    refunded_points = serializers.IntegerField(help_text="Unspent points taken back by the refund.")
    refunded_amount = serializers.DecimalField(**MONEY, help_text="Their share of the price, to pay back.")
    refundable_until = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    balance = BalanceShortSerializer(source="member")


SALE_EXAMPLE = {
    "id": 12,
    "order": "PTS-3F9A1C22B0D4",
    "member": NUMBER,
    "points": 500,
    "price": "5.00",
    "currency": "EUR",
    "status": "paid",
    "payment_reference": "TILL-7-000913",
    "refunded_points": 0,
    "refunded_amount": "0.00",
    "refundable_until": "2026-12-04T17:42:00Z",
    "created_at": "2026-11-20T17:42:00Z",
    "balance": {"available": 1740, "pending": 185},
}


def _answer(sale: PointsSale) -> dict:
    sale.member.refresh_from_db(fields=["points_available", "points_pending"])
    sale.refundable_until = points_sale_refundable_until(sale)
    return PointsSaleSerializer(sale).data


class MemberPointsPurchasesView(PartnerAPIView):
    @extend_schema(
        tags=["members"],
        operation_id="members_points_purchases_create",
        summary="Sell a member points (points + pay)",
        description="Credits the points at once, at the program's price: points are sold by blocks, between a "
        "minimum and a maximum per purchase (400 `invalid_points`), within a member's daily and yearly limits "
        "(409 `daily_limit` / `yearly_limit`); a program that sells none answers 409 `points_not_for_sale`. "
        "Your `payment_reference` is written on the ledger entry and makes the call idempotent: the same one "
        "again answers 200 with the first sale (with another member or number of points it is a 409 "
        "`duplicate_payment_reference`). Bought points do not count towards tiers.",
        parameters=[OpenApiParameter("number", OpenApiTypes.STR, OpenApiParameter.PATH), IDEMPOTENCY_KEY],
        request=PointsPurchaseSerializer,
        examples=[
            OpenApiExample(
                "sale",
                request_only=True,
                value={"points": 500, "payment_reference": "TILL-7-000913", "price": "5.00"},
            )
        ],
        responses={
            201: OpenApiResponse(PointsSaleSerializer, examples=[OpenApiExample("sold", value=SALE_EXAMPLE)]),
            200: OpenApiResponse(
                PointsSaleSerializer,
                description="Already sold (same payment reference).",
                examples=[OpenApiExample("already sold", value=SALE_EXAMPLE)],
            ),
            **errors(
                *WRITE_ERRORS,
                conflicts=(
                    ("points_not_for_sale", "This program does not sell points."),
                    ("daily_limit", "A member may buy 2000 points today; 1500 already bought."),
                    ("yearly_limit", "A member may buy 20000 points this year; 19800 already bought."),
                    ("duplicate_payment_reference", "This payment reference was already used for another sale."),
                    ("member_inactive", "Member 402519876543 is suspended."),
                    IN_FLIGHT,
                ),
                refusals=(
                    ("invalid_points", "Points are sold by blocks of 100."),
                    ("price_mismatch", "500 points cost 5.00 EUR."),
                    ("payment_reference_required", "The payment reference is required."),
                ),
            ),
        },
    )
    @idempotent
    def post(self, request, number: str):
        member = self.member_or_404(number)
        data = PointsPurchaseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        sale, created = services.points_sell(
            member=member,
            points=d["points"],
            payment_reference=d["payment_reference"],
            price=d.get("price"),
            partner=self.partner,
        )
        return Response(_answer(sale), status=201 if created else 200)


class PointsPurchaseRefundView(PartnerAPIView):
    @extend_schema(
        tags=["members"],
        operation_id="points_purchases_refund",
        summary="Refund a sale of points: the unspent points come back, and their share of the price",
        description="Within the program's refund window from the sale (409 `refund_window_closed` after). Only "
        "the points of this sale the member has not spent are taken back; `refunded_amount` is their share of "
        "the price, for you to pay back. Refunding again answers the refunded sale and takes nothing more. "
        "Another partner's sale is a 404.",
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH), IDEMPOTENCY_KEY],
        request=None,
        responses={
            200: OpenApiResponse(
                PointsSaleSerializer,
                examples=[
                    OpenApiExample(
                        "refunded",
                        value={**SALE_EXAMPLE, "status": "refunded", "refunded_points": 300, "refunded_amount": "3.00"},
                    )
                ],
            ),
            **errors(
                *WRITE_ERRORS,
                conflicts=(("refund_window_closed", "Bought points can be refunded until ..."), IN_FLIGHT),
            ),
        },
    )
    @idempotent
    def post(self, request, pk: int):
        sale = PointsSale.objects.select_related("member").filter(pk=pk, partner=self.partner).first()
        if sale is None:
            raise NotFound("Sale not found.")
        return Response(_answer(services.points_sale_refund(sale=sale)))
