"""Program metrics for the dashboard: members, purchases, points, tiers and loyalty types.

Every function takes a Scope (a program, a half-open period [start, end) and optional tier,
partner and loyalty-type filters) and runs a fixed number of aggregate queries, whatever the
number of members. The definitions are the ones in README "Dashboard and metrics"; keep both in step.

- scope: Scope, the filtered sets every metric starts from, months and rounding
- activity: members and purchases (retention, churn, order value, CLV, upsell)
- points: issued, redeemed, expired, liability
- tiers: distribution and movements
- loyalty: loyalty-type distribution
- snapshots: closed months stored once, read by the monthly charts
"""

from members.metrics.activity import MemberMetrics, MonthActivity, member_metrics, monthly_activity
from members.metrics.loyalty import loyalty_distribution, loyalty_distribution_monthly, loyalty_reassigned_monthly
from members.metrics.points import MonthPoints, PointsMetrics, monthly_points, points_metrics
from members.metrics.scope import (
    CENT,
    Scope,
    member_filter,
    month_start,
    months_between,
    ratio,
    rounded,
    scope_entries,
    scope_members,
    scope_purchases,
)
from members.metrics.snapshots import metric_snapshot_month, metric_snapshots_refresh, snapshot_missing
from members.metrics.tiers import (
    MonthMovement,
    program_tiers,
    tier_distribution,
    tier_distribution_monthly,
    tier_movements_monthly,
)

__all__ = [
    "CENT",
    "MemberMetrics",
    "MonthActivity",
    "MonthMovement",
    "MonthPoints",
    "PointsMetrics",
    "Scope",
    "loyalty_distribution",
    "loyalty_distribution_monthly",
    "loyalty_reassigned_monthly",
    "member_filter",
    "member_metrics",
    "metric_snapshot_month",
    "metric_snapshots_refresh",
    "month_start",
    "monthly_activity",
    "monthly_points",
    "months_between",
    "points_metrics",
    "program_tiers",
    "ratio",
    "rounded",
    "scope_entries",
    "scope_members",
    "scope_purchases",
    "snapshot_missing",
    "tier_distribution",
    "tier_distribution_monthly",
    "tier_movements_monthly",
]
