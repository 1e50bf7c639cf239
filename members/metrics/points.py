"""Points metrics: issued, redeemed, expired, adjusted and reversed points, redemption rate,
breakage and the liability."""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import F, IntegerField, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth

from members.metrics.scope import CENT, Scope, by_month, month_key, months_between, ratio, scope_entries, scope_members
from members.models import LedgerEntry

REVERSED_KINDS = (LedgerEntry.Kind.REVERSE, LedgerEntry.Kind.DEBT)


@dataclass(frozen=True)
class PointsMetrics:
    issued: int
    redeemed: int
    expired: int
    adjusted: int
    reversed: int
    redemption_rate: Decimal | None
    breakage: Decimal | None
    liability_points: int
    liability_value: Decimal
    currency: str


def _points_sums() -> dict:
    def total(q: Q):
        return Coalesce(Sum("points", filter=q), Value(0), output_field=IntegerField())

    return {
        "issued": total(Q(kind__in=LedgerEntry.ISSUED_KINDS)),
        "spent": total(Q(kind=LedgerEntry.Kind.REDEEM)),
        "returned": total(Q(kind=LedgerEntry.Kind.REFUND)),
        "expired": total(Q(kind=LedgerEntry.Kind.EXPIRE)),
        "adjusted": total(Q(kind=LedgerEntry.Kind.ADJUST)),
        "reversed": total(Q(kind__in=REVERSED_KINDS)),
    }


def _redeemed(row: dict) -> int:
    """Points spent minus points handed back (cancelled redemptions, released checkout holds)."""
    return -row["spent"] - row["returned"]


def points_metrics(*, scope: Scope, with_liability: bool = True) -> PointsMetrics:
    """`with_liability=False` leaves the liability at 0 and skips its query: the dashboard's comparison
    with the previous period needs only the period's flows, and a past period's liability would sum
    the whole ledger up to its end."""
    sums = scope_entries(scope).aggregate(**_points_sums())
    # The liability is what members hold at the end of the period, wherever they earned it. When
    # nothing moved since (a period ending now), that is the sum of the cached balances: one row per
    # member instead of every ledger entry.
    if not with_liability:
        liability = 0
    elif LedgerEntry.objects.filter(program=scope.program, created_at__gte=scope.end).exists():
        liability = scope_entries(scope, since_start=False, by_partner=False).aggregate(
            s=Coalesce(Sum("points"), Value(0), output_field=IntegerField())
        )["s"]
    else:
        liability = scope_members(scope).aggregate(
            s=Coalesce(Sum(F("points_available") + F("points_pending")), Value(0), output_field=IntegerField())
        )["s"]
    redeemed, expired = _redeemed(sums), -sums["expired"]
    return PointsMetrics(
        issued=sums["issued"],
        redeemed=redeemed,
        expired=expired,
        adjusted=sums["adjusted"],
        reversed=-sums["reversed"],
        redemption_rate=ratio(redeemed, sums["issued"], 100),
        breakage=ratio(expired, sums["issued"], 100),
        liability_points=liability,
        liability_value=(liability * scope.program.burn_rate).quantize(CENT, ROUND_HALF_UP),
        currency=scope.program.currency,
    )


@dataclass(frozen=True)
class MonthPoints:
    month: date
    issued: int
    redeemed: int
    expired: int
    adjusted: int


def points_months_live(scope: Scope) -> dict[date, dict]:
    """Per month of the scope, computed from the ledger: the "points" figures a snapshot stores."""
    rows = {
        month_key(row["month"]): row
        for row in scope_entries(scope)
        .annotate(month=TruncMonth("created_at"))
        .values("month")
        .annotate(**_points_sums())
    }
    zero = dict.fromkeys(("issued", "spent", "returned", "expired", "adjusted", "reversed"), 0)
    return {
        m: {
            "issued": rows.get(m, zero)["issued"],
            "redeemed": _redeemed(rows.get(m, zero)),
            "expired": -rows.get(m, zero)["expired"],
            "adjusted": rows.get(m, zero)["adjusted"],
        }
        for m in months_between(scope.start, scope.end)
    }


def monthly_points(*, scope: Scope) -> list[MonthPoints]:
    return [MonthPoints(month=m, **r) for m, r in by_month(scope, "points", points_months_live).items()]
