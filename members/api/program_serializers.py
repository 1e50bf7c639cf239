"""Output shapes of the program part of the partner API (members/api/program.py)."""

from rest_framework import serializers

from members import program_words
from members.models import EarningRule, Program, Tier
from members.partners.serializers import MONEY, page_serializer


class ExpirySerializer(serializers.Serializer):
    policy = serializers.ChoiceField(source="expiry_policy", choices=Program.Expiry.choices)
    months = serializers.IntegerField(source="expiry_months", help_text="For fixed and inactivity policies.")
    notice_days = serializers.IntegerField(source="expiry_notice_days", help_text="Members are warned this early.")
    description = serializers.SerializerMethodField()

    def get_description(self, program: Program) -> str:
        return program_words.expiry_in_words(program)


class ReferralSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(source="referral_mode", choices=Program.Referral.choices)
    referrer_points = serializers.IntegerField(source="referral_referrer_points")
    referee_points = serializers.IntegerField(source="referral_referee_points")
    min_purchase = serializers.DecimalField(source="referral_min_purchase", **MONEY)


class BurnSerializer(serializers.Serializer):
    point_value = serializers.DecimalField(
        source="burn_rate", max_digits=10, decimal_places=4, help_text="Currency value of one point at checkout."
    )
    min_order = serializers.DecimalField(source="burn_min_order", **MONEY)


class ProgramSerializer(serializers.Serializer):
    name = serializers.CharField()
    currency = serializers.CharField()
    points_name = serializers.CharField()
    earn_rate = serializers.DecimalField(max_digits=10, decimal_places=4, help_text="Points per currency unit.")
    rounding = serializers.ChoiceField(choices=Program.Rounding.choices)
    earning = serializers.SerializerMethodField(help_text="The base rate in words.")
    welcome_bonus = serializers.IntegerField()
    pending_days = serializers.IntegerField(help_text="Purchase points wait this long before they can be spent.")
    expiry = ExpirySerializer(source="*")
    referral = ReferralSerializer(source="*")
    checkout_burn = BurnSerializer(source="*")
    max_purchase_amount = serializers.DecimalField(**MONEY)

    def get_earning(self, program: Program) -> str:
        return program_words.earning_in_words(program)


class TierSerializer(serializers.Serializer):
    level = serializers.IntegerField(help_text="0 is the entry tier; higher is better.")
    name = serializers.CharField()
    metric = serializers.ChoiceField(choices=Tier.Metric.choices)
    window = serializers.ChoiceField(choices=Tier.Window.choices)
    threshold = serializers.DecimalField(**MONEY)
    earn_multiplier = serializers.DecimalField(max_digits=5, decimal_places=2)
    benefits = serializers.CharField()
    invitation_only = serializers.BooleanField()
    qualification = serializers.SerializerMethodField(help_text="How to reach it, in words.")

    def get_qualification(self, tier: Tier) -> str:
        return program_words.tier_in_words(tier, self.context["program"])


class EarningRuleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=EarningRule.Kind.choices)
    description = serializers.SerializerMethodField(help_text="The rule in words.")
    multiplier = serializers.DecimalField(max_digits=6, decimal_places=2)
    points = serializers.IntegerField(help_text="Fixed points of bonus and engagement rules.")
    category = serializers.CharField()
    sku = serializers.CharField()
    action = serializers.CharField(help_text="Engagement rules: the action (POST /events).")
    min_amount = serializers.DecimalField(**MONEY)
    starts_at = serializers.DateTimeField(allow_null=True)
    ends_at = serializers.DateTimeField(allow_null=True)
    weekdays = serializers.SerializerMethodField(help_text="ISO weekdays (1 Monday ... 7 Sunday); empty: every day.")
    stackable = serializers.BooleanField()
    priority = serializers.IntegerField()

    def get_description(self, rule: EarningRule) -> str:
        return program_words.rule_in_words(rule, self.context["program"])

    def get_weekdays(self, rule: EarningRule) -> list[int]:
        return [int(d) for d in rule.weekdays.replace(" ", "").split(",") if d.isdigit() and 1 <= int(d) <= 7]


TierPageSerializer = page_serializer("TierPage", TierSerializer(many=True))
EarningRulePageSerializer = page_serializer("EarningRulePage", EarningRuleSerializer(many=True))
