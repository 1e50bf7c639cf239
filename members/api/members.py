"""Partner API v1, members part: enrollment, lookup, profile (a new email waits for the member's
confirmation), balance, the member's ledger, and paid-plan subscriptions with their payment.

Thin views: input serializer -> service or selector -> output serializer. Everything is scoped to
the calling partner (members of its program; its own transactions); the rest is a 404.
"""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response

from core.api import page_body, paginate
from core.errors import NotFound
from members import selectors, services
from members.api import selectors as api_selectors
from members.api import serializers as s
from members.households import household_briefs
from members.models import LedgerEntry
from members.partners.base import PartnerAPIView, idempotent
from members.partners.docs import (
    IDEMPOTENCY_KEY,
    IN_FLIGHT,
    LEGACY_PAGE_PARAM,
    LIST_PARAMS,
    READ_ERRORS,
    TEXT_PATTERN,
    WRITE_ERRORS,
    errors,
)
from members.partners.serializers import ListQuerySerializer
from members.perks import members_with_perks

NUMBER = "402519876543"
HOUSEHOLD_EXAMPLE = {"id": 12, "name": "Popescu family", "available": 2130, "members": 2}
MEMBER_EXAMPLE = {
    "number": NUMBER,
    "email": "ana.popescu@example.com",
    "phone": "+40721000111",
    "first_name": "Ana",
    "last_name": "Popescu",
    "birth_date": "1990-04-17",
    "language": "ro",
    "external_id": "CRM-1881",
    "time_zone": "Europe/Bucharest",
    "consent_email": True,
    "consent_sms": False,
    "referral_code": "K7MZ3QPA",
    "status": "active",
    "tier": "Silver",
    "points_available": 1240,
    "points_pending": 85,
    "household": HOUSEHOLD_EXAMPLE,
    "enrolled_at": "2026-03-02T10:15:00Z",
    "perks": {"free_shipping": True, "early_access": False},
}
BREAKDOWN_EXAMPLE = [
    {"kind": "base", "label": "84.50 EUR x 1.0000", "points": 84, "rule": None},
    {"kind": "category", "label": "Triple stars on coffee beans", "points": 25, "rule": 3},
    {"kind": "tier", "label": "Silver x1.25", "points": 27, "rule": None},
]
MEMBER_PARAM = OpenApiParameter("number", OpenApiTypes.STR, OpenApiParameter.PATH, description="Membership number.")


class MembersView(PartnerAPIView):
    @extend_schema(
        tags=["members"],
        operation_id="members_lookup",
        summary="Find members by email, phone or your external id",
        parameters=[
            OpenApiParameter(
                "email",
                {"type": "string", "maxLength": 254, "pattern": TEXT_PATTERN},
                description="Exact email (case-insensitive).",
            ),
            OpenApiParameter(
                "phone",
                {"type": "string", "maxLength": 20, "pattern": TEXT_PATTERN},
                description="Phone number in any format enrolment accepts; matched on its E.164 form.",
            ),
            OpenApiParameter(
                "external_id",
                {"type": "string", "maxLength": 64, "pattern": TEXT_PATTERN},
                description="Your customer id given at enrollment.",
            ),
            *LIST_PARAMS,
            LEGACY_PAGE_PARAM,
        ],
        responses={
            200: OpenApiResponse(
                s.MemberPageSerializer,
                examples=[
                    OpenApiExample(
                        "found", value={"next": None, "previous": None, "count": 1, "results": [MEMBER_EXAMPLE]}
                    )
                ],
            ),
            **errors(*READ_ERRORS),
        },
    )
    def get(self, request):
        query = s.MemberLookupSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = {k: v for k, v in query.validated_data.items() if k in ("email", "phone", "external_id")}
        members = members_with_perks(api_selectors.members_lookup(partner=self.partner, **filters))
        if query.validated_data.get("nothing"):
            members = members.none()
        page, paginator = paginate(request, members, view=self, ordering=("-enrolled_at", "-id"), pages=True)
        households = household_briefs(household_ids=[m.household_id for m in page if m.household_id])
        found = s.MemberSerializer(page, many=True, context={"households": households}).data
        return Response(page_body(paginator, found, count=members.count()))

    @extend_schema(
        tags=["members"],
        operation_id="members_enroll",
        summary="Enroll a member in your program",
        description="The welcome gift, if the program has one, is credited at once. A referral code credits "
        "the referrer when the new member's first qualifying purchase arrives.",
        parameters=[IDEMPOTENCY_KEY],
        request=s.MemberCreateSerializer,
        examples=[
            OpenApiExample(
                "enroll",
                request_only=True,
                value={
                    "email": "ana.popescu@example.com",
                    "first_name": "Ana",
                    "last_name": "Popescu",
                    "phone": "+40721000111",
                    "birth_date": "1990-04-17",
                    "language": "ro",
                    "external_id": "CRM-1881",
                    "consent_email": True,
                    "referral_code": "Q4TR8WXZ",
                },
            )
        ],
        responses={
            201: OpenApiResponse(
                s.MemberSerializer,
                examples=[
                    OpenApiExample("enrolled", value={**MEMBER_EXAMPLE, "points_available": 200, "tier": "Insider"})
                ],
            ),
            **errors(
                *WRITE_ERRORS,
                conflicts=(
                    ("email_taken", "A member with this email already exists in the program."),
                    ("external_id_taken", "A member with this external id already exists."),
                    IN_FLIGHT,
                ),
                refusals=(("invalid_referral_code", "This referral code does not exist."),),
            ),
        },
    )
    @idempotent
    def post(self, request):
        data = s.MemberCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = services.member_enroll(program=self.partner.program, **data.validated_data)
        return Response(s.MemberSerializer(member).data, status=201)


class MemberView(PartnerAPIView):
    @extend_schema(
        tags=["members"],
        operation_id="members_get",
        summary="A member of your program",
        parameters=[MEMBER_PARAM],
        responses={
            200: OpenApiResponse(s.MemberSerializer, examples=[OpenApiExample("member", value=MEMBER_EXAMPLE)]),
            **errors(*READ_ERRORS),
        },
    )
    def get(self, request, number: str):
        return Response(s.MemberSerializer(self.member_or_404(number)).data)

    @extend_schema(
        tags=["members"],
        operation_id="members_update",
        summary="Change profile and consent fields",
        description="Only the fields in the request body are changed. Balance, tier and status are never "
        "writable: sending them is a 400 naming each such field.\n\n"
        "**The email is what the member signs in with**, so a new `email` is not written at once: it becomes "
        "a pending change and the answer is **202** with `email_change.status = pending` (`email` still shows "
        "the current address). The member confirms it from a link mailed to the new address (valid 24 hours); "
        "the current address is told, with a link to stop the change or undo it. The other fields of the "
        "request are saved at once either way. Without a new email the answer is 200.",
        parameters=[MEMBER_PARAM],
        request=s.MemberUpdateSerializer,
        examples=[
            OpenApiExample("consent", request_only=True, value={"consent_sms": True, "phone": "+40721000222"}),
            OpenApiExample("email", request_only=True, value={"email": "ana.new@example.com"}),
        ],
        responses={
            200: OpenApiResponse(
                s.MemberUpdateResultSerializer,
                description="Saved.",
                examples=[OpenApiExample("updated", value={**MEMBER_EXAMPLE, "email_change": None})],
            ),
            202: OpenApiResponse(
                s.MemberUpdateResultSerializer,
                description="Saved, except the email: it waits for the member's confirmation.",
                examples=[
                    OpenApiExample(
                        "email pending",
                        value={
                            **MEMBER_EXAMPLE,
                            "email_change": {
                                "status": "pending",
                                "new_email": "ana.new@example.com",
                                "requested_at": "2026-11-20T17:42:03Z",
                            },
                        },
                    )
                ],
            ),
            **errors(
                400,
                401,
                404,
                409,
                413,
                415,
                429,
                conflicts=(("email_taken", "Another member uses this email."),),
                refusals=(("validation_error", "The request has invalid fields."),),
            ),
        },
    )
    def patch(self, request, number: str):
        member = self.member_or_404(number)
        data = s.MemberUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        member, change = services.member_profile_change(
            member=member, requested_by=f"partner:{self.partner.name}", partner=self.partner, **data.validated_data
        )
        member.email_change = change or selectors.email_change_pending(member=member)
        return Response(s.MemberUpdateResultSerializer(member).data, status=202 if change else 200)


SUBSCRIPTION_EXAMPLE = {
    "id": 381,
    "plan": "Plus",
    "status": "pending",
    "fee": "49.00",
    "started_at": "2026-11-20T17:42:03Z",
    "expires_at": "2026-12-04T17:42:03Z",
    "paid_at": None,
    "payment_reference": "",
}
SUBSCRIPTION_PARAM = OpenApiParameter(
    "subscription_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Subscription id."
)


class SubscriptionsView(PartnerAPIView):
    @extend_schema(
        tags=["members"],
        operation_id="members_subscriptions",
        summary="A member's paid-plan subscriptions, newest first",
        description="A subscription asked for on the member pages (or by staff) is `pending` and gives no perks "
        "until its payment is recorded: see the payment endpoint.",
        parameters=[MEMBER_PARAM, *LIST_PARAMS],
        responses={
            200: OpenApiResponse(
                s.SubscriptionListSerializer,
                examples=[
                    OpenApiExample(
                        "subscriptions", value={"next": None, "previous": None, "results": [SUBSCRIPTION_EXAMPLE]}
                    )
                ],
            ),
            **errors(*READ_ERRORS),
        },
    )
    def get(self, request, number: str):
        member = self.member_or_404(number)
        ListQuerySerializer(data=request.query_params).is_valid(raise_exception=True)
        subscriptions = api_selectors.member_subscriptions(member=member)
        page, paginator = paginate(request, subscriptions, view=self, ordering=("-started_at", "-id"))
        return Response(page_body(paginator, s.SubscriptionSerializer(page, many=True).data))


class SubscriptionPaymentView(PartnerAPIView):
    @extend_schema(
        tags=["members"],
        operation_id="members_subscription_payment",
        summary="Record the payment of a pending subscription (its perks start now)",
        description="For your till or your payment provider's webhook. The paid period starts now and the "
        "plan's perks (earning multiplier, plan-only rewards) with it. Idempotent by `reference`: the same "
        "reference again answers 200 with the subscription unchanged; another reference for a subscription "
        "already paid is a 409 `already_paid`; a subscription that lapsed unpaid is a 409 `expired`.",
        parameters=[MEMBER_PARAM, SUBSCRIPTION_PARAM, IDEMPOTENCY_KEY],
        request=s.PaymentSerializer,
        examples=[OpenApiExample("payment", request_only=True, value={"reference": "psp_3QfG7x2eZvKqA1"})],
        responses={
            200: OpenApiResponse(
                s.SubscriptionSerializer,
                examples=[
                    OpenApiExample(
                        "paid",
                        value={
                            **SUBSCRIPTION_EXAMPLE,
                            "status": "active",
                            "started_at": "2026-11-21T09:00:00Z",
                            "expires_at": "2027-11-21T09:00:00Z",
                            "paid_at": "2026-11-21T09:00:00Z",
                            "payment_reference": "psp_3QfG7x2eZvKqA1",
                        },
                    )
                ],
            ),
            **errors(
                *WRITE_ERRORS,
                conflicts=(
                    ("already_paid", "This subscription's payment is already recorded with another reference."),
                    ("expired", "This subscription has lapsed; subscribe again."),
                    IN_FLIGHT,
                ),
            ),
        },
    )
    @idempotent
    def post(self, request, number: str, subscription_id: int):
        member = self.member_or_404(number)
        subscription = api_selectors.member_subscriptions(member=member).filter(pk=subscription_id).first()
        if subscription is None:
            raise NotFound("Subscription not found.")
        data = s.PaymentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = services.plan_payment_record(
            subscription=subscription,
            reference=data.validated_data["reference"],
            paid_by=f"partner:{self.partner.name}",
        )
        return Response(s.SubscriptionSerializer(subscription).data)


class BalanceView(PartnerAPIView):
    @extend_schema(
        tags=["members"],
        operation_id="members_balance",
        summary="Points, tier progress and points about to expire",
        parameters=[MEMBER_PARAM],
        responses={
            200: OpenApiResponse(
                s.BalanceSerializer,
                examples=[
                    OpenApiExample(
                        "balance",
                        value={
                            "member": NUMBER,
                            "available": 1240,
                            "pending": 85,
                            "lifetime": 3180,
                            "debt": 0,
                            "tier": "Silver",
                            "next_tier": {
                                "name": "Gold",
                                "metric": "spend",
                                "threshold": "1500.00",
                                "value": "1122.40",
                                "needed": "377.60",
                                "percent": 74,
                            },
                            "expiring": {"within_30_days": 0, "within_60_days": 120, "within_90_days": 310},
                            "household": HOUSEHOLD_EXAMPLE,
                        },
                    )
                ],
            ),
            **errors(*READ_ERRORS),
        },
    )
    def get(self, request, number: str):
        member = self.member_or_404(number)
        # Bytes from the cache while nothing the answer depends on changed (api_selectors.balance_cache_name).
        return HttpResponse(api_selectors.member_balance_json(member=member), content_type="application/json")


class MemberEntriesView(PartnerAPIView):
    @extend_schema(
        tags=["members"],
        operation_id="members_transactions",
        summary="Your ledger entries for a member, newest first, with totals",
        description="Every entry you caused: your purchases and their refunds, the points your purchases "
        "set off (campaign offers, challenge prizes, referral rewards) and their reversals, your "
        "redemptions and checkout burns and the points they returned when cancelled or lapsed. "
        "Other partners' entries are never shown, so `totals` reconcile with your own books.",
        parameters=[
            MEMBER_PARAM,
            OpenApiParameter("since", OpenApiTypes.DATETIME),
            OpenApiParameter("until", OpenApiTypes.DATETIME),
            OpenApiParameter("kind", OpenApiTypes.STR, enum=LedgerEntry.Kind.values),
            *LIST_PARAMS,
            LEGACY_PAGE_PARAM,
        ],
        responses={
            200: OpenApiResponse(
                s.EntryPageSerializer,
                examples=[
                    OpenApiExample(
                        "entries",
                        value={
                            "next": None,
                            "previous": None,
                            "count": 2,
                            "totals": {"count": 2, "points_in": 136, "points_out": -40, "net": 96},
                            "results": [
                                {
                                    "id": 9312,
                                    "kind": "reverse",
                                    "points": -40,
                                    "amount": "25.00",
                                    "currency": "EUR",
                                    "transaction": 5121,
                                    "reference": "purchase:ORD-2026-000123",
                                    "reason": "Refund",
                                    "breakdown": [{"lot": 811, "points": 40}],
                                    "created_at": "2026-11-22T09:01:00Z",
                                },
                                {
                                    "id": 9188,
                                    "kind": "earn",
                                    "points": 136,
                                    "amount": "84.50",
                                    "currency": "EUR",
                                    "transaction": 5121,
                                    "reference": "purchase:ORD-2026-000123",
                                    "reason": "",
                                    "breakdown": BREAKDOWN_EXAMPLE,
                                    "created_at": "2026-11-20T17:42:03Z",
                                },
                            ],
                        },
                    )
                ],
            ),
            **errors(*READ_ERRORS),
        },
    )
    def get(self, request, number: str):
        member = self.member_or_404(number)
        query = s.EntryFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        entries = api_selectors.partner_member_entries(
            member=member, partner=self.partner, kind=q.get("kind"), since=q.get("since"), until=q.get("until")
        )
        page, paginator = paginate(request, entries, view=self, ordering=("-created_at", "-id"), pages=True)
        totals = api_selectors.entries_totals(entries)
        return Response(
            page_body(paginator, s.EntrySerializer(page, many=True).data, count=totals["count"], totals=totals)
        )
