"""Loyalty-type metrics: members per type (members.loyalty assigns them), and where types move."""

from dataclasses import replace
from datetime import date

from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils import timezone

from members.metrics.scope import Scope, by_month, month_key, months_between, scope_members
from members.models import Member


def loyalty_distribution(*, scope: Scope) -> dict[str, int]:
    """Members per loyalty type (every type listed, "" for not yet known). The loyalty-type filter is ignored."""
    counts = dict.fromkeys(Member.LoyaltyType.values, 0)
    for row in scope_members(replace(scope, loyalty_type=None)).values("loyalty_type").annotate(n=Count("id")):
        counts[row["loyalty_type"]] = row["n"]
    return counts


def loyalty_reassigned_monthly(*, scope: Scope) -> list[tuple[date, dict[str, int]]]:
    """Per month, members whose current loyalty type was assigned in that month, by type: where
    segmentation is moving members to. Only the latest assignment of each member is kept."""
    rows: dict[date, dict[str, int]] = {}
    for row in (
        scope_members(replace(scope, loyalty_type=None))
        .filter(loyalty_type_at__gte=scope.start, loyalty_type_at__lt=scope.end)
        .annotate(month=TruncMonth("loyalty_type_at"))
        .values("month", "loyalty_type")
        .annotate(n=Count("id"))
    ):
        rows.setdefault(month_key(row["month"]), {})[row["loyalty_type"]] = row["n"]
    return [
        (m, {t: rows.get(m, {}).get(t, 0) for t in Member.LoyaltyType.values})
        for m in months_between(scope.start, scope.end)
    ]


def loyalty_distribution_monthly(*, scope: Scope) -> list[tuple[date, dict[str, int] | None]]:
    """Members per loyalty type at each month end. Types have no history, so past months come only
    from snapshots taken when the month closed (None without one); the current month is live."""

    def live(sub: Scope) -> dict[date, dict]:
        last = months_between(sub.start, sub.end)[-1]
        if last != timezone.localdate().replace(day=1):
            return {}
        return {last: loyalty_distribution(scope=sub)}

    return list(by_month(replace(scope, loyalty_type=None), "loyalty", live).items())
