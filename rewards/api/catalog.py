"""Partner API v1, the public catalog: the program's rewards without a member (for a shop's own
catalog page). What one member can redeem now, and why not the rest, is `GET /rewards?member=`."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers

from members.api.pages import paginated
from members.partners.base import PartnerAPIView
from members.partners.docs import LIST_PARAMS, READ_ERRORS, errors
from members.partners.serializers import MONEY, page_serializer
from rewards import selectors
from rewards.models import Reward


class CatalogRewardSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField(help_text="In the language of Accept-Language when staff translated it.")
    description = serializers.CharField()
    kind = serializers.ChoiceField(choices=Reward.Kind.choices)
    category = serializers.CharField()
    points_cost = serializers.IntegerField()
    value = serializers.DecimalField(**MONEY)
    percent = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    min_order_value = serializers.DecimalField(**MONEY)
    tiers = serializers.SerializerMethodField(help_text="Only members of these tiers; empty: every tier.")
    members_only = serializers.BooleanField(help_text="Only members with an active paid plan.")
    stock = serializers.IntegerField(allow_null=True, help_text="Units left; null: unlimited.")
    limit_per_member = serializers.IntegerField(allow_null=True)
    starts_at = serializers.DateTimeField(allow_null=True)
    early_access = serializers.BooleanField(
        help_text="Members whose paid plan has early access (perks.early_access) may redeem it before starts_at."
    )
    ends_at = serializers.DateTimeField(allow_null=True)
    event_at = serializers.DateTimeField(allow_null=True)
    event_place = serializers.CharField()
    is_featured = serializers.BooleanField()

    def get_tiers(self, reward: Reward) -> list[str]:
        return [tier.name for tier in reward.tiers.all()]


CatalogPageSerializer = page_serializer("CatalogPage", CatalogRewardSerializer(many=True))


EXAMPLE = {
    "id": 7,
    "title": "10 EUR off your next order",
    "description": "On any order of 30 EUR or more.",
    "kind": "fixed_discount",
    "category": "discounts",
    "points_cost": 1000,
    "value": "10.00",
    "percent": None,
    "min_order_value": "30.00",
    "tiers": [],
    "members_only": False,
    "stock": None,
    "limit_per_member": None,
    "starts_at": None,
    "early_access": False,
    "ends_at": None,
    "event_at": None,
    "event_place": "",
    "is_featured": True,
}


class CatalogView(PartnerAPIView):
    @extend_schema(
        tags=["rewards"],
        operation_id="catalog_list",
        summary="The program's rewards catalog, without a member",
        description="Active rewards not yet over, featured first, then by points. For one member's view "
        "(can redeem, and why not) use `GET /rewards?member=`. Titles follow `Accept-Language` where staff "
        "translated them.",
        parameters=LIST_PARAMS,
        responses={
            200: OpenApiResponse(
                CatalogPageSerializer,
                examples=[OpenApiExample("catalog", value={"next": None, "previous": None, "results": [EXAMPLE]})],
            ),
            **errors(*READ_ERRORS),
        },
    )
    def get(self, request):
        rewards = selectors.catalog_public(program=self.partner.program)
        # Featured first, then by cost (the cursor keeps its place within each group).
        return paginated(
            self, request, rewards, CatalogRewardSerializer, ordering=("-is_featured", "points_cost", "id")
        )
