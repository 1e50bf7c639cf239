from rest_framework import serializers

from coalition.models import SettlementLine
from members.partners.serializers import page_serializer

MONEY = {"max_digits": 14, "decimal_places": 2}


class SettlementLineSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=SettlementLine.Kind.choices,
        help_text="issued, reversed (refunded purchases), redeemed, returned (cancelled redemptions), "
        "vouchers (used here, redeemed on the member pages), elsewhere (issued here, redeemed at another "
        "partner), breakage (issued here, expired), adjustment (a correction to an earlier month).",
    )
    adjusts = serializers.CharField(help_text="For an adjustment, the kind of line it corrects; otherwise empty.")
    period = serializers.DateField(
        help_text="The month the points moved in (first day); an adjustment's: the month it corrects."
    )
    points = serializers.IntegerField()
    amount = serializers.DecimalField(**MONEY, help_text="What the points are worth at the rates of their days.")
    paid_by = serializers.CharField(help_text="partner, program, or empty: information only.")


class SettlementSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    month = serializers.DateField(help_text="The month settled (its first day).")
    currency = serializers.CharField()
    points_issued = serializers.IntegerField(help_text="Issued by you, net of reversals.")
    points_redeemed = serializers.IntegerField(
        help_text="Redeemed with you, net of returns; vouchers you took included."
    )
    points_redeemed_elsewhere = serializers.IntegerField(help_text="Issued by you, redeemed at other partners.")
    points_expired = serializers.IntegerField(help_text="Issued by you, expired unspent (breakage).")
    partner_owes = serializers.DecimalField(
        **MONEY, help_text="You pay the program (points issued times cost per point)."
    )
    program_owes = serializers.DecimalField(
        **MONEY, help_text="The program pays you (points redeemed with you times value per point)."
    )
    balance = serializers.DecimalField(**MONEY, help_text="partner_owes - program_owes: positive, you pay.")
    closed_at = serializers.DateTimeField()


class SettlementDetailSerializer(SettlementSerializer):
    lines = SettlementLineSerializer(many=True, source="ordered_lines")


SettlementPageSerializer = page_serializer("SettlementPage", SettlementSerializer(many=True))
