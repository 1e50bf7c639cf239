"""Shapes of the campaigns part of the partner API: offer codes, shaped like reward vouchers."""

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from campaigns import services
from campaigns.models import Offer, OfferGrant
from members.partners.serializers import MONEY
from rewards.api.serializers import ConsumeSerializer, VoucherQuerySerializer

# The same inputs as a reward voucher's check and use.
OfferCodeQuerySerializer = VoucherQuerySerializer
OfferCodeConsumeSerializer = ConsumeSerializer


class OfferBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    kind = serializers.ChoiceField(choices=Offer.Kind.choices)
    description = serializers.CharField()
    category = serializers.CharField(help_text="A discount on one category only; empty: the whole order.")


class OfferCodeSerializer(serializers.Serializer):
    """Field for field what a reward voucher answers, where it means the same."""

    code = serializers.CharField()
    status = serializers.SerializerMethodField(help_text="issued or consumed, as a reward voucher's.")
    offer = OfferBriefSerializer()
    campaign = serializers.IntegerField(source="campaign_id")
    member = serializers.CharField(source="member.number")
    percent = serializers.SerializerMethodField(help_text="Discounts: the percentage off; else null.")
    min_order_value = serializers.DecimalField(source="offer.min_amount", **MONEY)
    expires_at = serializers.DateTimeField(source="valid_until")
    consumed_at = serializers.DateTimeField(source="redeemed_at", allow_null=True)
    order_reference = serializers.SerializerMethodField(help_text="Your order it was used on; else empty.")

    def get_status(self, grant: OfferGrant) -> str:
        return "consumed" if grant.status == OfferGrant.Status.REDEEMED else "issued"

    @extend_schema_field(serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True))
    def get_percent(self, grant: OfferGrant) -> str | None:
        if grant.offer.kind != Offer.Kind.DISCOUNT:
            return None
        return str(Decimal(grant.offer.discount_percent).quantize(Decimal("0.01")))

    def get_order_reference(self, grant: OfferGrant) -> str:
        return services.offer_code_order(grant)
