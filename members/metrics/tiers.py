"""Tier metrics: members per tier, then and now, and upgrades and downgrades per month."""

from dataclasses import dataclass, replace
from datetime import date, datetime

from django.db.models import Count, F, IntegerField, Max, Q, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from members.metrics.scope import (
    Scope,
    by_month,
    member_filter,
    month_key,
    month_start,
    months_between,
    scope_members,
)
from members.models import Program, Tier, TierChange


def program_tiers(*, program: Program) -> list[Tier]:
    return list(program.tiers.order_by("level"))


def tier_distribution(*, scope: Scope, at: datetime) -> dict[int | None, int]:
    """Members per tier id (None: no tier) as it was at `at`; tiers without members are left out.

    When no tier changed since `at` (a period ending now), that is the members' tier. Before, it comes from the tier history: changes are only
    appended, so the highest id per member before `at` is its latest change; members enrolled by
    then without any change count as no tier. The tier filter is ignored (it would leave a single
    bar); loyalty type applies.
    """
    members = replace(scope, tier=None, end=at)
    program_changes = TierChange.objects.filter(member__program=scope.program, created_at__gte=at)
    if at >= timezone.now() or not program_changes.exists():
        rows = scope_members(members).values("tier").annotate(n=Count("id")).values_list("tier", "n")
        return {tier: n for tier, n in rows if n}
    latest = (
        TierChange.objects.filter(member_filter(members, "member__"), created_at__lt=at)
        .values("member")
        .annotate(last=Max("id"))
        .values("last")
    )
    counts = dict(
        TierChange.objects.filter(id__in=latest).values("to_tier").annotate(n=Count("id")).values_list("to_tier", "n")
    )
    without = scope_members(members).count() - sum(counts.values())
    counts[None] = counts.get(None, 0) + max(without, 0)
    return {tier: n for tier, n in counts.items() if n}


def _tiers_json(counts: dict[int | None, int]) -> dict[str, int]:
    return {"none" if tier is None else str(tier): n for tier, n in counts.items()}


def tiers_months_live(scope: Scope) -> dict[date, dict]:
    """Per month of the scope, the tier distribution at its end: the "tiers" figures a snapshot stores."""
    months = months_between(scope.start, scope.end)
    ends = [month_start(m) for m in months[1:]] + [scope.end]
    return {m: _tiers_json(tier_distribution(scope=scope, at=end)) for m, end in zip(months, ends, strict=True)}


def tier_distribution_monthly(*, scope: Scope) -> list[tuple[date, dict[int | None, int]]]:
    """The distribution at the end of each month of the period (at the period end for the last one)."""
    return [
        (m, {None if key == "none" else int(key): n for key, n in counts.items()})
        for m, counts in by_month(scope, "tiers", tiers_months_live).items()
    ]


@dataclass(frozen=True)
class MonthMovement:
    month: date
    up: int
    down: int


def movements_months_live(scope: Scope) -> dict[date, dict]:
    """Per month of the scope, upgrades and downgrades: the "movements" figures a snapshot stores."""
    rows = {
        month_key(row["month"]): row
        for row in TierChange.objects.filter(
            member_filter(replace(scope, tier=None), "member__"), created_at__gte=scope.start, created_at__lt=scope.end
        )
        .exclude(reason=TierChange.Reason.ENROLL)
        .annotate(
            month=TruncMonth("created_at"),
            from_level=Coalesce("from_tier__level", Value(-1), output_field=IntegerField()),
            to_level=Coalesce("to_tier__level", Value(-1), output_field=IntegerField()),
        )
        .values("month")
        .annotate(
            up=Count("id", filter=Q(to_level__gt=F("from_level"))),
            down=Count("id", filter=Q(to_level__lt=F("from_level"))),
        )
    }
    return {
        m: {"up": rows[m]["up"] if m in rows else 0, "down": rows[m]["down"] if m in rows else 0}
        for m in months_between(scope.start, scope.end)
    }


def tier_movements_monthly(*, scope: Scope) -> list[MonthMovement]:
    """Upgrades and downgrades per month, by tier level (enrollments are not movements)."""
    return [MonthMovement(month=m, **r) for m, r in by_month(scope, "movements", movements_months_live).items()]
