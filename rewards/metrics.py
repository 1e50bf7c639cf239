"""Rewards metrics for the dashboard: redemptions per reward kind and donations per cause.

Same Scope as members.metrics (program, period, tier, partner, loyalty type); cancelled
redemptions are left out (their points went back to the member).
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DecimalField, IntegerField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from members.metrics import CENT, Scope, member_filter
from rewards.models import Cause, Redemption, Reward


def scope_redemptions(scope: Scope) -> QuerySet[Redemption]:
    qs = Redemption.objects.filter(
        member_filter(scope, "member__", program=False),
        program=scope.program,
        status=Redemption.Status.COMPLETED,
        created_at__gte=scope.start,
        created_at__lt=scope.end,
    )
    return qs.filter(partner=scope.partner) if scope.partner is not None else qs


def _totals() -> dict:
    return {
        "count": Count("id"),
        "points": Coalesce(Sum("points"), Value(0), output_field=IntegerField()),
        "value": Coalesce(Sum("value"), Value(Decimal(0)), output_field=DecimalField(max_digits=14, decimal_places=2)),
    }


@dataclass(frozen=True)
class KindRow:
    kind: str
    label: str
    redeemed: int  # redeemed with points
    surprises: int  # given by staff or rules, no points
    points: int
    value: Decimal


def redemptions_by_kind(*, scope: Scope) -> list[KindRow]:
    """Every reward kind of the catalog, in catalog order, with zeros where nothing happened."""
    rows = {
        row["reward__kind"]: row
        for row in scope_redemptions(scope)
        .values("reward__kind")
        .annotate(
            redeemed=Count("id", filter=Q(source=Redemption.Source.REDEEM)),
            surprises=Count("id", filter=~Q(source=Redemption.Source.REDEEM)),
            **_totals(),
        )
        .order_by()
    }
    empty = {"redeemed": 0, "surprises": 0, "points": 0, "value": Decimal(0)}
    return [
        KindRow(
            kind=kind,
            label=str(label),
            redeemed=rows.get(kind, empty)["redeemed"],
            surprises=rows.get(kind, empty)["surprises"],
            points=rows.get(kind, empty)["points"],
            value=Decimal(rows.get(kind, empty)["value"]).quantize(CENT),
        )
        for kind, label in Reward.Kind.choices
    ]


@dataclass(frozen=True)
class CauseRow:
    cause_id: int
    name: str
    donations: int
    points: int
    value: Decimal


def charity_by_cause(*, scope: Scope) -> list[CauseRow]:
    """Donations (completed charity redemptions) per cause of the program, causes without any included."""
    rows = {
        row["reward__cause"]: row
        for row in scope_redemptions(scope)
        .filter(reward__kind=Reward.Kind.CHARITY, reward__cause__isnull=False)
        .values("reward__cause")
        .annotate(**_totals())
        .order_by()
    }
    empty = {"count": 0, "points": 0, "value": Decimal(0)}
    return [
        CauseRow(
            cause_id=cause.pk,
            name=cause.name,
            donations=rows.get(cause.pk, empty)["count"],
            points=rows.get(cause.pk, empty)["points"],
            value=Decimal(rows.get(cause.pk, empty)["value"]).quantize(CENT),
        )
        for cause in Cause.objects.filter(program=scope.program).order_by("name")
    ]
