"""Partner API v1, campaigns part: the offer codes campaigns send members (a discount, free shipping,
a gift with a purchase), checked and used at the till exactly like reward vouchers (/vouchers).
Codes of members of other programs do not exist for the partner."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response

from campaigns import services
from campaigns.api import serializers as s
from members.partners.base import PartnerAPIView, idempotent
from members.partners.docs import IDEMPOTENCY_KEY, IN_FLIGHT, READ_ERRORS, WRITE_ERRORS, errors

CODE_PARAM = OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH, description="The offer code.")
OFFER_CODE = {
    "code": "H7KQ2MZP4X",
    "status": "issued",
    "offer": {
        "id": 4,
        "title": "25% off coffee this week",
        "kind": "discount",
        "description": "",
        "category": "coffee",
    },
    "campaign": 12,
    "member": "402519876543",
    "percent": "25.00",
    "min_order_value": "20.00",
    "expires_at": "2026-11-29T10:00:00Z",
    "consumed_at": None,
    "order_reference": "",
}
REFUSALS = (
    ("already_redeemed", "This code was already used."),
    ("expired", "This code has expired."),
    ("reward_voucher", "This code is a reward voucher: check and use it at /vouchers/{code}."),
    ("not_a_checkout_code", "This offer pays out on the member's purchases by itself."),
)
BELOW_MINIMUM = (("order_below_minimum", "This code needs an order of at least 20.00."),)


class OfferCodeView(PartnerAPIView):
    @extend_schema(
        tags=["vouchers"],
        operation_id="offer_codes_validate",
        summary="Check a campaign's offer code a customer shows: 200 when it can be used now",
        description="Discount, free-shipping and gift codes that campaigns send. With `order_total`, also "
        "checks the offer's minimum order. Used or expired: 409 with the reason; unknown (or another "
        "program's): 404.",
        parameters=[
            CODE_PARAM,
            OpenApiParameter(
                "order_total", {"type": "string", "pattern": r"^\d{1,10}(\.\d{1,2})?$"}, description="If known."
            ),
        ],
        responses={
            200: OpenApiResponse(s.OfferCodeSerializer, examples=[OpenApiExample("valid", value=OFFER_CODE)]),
            **errors(*READ_ERRORS, 409, conflicts=REFUSALS, refusals=BELOW_MINIMUM),
        },
    )
    def get(self, request, code: str):
        query = s.OfferCodeQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        grant = services.offer_code_check(code=code, partner=self.partner, **query.validated_data)
        return Response(s.OfferCodeSerializer(grant).data)


class OfferCodeConsumeView(PartnerAPIView):
    @extend_schema(
        tags=["vouchers"],
        operation_id="offer_codes_consume",
        summary="Use a campaign's offer code on an order",
        description="Using it again with the same order reference returns it unchanged (safe to retry); "
        "the campaign counts it as redeemed.",
        parameters=[CODE_PARAM, IDEMPOTENCY_KEY],
        request=s.OfferCodeConsumeSerializer,
        examples=[
            OpenApiExample(
                "consume", request_only=True, value={"order_reference": "ORD-2026-000151", "order_total": "42.00"}
            )
        ],
        responses={
            200: OpenApiResponse(
                s.OfferCodeSerializer,
                examples=[
                    OpenApiExample(
                        "consumed",
                        value={
                            **OFFER_CODE,
                            "status": "consumed",
                            "consumed_at": "2026-11-23T12:00:00Z",
                            "order_reference": "ORD-2026-000151",
                        },
                    )
                ],
            ),
            **errors(*WRITE_ERRORS, conflicts=(*REFUSALS, IN_FLIGHT), refusals=BELOW_MINIMUM),
        },
    )
    @idempotent
    def post(self, request, code: str):
        data = s.OfferCodeConsumeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        grant = services.offer_code_consume(code=code, partner=self.partner, **data.validated_data)
        return Response(s.OfferCodeSerializer(grant).data)
