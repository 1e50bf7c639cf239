"""Shapes of the rewards part of the partner API (catalog, redemptions, vouchers, checkout burn)."""

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from members.api.serializers import BalanceShortSerializer, PerksSerializer
from members.partners.serializers import MONEY, ListQuerySerializer, StrictSerializer, page_serializer
from members.perks import member_perks
from rewards.models import BurnHold, Redemption, Reward, Voucher
from rewards.services import voucher_code_display


class RewardBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    kind = serializers.ChoiceField(choices=Reward.Kind.choices)


class RewardOfferSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="reward.id")
    title = serializers.CharField(source="reward.title")
    kind = serializers.ChoiceField(source="reward.kind", choices=Reward.Kind.choices)
    category = serializers.CharField(source="reward.category")
    points_cost = serializers.IntegerField(source="reward.points_cost")
    value = serializers.DecimalField(source="reward.value", **MONEY)
    percent = serializers.DecimalField(source="reward.percent", max_digits=5, decimal_places=2, allow_null=True)
    min_order_value = serializers.DecimalField(source="reward.min_order_value", **MONEY)
    can_redeem = serializers.BooleanField()
    reason = serializers.CharField(
        help_text="Empty when redeemable; else insufficient_points, tier_required, membership_required, "
        "out_of_stock, limit_reached, not_yet_available, no_longer_available, member_inactive."
    )
    message = serializers.CharField()
    points_missing = serializers.IntegerField()


class RewardsQuerySerializer(ListQuerySerializer):
    member = serializers.CharField(max_length=12, help_text="Membership number.")


RewardOfferPageSerializer = page_serializer("RewardOfferPage", RewardOfferSerializer(many=True))


class VoucherSerializer(serializers.Serializer):
    code = serializers.SerializerMethodField(help_text="As printed for the member; spaces and dashes are ignored.")
    status = serializers.ChoiceField(choices=Voucher.Status.choices)
    reward = RewardBriefSerializer()
    member = serializers.CharField(source="member.number", allow_null=True, default=None)
    value = serializers.DecimalField(source="reward.value", **MONEY)
    percent = serializers.DecimalField(source="reward.percent", max_digits=5, decimal_places=2, allow_null=True)
    min_order_value = serializers.DecimalField(source="reward.min_order_value", **MONEY)
    expires_at = serializers.DateTimeField(allow_null=True)
    consumed_at = serializers.DateTimeField(allow_null=True)
    order_reference = serializers.CharField()

    def get_code(self, voucher: Voucher) -> str:
        return voucher_code_display(voucher.code)


class VoucherCheckSerializer(VoucherSerializer):
    perks = serializers.SerializerMethodField(
        help_text="The paid-plan perks of the voucher's member now: waive shipping on this order when "
        "free_shipping is true. All false for a code not issued to a member."
    )

    @extend_schema_field(PerksSerializer)
    def get_perks(self, voucher: Voucher) -> dict:
        return member_perks(voucher.member).as_dict()


class RedemptionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    member = serializers.CharField(source="member.number")
    reward = RewardBriefSerializer()
    status = serializers.ChoiceField(choices=Redemption.Status.choices)
    points = serializers.IntegerField()
    value = serializers.DecimalField(**MONEY)
    created_at = serializers.DateTimeField()
    cancelled_at = serializers.DateTimeField(allow_null=True)
    voucher = VoucherSerializer(allow_null=True, help_text="None for donations (done at once).")
    balance = BalanceShortSerializer(source="member")
    household = serializers.IntegerField(
        source="household_id",
        allow_null=True,
        help_text="The household whose pooled points paid; null: the member's own.",
    )


class RedeemSerializer(StrictSerializer):
    member = serializers.CharField(max_length=12)
    reward = serializers.IntegerField(min_value=1)
    from_household = serializers.BooleanField(
        required=False,
        help_text="Draw on the member's household's pooled points: the member's own first, then the other "
        "members' oldest. Absent: the program's default.",
    )


# Optional text fields have no default: a default the field refuses ("") would be sent by every
# generated client (openapi-python-client fills defaults in), and the services default them anyway.
class CancelSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=200, required=False)


class VoucherQuerySerializer(StrictSerializer):
    order_total = serializers.DecimalField(
        **MONEY, min_value=Decimal("0"), required=False, help_text="Also check the reward's minimum order."
    )


class VoucherFilterSerializer(ListQuerySerializer):
    status = serializers.ChoiceField(choices=Voucher.Status.choices, required=False)


VoucherPageSerializer = page_serializer("VoucherPage", VoucherSerializer(many=True))


class ConsumeSerializer(StrictSerializer):
    order_reference = serializers.CharField(max_length=64)
    order_total = serializers.DecimalField(**MONEY, min_value=Decimal("0"))


class BurnQuoteSerializer(StrictSerializer):
    member = serializers.CharField(max_length=12)
    order_total = serializers.DecimalField(**MONEY, min_value=Decimal("0.01"))
    points = serializers.IntegerField(
        min_value=1, required=False, help_text="Points to pay with; default: as many as the order and balance allow."
    )
    order_reference = serializers.CharField(max_length=64, required=False)


class BurnConfirmSerializer(StrictSerializer):
    order_reference = serializers.CharField(max_length=64, required=False)


class BurnHoldSerializer(serializers.Serializer):
    id = serializers.CharField(source="token", help_text="Confirm (or cancel) the hold with this id.")
    member = serializers.CharField(source="member.number")
    status = serializers.ChoiceField(choices=BurnHold.Status.choices)
    points = serializers.IntegerField()
    amount = serializers.DecimalField(**MONEY, help_text="Currency value of the points: deduct it from the order.")
    order_total = serializers.DecimalField(**MONEY)
    order_reference = serializers.CharField()
    expires_at = serializers.DateTimeField(help_text="Unconfirmed holds give the points back after this.")
    balance = BalanceShortSerializer(source="member")
