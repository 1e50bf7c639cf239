"""Partner API v1, transactions part: purchases (earn), their simulation and reversal, engagement.

Thin views: input serializer -> service or selector -> output serializer. Everything is scoped to
the calling partner (members of its program; its own transactions); the rest is a 404.
"""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response

from core.api import page_body, paginate
from core.errors import NotFound
from members import services
from members.api import render
from members.api import selectors as api_selectors
from members.api import serializers as s
from members.api.members import BREAKDOWN_EXAMPLE, NUMBER
from members.models import Member, Purchase, ReviewCase
from members.partners.base import PartnerAPIView, idempotent
from members.partners.docs import (
    IDEMPOTENCY_KEY,
    IN_FLIGHT,
    LIST_PARAMS,
    READ_ERRORS,
    TEXT_PATTERN,
    WRITE_ERRORS,
    errors,
)
from members.selectors import program_rules

BALANCE_SHORT = {"available": 1240, "pending": 185}
PURCHASE_REQUEST = {
    "member": NUMBER,
    "external_id": "ORD-2026-000123",
    "amount": "84.50",
    "currency": "EUR",
    # No occurred_at: a fixed date in an example ages past the back-dating window (it defaults to now).
    "items": [
        {"sku": "BEANS-1KG", "category": "coffee", "quantity": 1, "unit_price": "12.50"},
        {"sku": "MUG-01", "category": "home", "quantity": 2, "unit_price": "36.00"},
    ],
}
PURCHASE_RESULT = {
    "id": 5121,
    "external_id": "ORD-2026-000123",
    "member": NUMBER,
    "card": None,
    "amount": "84.50",
    "currency": "EUR",
    "occurred_at": "2026-11-20T17:42:00Z",
    "points": 136,
    "status": "pending",
    "available_at": "2026-12-04T17:42:00Z",
    "breakdown": BREAKDOWN_EXAMPLE,
    "refunded_amount": "0.00",
    "points_reversed": 0,
    "original_amount": None,
    "original_currency": None,
    "exchange_rate": None,
    "balance": BALANCE_SHORT,
    "hold": None,
    "rule_revision": 3,
}
PURCHASE_HELD = {
    **PURCHASE_RESULT,
    "points": 0,
    "status": "held",
    "hold": {
        "reason": "member_daily_earns",
        "message": "The member's limit of 10 earning purchases a day is reached.",
        "points": 136,
        "review": "open",
    },
    "balance": {"available": 1240, "pending": 49},
}

# What a purchase (or its simulation) may be refused for, with an example message each.
PURCHASE_REFUSALS = (
    ("unknown_currency", "This program works in EUR and takes no JPY: it has no rate for it."),
    ("no_rate", "This program has no USD exchange rate on 2026-01-03 or before."),
    (
        "items_mismatch",
        "The items add up to 5000.00 but the amount is 1.00: they must match within 0.01 (0.01 per line). "
        "Send shipping, tax and discounts as lines of their own kind.",
    ),
    ("invalid_items", "Line 2: a discount line has a negative unit_price."),
    ("invalid_date", "The purchase date is more than 30 days ago."),
    ("amount_too_large", "The amount is over this program's largest purchase (1000000.00 EUR)."),
    ("points_ceiling", "This purchase would earn 2000000 points; a purchase may earn at most 1000000."),
    (
        "daily_points_ceiling",
        "This purchase would take the member past 2000000 purchase points today (1990000 already earned).",
    ),
)


def _availability(member: Member, points: int, recorded_at) -> tuple[str, object]:
    """The return window counts from when the purchase is recorded, whatever date it carries."""
    available_at = recorded_at + timedelta(days=member.program.pending_days)
    if not points:
        return "none", available_at
    return ("pending" if available_at > timezone.now() else "available"), available_at


def _purchase_data(purchase: Purchase) -> dict:
    member = purchase.member
    # A purchase just recorded carries its entry; one read back from the database does not.
    entry = (
        purchase.earn_entry if hasattr(purchase, "earn_entry") else api_selectors.purchase_earn_entry(purchase=purchase)
    )
    status, available_at = _availability(member, purchase.points, purchase.created_at)
    case = api_selectors.purchase_hold(purchase=purchase)
    hold = None
    if case is not None and case.status != ReviewCase.Status.APPROVED:
        status = "held" if case.status == ReviewCase.Status.OPEN else "rejected"
        hold = {**case.details, "points": case.points, "review": case.status}
    revision = entry.rule_revision_id if entry else (hold or {}).get("revision")
    return {
        "id": purchase.pk,
        "external_id": purchase.external_id,
        "member": member.number,
        "card": purchase.card.number if purchase.card_id else None,
        "amount": purchase.amount,
        "currency": purchase.currency,
        "occurred_at": purchase.occurred_at,
        "points": purchase.points,
        "status": status,
        "available_at": available_at,
        "breakdown": entry.breakdown if entry else (hold or {}).get("breakdown", []),
        "refunded_amount": purchase.refunded_amount,
        "points_reversed": purchase.points_reversed,
        "original_amount": purchase.original_amount,
        "original_currency": purchase.original_currency or None,
        "exchange_rate": purchase.exchange_rate,
        "balance": member,
        "hold": hold,
        # Its number, from the rules cache (no query): what staff see in admin > Rule revisions.
        "rule_revision": program_rules(member.program).revision_numbers.get(revision),
    }


TRANSACTION_PARAM = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Transaction id.")


def purchase_answer(purchase: Purchase) -> dict:
    """A transaction as the API answers it (PurchaseResultSerializer), for other endpoints that
    create one (a claimed receipt)."""
    return s.PurchaseResultSerializer(_purchase_data(purchase)).data


class PurchasesView(PartnerAPIView):
    @extend_schema(
        tags=["transactions"],
        operation_id="transactions_list",
        summary="Your purchases, newest first: find one by your order id, or reconcile a period",
        description="Only the purchases you recorded, each as `POST /transactions` answers it, as it stands now "
        "(refunds, a review's decision, the member's current balance). `since` and `until` are when the "
        "purchase happened (`occurred_at`).",
        parameters=[
            OpenApiParameter(
                "external_id",
                {"type": "string", "maxLength": 64, "pattern": TEXT_PATTERN},
                description="Your order id: at most one purchase matches.",
            ),
            OpenApiParameter("since", OpenApiTypes.DATETIME, description="Happened at or after this moment."),
            OpenApiParameter("until", OpenApiTypes.DATETIME, description="Happened before this moment."),
            *LIST_PARAMS,
        ],
        responses={
            200: OpenApiResponse(
                s.PurchasePageSerializer,
                examples=[
                    OpenApiExample("purchases", value={"next": None, "previous": None, "results": [PURCHASE_RESULT]})
                ],
            ),
            **errors(*READ_ERRORS),
        },
    )
    def get(self, request):
        query = s.PurchaseFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        purchases = api_selectors.partner_purchases(
            partner=self.partner, external_id=q.get("external_id", ""), since=q.get("since"), until=q.get("until")
        )
        page, paginator = paginate(request, purchases, view=self, ordering=("-occurred_at", "-id"))
        api_selectors.purchases_holds_load(page)
        return Response(page_body(paginator, [s.PurchaseResultSerializer(_purchase_data(p)).data for p in page]))

    @extend_schema(
        tags=["transactions"],
        operation_id="transactions_create",
        summary="Record a purchase and earn its points",
        description=(
            "Points follow the program's earning rules (rate, category/SKU multipliers, promotions, "
            "bonuses, tier, partner and plan multipliers); `breakdown` says which rule gave what. "
            "Your `external_id` earns once: sending it again returns the first transaction with 200 "
            "(with a different member or amount it is a 409 `duplicate_external_id`). "
            "Past one of the program's daily limits (earning purchases or points, per member and per "
            "partner) the purchase is still recorded but its points are held for a fraud review: "
            "`status` is `held`, `points` is 0 and `hold` says which limit and how many points wait. "
            "If staff approve, the points are credited (a `points.earned` event follows); if they "
            "reject, `status` becomes `rejected`."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=s.PurchaseSerializer,
        examples=[OpenApiExample("purchase", request_only=True, value=PURCHASE_REQUEST)],
        responses={
            201: OpenApiResponse(
                s.PurchaseResultSerializer,
                description="Recorded.",
                examples=[
                    OpenApiExample("earned", value=PURCHASE_RESULT),
                    OpenApiExample(
                        "held",
                        value=PURCHASE_HELD,
                        description="Over a daily limit: recorded, points held for a fraud review.",
                    ),
                ],
            ),
            200: OpenApiResponse(
                s.PurchaseResultSerializer,
                description="Already recorded (same external_id): the first transaction, as it stands now.",
                examples=[OpenApiExample("already recorded", value=PURCHASE_RESULT)],
            ),
            **errors(
                *WRITE_ERRORS,
                conflicts=(
                    ("duplicate_external_id", "This external id was already used for another purchase."),
                    ("member_inactive", "Member 402519876543 is suspended."),
                    IN_FLIGHT,
                ),
                refusals=PURCHASE_REFUSALS,
            ),
        },
    )
    @idempotent
    def post(self, request):
        data = s.PurchaseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        # The service looks the number (or the card) up in the partner's program as it locks the row.
        purchase, created = services.purchase_record(member=fields.pop("member", None), partner=self.partner, **fields)
        # The answer is written as a plain dict (members.api.render), the schema still names the serializer.
        return Response(render.purchase_result(_purchase_data(purchase)), status=201 if created else 200)


class PurchaseView(PartnerAPIView):
    @extend_schema(
        tags=["transactions"],
        operation_id="transactions_get",
        summary="One of your purchases, as it stands now",
        description="The answer `POST /transactions` gave, updated: refunds so far, a review's decision, the "
        "member's current balance. Another partner's transaction is a 404.",
        parameters=[TRANSACTION_PARAM],
        responses={
            200: OpenApiResponse(
                s.PurchaseResultSerializer, examples=[OpenApiExample("purchase", value=PURCHASE_RESULT)]
            ),
            **errors(*READ_ERRORS),
        },
    )
    def get(self, request, pk: int):
        purchase = api_selectors.purchase_for_partner(partner=self.partner, purchase_id=pk)
        if purchase is None:
            raise NotFound("Transaction not found.")
        return Response(s.PurchaseResultSerializer(_purchase_data(purchase)).data)


class SimulateView(PartnerAPIView):
    @extend_schema(
        tags=["transactions"],
        operation_id="transactions_simulate",
        summary="What a purchase would earn (writes nothing)",
        description="Same body as a purchase. For showing 'you will earn N points' at checkout.",
        parameters=[IDEMPOTENCY_KEY],
        request=s.PurchaseSerializer,
        examples=[OpenApiExample("basket", request_only=True, value=PURCHASE_REQUEST)],
        responses={
            200: OpenApiResponse(
                s.SimulationSerializer,
                examples=[
                    OpenApiExample(
                        "quote",
                        value={
                            "member": NUMBER,
                            "points": 136,
                            "eligible_amount": "84.50",
                            "status": "pending",
                            "available_at": "2026-12-04T17:42:00Z",
                            "breakdown": BREAKDOWN_EXAMPLE,
                        },
                    )
                ],
            ),
            **errors(
                *WRITE_ERRORS,
                conflicts=(IN_FLIGHT,),
                refusals=PURCHASE_REFUSALS,
            ),
        },
    )
    @idempotent
    def post(self, request):
        data = s.PurchaseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        member = self.member_or_card(d.get("member"), d.get("card"))
        quote = services.purchase_simulate(
            member=member,
            partner=self.partner,
            amount=d["amount"],
            currency=d["currency"],
            items=d.get("items"),
            paid_with_points=d["paid_with_points"],
            occurred_at=d.get("occurred_at"),
        )
        points = max(quote.points, 0)
        status, available_at = _availability(member, points, timezone.now())
        return Response(
            s.SimulationSerializer(
                {
                    "member": member.number,
                    "points": points,
                    "eligible_amount": quote.eligible_amount,
                    "status": status,
                    "available_at": available_at,
                    "breakdown": quote.breakdown,
                }
            ).data
        )


class ReverseView(PartnerAPIView):
    @extend_schema(
        tags=["transactions"],
        operation_id="transactions_reverse",
        summary="Refund a purchase, fully or in part, and take its points back",
        description="Points are taken back in proportion to the refunded amount: the purchase's own points "
        "and every credit it set off (campaign offer bonus and multiplier points, challenge prizes, and "
        "referral rewards where the program says so). Points the member already spent become a debt "
        "repaid from future earnings (the balance never goes negative). `points_reversed` and `debt` "
        "are what this call took back, so parallel partial refunds add up to what the purchase earned, "
        "its own points and what it set off.\n\n"
        "**Returns by item**: send `items` ([{sku, quantity}]) instead of (or with) `amount`. The purchase's "
        "own points taken back are at least what those items earned: the earning rules are quoted on the whole "
        "basket and on what is left, so category, SKU and basket rules (a bonus the rest no longer reaches) "
        "count. A SKU never comes back more often than it was bought, over all refunds (400 "
        "`return_exceeds_purchase`). Send your return id as `reference`: the same one again answers with the "
        "first refund's figures and takes nothing more.\n\n"
        "**Other currencies**: a purchase paid in another currency than the program's is refunded in that "
        "currency by default, converted at the purchase's own rate (the rate of its date, not today's).",
        parameters=[TRANSACTION_PARAM, IDEMPOTENCY_KEY],
        request=s.ReverseSerializer,
        examples=[
            OpenApiExample("partial", request_only=True, value={"amount": "25.00", "reason": "Mug returned"}),
            OpenApiExample(
                "items",
                request_only=True,
                value={"items": [{"sku": "MUG-01", "quantity": 1}], "reference": "RET-88", "reason": "Mug returned"},
            ),
        ],
        responses={
            200: OpenApiResponse(
                s.ReverseResultSerializer,
                examples=[
                    OpenApiExample(
                        "reversed",
                        value={
                            "transaction": 5121,
                            "amount": "25.00",
                            "refunded_amount": "25.00",
                            "points_reversed": 40,
                            "debt": 0,
                            "balance": {"available": 1240, "pending": 145},
                        },
                    )
                ],
            ),
            **errors(
                *WRITE_ERRORS,
                conflicts=(IN_FLIGHT,),
                refusals=(
                    ("invalid_amount", "The refund must be between 0 and 59.50."),
                    ("currency_mismatch", "This purchase was paid in USD: refund it in USD or EUR."),
                    ("unknown_currency", "A currency is three letters (ISO 4217), e.g. USD."),
                    ("item_not_bought", "SKU TEA-01 is not a product line of this purchase."),
                    ("return_exceeds_purchase", "Only 1 of SKU MUG-01 can still be returned (2 asked)."),
                ),
            ),
        },
    )
    @idempotent
    def post(self, request, pk: int):
        purchase = api_selectors.purchase_for_partner(partner=self.partner, purchase_id=pk)
        if purchase is None:
            raise NotFound("Transaction not found.")
        data = s.ReverseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # The answer is what the locked service changed, not before/after reads of unlocked rows:
        # parallel refunds of one purchase each report their own share.
        d = data.validated_data
        reversal = services.purchase_reverse(
            purchase=purchase,
            amount=d.get("amount"),
            items=d.get("items"),
            reference=d.get("reference", ""),
            reason=d["reason"],
            currency=d.get("currency") or purchase.original_currency,
        )
        return Response(
            s.ReverseResultSerializer(
                {
                    "transaction": reversal.purchase.pk,
                    "amount": reversal.amount,
                    "refunded_amount": reversal.purchase.refunded_amount,
                    "points_reversed": reversal.points,
                    "debt": reversal.debt,
                    "balance": reversal.member,
                }
            ).data
        )


class EngagementView(PartnerAPIView):
    @extend_schema(
        tags=["transactions"],
        operation_id="events_create",
        summary="Report an engagement action (review, social share, ...) for points",
        description="Earns the program's engagement rule for the type, within its daily and lifetime caps. "
        "The same (member, type, reference) earns once.",
        parameters=[IDEMPOTENCY_KEY],
        request=s.EngagementSerializer,
        examples=[
            OpenApiExample(
                "review", request_only=True, value={"member": NUMBER, "type": "review", "reference": "REVIEW-88121"}
            )
        ],
        responses={
            200: OpenApiResponse(
                s.EngagementResultSerializer,
                examples=[
                    OpenApiExample(
                        "awarded",
                        value={
                            "member": NUMBER,
                            "type": "review",
                            "reference": "REVIEW-88121",
                            "points": 50,
                            "balance": {"available": 1290, "pending": 85},
                        },
                    )
                ],
            ),
            **errors(*WRITE_ERRORS, conflicts=(("member_inactive", "Member 402519876543 is suspended."), IN_FLIGHT)),
        },
    )
    @idempotent
    def post(self, request):
        data = s.EngagementSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        member = self.member_or_404(d["member"])
        entry = services.points_engage(member=member, action=d["type"], reference=d["reference"])
        member.refresh_from_db(fields=["points_available", "points_pending"])
        return Response(
            s.EngagementResultSerializer(
                {
                    "member": member.number,
                    "type": d["type"],
                    "reference": d["reference"],
                    "points": entry.points if entry else 0,
                    "balance": member,
                }
            ).data
        )
