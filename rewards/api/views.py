"""Partner API v1, rewards part: what a member can redeem, redemptions, vouchers, checkout burn.

Redemptions and burn holds are the partner's own (another partner's are a 404). A voucher code is
a bearer token the member shows at any till of the program, so any partner of the program may
validate and consume it; codes of other programs do not exist for it.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response

from core.api import page_body, paginate
from core.errors import NotFound
from members.models import Member
from members.partners.base import PartnerAPIView, idempotent
from members.partners.docs import (
    IDEMPOTENCY_KEY,
    IN_FLIGHT,
    LIST_PARAMS,
    NON_BLANK_TEXT_PATTERN,
    READ_ERRORS,
    WRITE_ERRORS,
    errors,
)
from rewards import selectors, services
from rewards.api import serializers as s
from rewards.models import Voucher

NUMBER = "402519876543"
REWARD = {"id": 7, "title": "10 EUR off your next order", "kind": "fixed_discount"}
VOUCHER = {
    "code": "K7MZ-3QPA-X8RT",
    "status": "issued",
    "reward": REWARD,
    "member": NUMBER,
    "value": "10.00",
    "percent": None,
    "min_order_value": "30.00",
    "expires_at": "2027-02-20T10:00:00Z",
    "consumed_at": None,
    "order_reference": "",
}
REDEMPTION = {
    "id": 311,
    "member": NUMBER,
    "reward": REWARD,
    "status": "completed",
    "points": 1000,
    "value": "10.00",
    "created_at": "2026-11-22T10:00:00Z",
    "cancelled_at": None,
    "voucher": VOUCHER,
    "balance": {"available": 240, "pending": 85},
    "household": None,
}
HOLD = {
    "id": "9f1c2e0b7d4a4c55a1e3b6f8d2c4e6a8",
    "member": NUMBER,
    "status": "held",
    "points": 500,
    "amount": "5.00",
    "order_total": "64.90",
    "order_reference": "CART-5521",
    "expires_at": "2026-11-22T10:05:00Z",
    "balance": {"available": 740, "pending": 85},
}
CODE_PARAM = OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH, description="Voucher code.")
HOLD_PARAM = OpenApiParameter("id", OpenApiTypes.STR, OpenApiParameter.PATH, description="Hold id from the quote.")
VOUCHER_REFUSALS = (
    ("voucher_consumed", "This voucher was already used."),
    ("voucher_expired", "This voucher has expired."),
    ("voucher_cancelled", "This voucher was cancelled."),
)


def _fresh_balance(member: Member) -> Member:
    member.refresh_from_db(fields=["points_available", "points_pending"])
    return member


class RewardsView(PartnerAPIView):
    @extend_schema(
        tags=["rewards"],
        operation_id="rewards_for_member",
        summary="The catalog as a member sees it: what they can redeem now, and why not the rest",
        description="Newest rewards first, in the list envelope of every list (`next`, `previous`, `results`). "
        "Until issue 19 this answer was a bare array.",
        parameters=[
            OpenApiParameter(
                "member",
                {"type": "string", "minLength": 1, "maxLength": 12, "pattern": NON_BLANK_TEXT_PATTERN},
                required=True,
                description="Membership number.",
            ),
            *LIST_PARAMS,
        ],
        responses={
            200: OpenApiResponse(
                s.RewardOfferPageSerializer,
                examples=[
                    OpenApiExample(
                        "catalog",
                        value={
                            "next": None,
                            "previous": None,
                            "results": [
                                {
                                    **REWARD,
                                    "category": "discounts",
                                    "points_cost": 1000,
                                    "value": "10.00",
                                    "percent": None,
                                    "min_order_value": "30.00",
                                    "can_redeem": True,
                                    "reason": "",
                                    "message": "",
                                    "points_missing": 0,
                                },
                                {
                                    "id": 9,
                                    "title": "Barista workshop",
                                    "kind": "experience",
                                    "category": "events",
                                    "points_cost": 5000,
                                    "value": "45.00",
                                    "percent": None,
                                    "min_order_value": "0.00",
                                    "can_redeem": False,
                                    "reason": "insufficient_points",
                                    "message": "Not enough points: 3760 more needed.",
                                    "points_missing": 3760,
                                },
                            ],
                        },
                    )
                ],
            ),
            **errors(*READ_ERRORS),
        },
    )
    def get(self, request):
        query = s.RewardsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        member = self.member_or_404(query.validated_data["member"])
        rewards = selectors.catalog_current(program=member.program)
        page, paginator = paginate(request, rewards, view=self, ordering=("-created_at", "-id"))
        offers = selectors.rewards_for_member(member=member, rewards=page)
        return Response(page_body(paginator, s.RewardOfferSerializer(offers, many=True).data))


class RedemptionsView(PartnerAPIView):
    @extend_schema(
        tags=["rewards"],
        operation_id="redemptions_create",
        summary="Redeem a reward for a member: spends the points, returns the voucher",
        parameters=[IDEMPOTENCY_KEY],
        request=s.RedeemSerializer,
        examples=[OpenApiExample("redeem", request_only=True, value={"member": NUMBER, "reward": 7})],
        responses={
            201: OpenApiResponse(s.RedemptionSerializer, examples=[OpenApiExample("redeemed", value=REDEMPTION)]),
            **errors(
                *WRITE_ERRORS,
                conflicts=(
                    ("insufficient_points", "Not enough points: 120 more needed."),
                    ("tier_required", "This reward is reserved for higher tiers."),
                    ("out_of_stock", "This reward is out of stock."),
                    ("limit_reached", "You have already redeemed this reward the maximum number of times."),
                    IN_FLIGHT,
                ),
            ),
        },
    )
    @idempotent
    def post(self, request):
        data = s.RedeemSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = self.member_or_404(data.validated_data["member"])
        reward = selectors.reward_get(program=member.program, pk=data.validated_data["reward"])
        if reward is None:
            raise NotFound("Reward not found.", code="reward_not_found")
        redemption = services.reward_redeem(
            member=member,
            reward=reward,
            partner=self.partner,
            from_household=data.validated_data.get("from_household"),
        )
        _fresh_balance(redemption.member)
        return Response(s.RedemptionSerializer(redemption).data, status=201)


REDEMPTION_PARAM = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Redemption id.")


class RedemptionView(PartnerAPIView):
    @extend_schema(
        tags=["rewards"],
        operation_id="redemptions_get",
        summary="One of your redemptions, as it stands now (its voucher's status included)",
        parameters=[REDEMPTION_PARAM],
        responses={
            200: OpenApiResponse(s.RedemptionSerializer, examples=[OpenApiExample("redemption", value=REDEMPTION)]),
            **errors(*READ_ERRORS),
        },
    )
    def get(self, request, pk: int):
        redemption = selectors.partner_redemptions(partner=self.partner).filter(pk=pk).first()
        if redemption is None:
            raise NotFound("Redemption not found.")
        return Response(s.RedemptionSerializer(redemption).data)


class MemberVouchersView(PartnerAPIView):
    @extend_schema(
        tags=["vouchers"],
        operation_id="members_vouchers",
        summary="A member's vouchers you may see, newest first",
        description="Vouchers of your redemptions or used at your tills, and those the program issued itself "
        "(redeemed on the member pages, surprise rewards, staff): the member may bring them to any till. "
        "Never the codes of another partner's redemptions.",
        parameters=[
            OpenApiParameter("number", OpenApiTypes.STR, OpenApiParameter.PATH, description="Membership number."),
            OpenApiParameter("status", OpenApiTypes.STR, enum=[c for c, _ in Voucher.Status.choices]),
            *LIST_PARAMS,
        ],
        responses={
            200: OpenApiResponse(
                s.VoucherPageSerializer,
                examples=[OpenApiExample("vouchers", value={"next": None, "previous": None, "results": [VOUCHER]})],
            ),
            **errors(*READ_ERRORS),
        },
    )
    def get(self, request, number: str):
        member = self.member_or_404(number)
        query = s.VoucherFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        vouchers = selectors.partner_member_vouchers(
            partner=self.partner, member=member, status=query.validated_data.get("status")
        )
        page, paginator = paginate(request, vouchers, view=self, ordering=("-created_at", "-id"))
        return Response(page_body(paginator, s.VoucherSerializer(page, many=True).data))


class RedemptionCancelView(PartnerAPIView):
    @extend_schema(
        tags=["rewards"],
        operation_id="redemptions_cancel",
        summary="Cancel one of your redemptions whose voucher is unused: the points come back",
        parameters=[REDEMPTION_PARAM, IDEMPOTENCY_KEY],
        request=s.CancelSerializer,
        examples=[OpenApiExample("cancel", request_only=True, value={"reason": "Order cancelled"})],
        responses={
            200: OpenApiResponse(
                s.RedemptionSerializer,
                examples=[
                    OpenApiExample(
                        "cancelled",
                        value={
                            **REDEMPTION,
                            "status": "cancelled",
                            "cancelled_at": "2026-11-22T10:30:00Z",
                            "voucher": {**VOUCHER, "status": "cancelled"},
                            "balance": {"available": 1240, "pending": 85},
                        },
                    )
                ],
            ),
            **errors(
                *WRITE_ERRORS,
                conflicts=(
                    ("already_cancelled", "This redemption was already cancelled."),
                    ("voucher_consumed", "The voucher was already used; the redemption cannot be cancelled."),
                    IN_FLIGHT,
                ),
            ),
        },
    )
    @idempotent
    def post(self, request, pk: int):
        redemption = selectors.partner_redemptions(partner=self.partner).filter(pk=pk).first()
        if redemption is None:
            raise NotFound("Redemption not found.")
        data = s.CancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        redemption = services.redemption_cancel(redemption=redemption, **data.validated_data)
        redemption = selectors.partner_redemptions(partner=self.partner).get(pk=redemption.pk)
        return Response(s.RedemptionSerializer(redemption).data)


class VoucherView(PartnerAPIView):
    @extend_schema(
        tags=["vouchers"],
        operation_id="vouchers_validate",
        summary="Check a voucher a customer shows: 200 when it can be used now",
        description="With `order_total`, also checks the reward's minimum order. A used, expired or "
        "cancelled voucher is a 409 with the reason; an unknown code a 404.",
        parameters=[
            CODE_PARAM,
            OpenApiParameter(
                "order_total",
                # As the query serializer reads it: a money amount, at most 10 digits and 2 decimals.
                {"type": "string", "pattern": r"^\d{1,10}(\.\d{1,2})?$"},
                description="The order's total, if known.",
            ),
        ],
        responses={
            200: OpenApiResponse(
                s.VoucherCheckSerializer,
                examples=[
                    OpenApiExample("valid", value={**VOUCHER, "perks": {"free_shipping": True, "early_access": False}})
                ],
            ),
            **errors(
                *READ_ERRORS,
                409,
                conflicts=VOUCHER_REFUSALS,
                refusals=(("order_below_minimum", "This voucher needs an order of at least 30.00."),),
            ),
        },
    )
    def get(self, request, code: str):
        query = s.VoucherQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        voucher = services.voucher_validate(
            code=code, partner=self.partner, order_total=query.validated_data.get("order_total")
        )
        return Response(s.VoucherCheckSerializer(voucher).data)


class VoucherConsumeView(PartnerAPIView):
    @extend_schema(
        tags=["vouchers"],
        operation_id="vouchers_consume",
        summary="Use a voucher on an order",
        description="Consuming it again with the same order reference returns it unchanged (safe to retry).",
        parameters=[CODE_PARAM, IDEMPOTENCY_KEY],
        request=s.ConsumeSerializer,
        examples=[
            OpenApiExample(
                "consume", request_only=True, value={"order_reference": "ORD-2026-000150", "order_total": "64.90"}
            )
        ],
        responses={
            200: OpenApiResponse(
                s.VoucherSerializer,
                examples=[
                    OpenApiExample(
                        "consumed",
                        value={
                            **VOUCHER,
                            "status": "consumed",
                            "consumed_at": "2026-11-23T12:00:00Z",
                            "order_reference": "ORD-2026-000150",
                        },
                    )
                ],
            ),
            **errors(
                *WRITE_ERRORS,
                conflicts=(*VOUCHER_REFUSALS, IN_FLIGHT),
                refusals=(("order_below_minimum", "This voucher needs an order of at least 30.00."),),
            ),
        },
    )
    @idempotent
    def post(self, request, code: str):
        data = s.ConsumeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        voucher = services.voucher_consume(code=code, partner=self.partner, **data.validated_data)
        return Response(s.VoucherSerializer(voucher).data)


class BurnQuoteView(PartnerAPIView):
    @extend_schema(
        tags=["checkout"],
        operation_id="burn_quote",
        summary="Pay part of an order with points: hold them and get their value",
        description="The points leave the balance now. Confirm the hold when the order goes through; "
        "unconfirmed holds give the points back after a few minutes.",
        parameters=[IDEMPOTENCY_KEY],
        request=s.BurnQuoteSerializer,
        examples=[
            OpenApiExample(
                "quote",
                request_only=True,
                value={"member": NUMBER, "order_total": "64.90", "points": 500, "order_reference": "CART-5521"},
            )
        ],
        responses={
            201: OpenApiResponse(s.BurnHoldSerializer, examples=[OpenApiExample("held", value=HOLD)]),
            **errors(
                *WRITE_ERRORS,
                conflicts=(
                    ("insufficient_points", "There are no points available to pay with."),
                    ("burn_disabled", "This program does not accept points at checkout."),
                    IN_FLIGHT,
                ),
                refusals=(
                    ("order_below_minimum", "Points can pay orders of at least 30.00."),
                    ("exceeds_order_total", "At most 6490 points can pay this order."),
                ),
            ),
        },
    )
    @idempotent
    def post(self, request):
        data = s.BurnQuoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        member = self.member_or_404(fields.pop("member"))
        hold = services.burn_quote(member=member, partner=self.partner, **fields)
        _fresh_balance(hold.member)
        return Response(s.BurnHoldSerializer(hold).data, status=201)


class BurnHoldView(PartnerAPIView):
    @extend_schema(
        tags=["checkout"],
        operation_id="burn_get",
        summary="One of your points holds, as it stands now (held, confirmed, cancelled or lapsed)",
        parameters=[HOLD_PARAM],
        responses={
            200: OpenApiResponse(s.BurnHoldSerializer, examples=[OpenApiExample("held", value=HOLD)]),
            **errors(*READ_ERRORS),
        },
    )
    def get(self, request, id: str):
        hold = selectors.burn_hold_get(token=id, partner=self.partner)
        if hold is None:
            raise NotFound("Hold not found.")
        return Response(s.BurnHoldSerializer(hold).data)


class BurnConfirmView(PartnerAPIView):
    @extend_schema(
        tags=["checkout"],
        operation_id="burn_confirm",
        summary="The order went through: spend the held points for good",
        description="Confirming twice is harmless.",
        parameters=[HOLD_PARAM, IDEMPOTENCY_KEY],
        request=s.BurnConfirmSerializer,
        examples=[OpenApiExample("confirm", request_only=True, value={"order_reference": "ORD-2026-000151"})],
        responses={
            200: OpenApiResponse(
                s.BurnHoldSerializer,
                examples=[
                    OpenApiExample(
                        "confirmed", value={**HOLD, "status": "confirmed", "order_reference": "ORD-2026-000151"}
                    )
                ],
            ),
            **errors(
                *WRITE_ERRORS, conflicts=(("hold_lapsed", "The points hold lapsed; ask for a new quote."), IN_FLIGHT)
            ),
        },
    )
    @idempotent
    def post(self, request, id: str):
        data = s.BurnConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        hold = services.burn_confirm(token=id, partner=self.partner, **data.validated_data)
        return Response(s.BurnHoldSerializer(hold).data)


class BurnCancelView(PartnerAPIView):
    @extend_schema(
        tags=["checkout"],
        operation_id="burn_cancel",
        summary="The checkout was abandoned: give the held points back now",
        parameters=[HOLD_PARAM, IDEMPOTENCY_KEY],
        request=None,
        responses={
            200: OpenApiResponse(
                s.BurnHoldSerializer,
                examples=[
                    OpenApiExample(
                        "cancelled",
                        value={**HOLD, "status": "cancelled", "balance": {"available": 1240, "pending": 85}},
                    )
                ],
            ),
            **errors(*WRITE_ERRORS, conflicts=(("hold_settled", "This hold is already confirmed."), IN_FLIGHT)),
        },
    )
    @idempotent
    def post(self, request, id: str):
        hold = services.burn_cancel(token=id, partner=self.partner)
        _fresh_balance(hold.member)
        return Response(s.BurnHoldSerializer(hold).data)
