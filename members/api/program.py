"""Partner API v1, program part: the settings a partner needs (currency, points name, earning rate,
expiry), the tiers with their thresholds and benefits, and the earning rules in words, in the
language of `Accept-Language` (en, ro, it, ru). Everything is the calling partner's program."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.response import Response

from members import selectors
from members.api import program_serializers as s
from members.api.pages import paginated
from members.partners.base import PartnerAPIView
from members.partners.docs import LIST_PARAMS, READ_ERRORS, errors

TAG = "program"
# Texts in words follow the standard Accept-Language header (en, ro, it, ru); it is not declared as a
# parameter: any value is accepted and an unknown language falls back to English.
IN_WORDS = " Texts in words are in the language of `Accept-Language` (en, ro, it or ru; else English)."
PROGRAM_EXAMPLE = {
    "name": "Coffee Lovers",
    "currency": "EUR",
    "points_name": "stars",
    "earn_rate": "1.0000",
    "rounding": "down",
    "earning": "1 stars per 1 EUR spent",
    "welcome_bonus": 200,
    "pending_days": 14,
    "expiry": {
        "policy": "fixed",
        "months": 12,
        "notice_days": 30,
        "description": "Points expire 12 months after they are earned, oldest first.",
    },
    "referral": {"mode": "single", "referrer_points": 500, "referee_points": 200, "min_purchase": "20.00"},
    "checkout_burn": {"point_value": "0.0100", "min_order": "10.00"},
    "max_purchase_amount": "1000000.00",
}
TIER_EXAMPLE = {
    "level": 1,
    "name": "Silver",
    "metric": "spend",
    "window": "rolling_12",
    "threshold": "500.00",
    "earn_multiplier": "1.25",
    "benefits": "Free shipping on every order; birthday gift",
    "invitation_only": False,
    "qualification": "Spend 500.00 EUR in the last 12 months.",
}
RULE_EXAMPLE = {
    "id": 3,
    "name": "Triple stars on coffee beans",
    "kind": "category",
    "description": "3 times the stars on the category coffee, from 10.00 EUR, on Saturday, Sunday.",
    "multiplier": "3.00",
    "points": 0,
    "category": "coffee",
    "sku": "",
    "action": "",
    "min_amount": "10.00",
    "starts_at": None,
    "ends_at": None,
    "weekdays": [6, 7],
    "stackable": True,
    "priority": 0,
}


def _listed(example: dict) -> dict:
    return {"next": None, "previous": None, "results": [example]}


class ProgramView(PartnerAPIView):
    @extend_schema(
        tags=[TAG],
        operation_id="program_get",
        summary="Your program's settings: currency, points name, earning rate, expiry, referrals",
        description=IN_WORDS.strip(),
        responses={
            200: OpenApiResponse(s.ProgramSerializer, examples=[OpenApiExample("program", value=PROGRAM_EXAMPLE)]),
            **errors(401, 429),
        },
    )
    def get(self, request):
        return Response(s.ProgramSerializer(self.partner.program).data)


class TiersView(PartnerAPIView):
    @extend_schema(
        tags=[TAG],
        operation_id="tiers_list",
        summary="The program's tiers: how to reach each one and what it gives",
        description=IN_WORDS.strip(),
        parameters=LIST_PARAMS,
        responses={
            200: OpenApiResponse(s.TierPageSerializer, examples=[OpenApiExample("tiers", value=_listed(TIER_EXAMPLE))]),
            **errors(*READ_ERRORS),
        },
    )
    def get(self, request):
        program = self.partner.program
        tiers = selectors.program_tiers(program=program)
        return paginated(self, request, tiers, s.TierSerializer, {"program": program}, ordering=("level", "id"))


class EarningRulesView(PartnerAPIView):
    @extend_schema(
        tags=[TAG],
        operation_id="earning_rules_list",
        summary="How members earn: the rules in force or scheduled, each in words",
        description="Active rules that have not ended: the program's and your own partner multipliers (not "
        "other partners'). On top of the base rate in `GET /program`; `POST /transactions/simulate` "
        "quotes a basket exactly." + IN_WORDS,
        parameters=LIST_PARAMS,
        responses={
            200: OpenApiResponse(
                s.EarningRulePageSerializer, examples=[OpenApiExample("rules", value=_listed(RULE_EXAMPLE))]
            ),
            **errors(*READ_ERRORS),
        },
    )
    def get(self, request):
        program = self.partner.program
        rules = selectors.earning_rules_published(program=program, partner_id=self.partner.pk)
        return paginated(
            self, request, rules, s.EarningRuleSerializer, {"program": program}, ordering=("-priority", "id")
        )
