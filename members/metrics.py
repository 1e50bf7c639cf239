"""Program metrics for the dashboard: members, purchases, points, tiers and loyalty types.

Every function takes a Scope (a program, a half-open period [start, end) and optional tier,
partner and loyalty-type filters) and runs a fixed number of aggregate queries, whatever the
number of members. The definitions are the ones in README "Dashboard and metrics"; keep both in step.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.db.models import Count, DecimalField, F, IntegerField, Max, Q, QuerySet, Sum, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from members.models import LedgerEntry, Member, MetricSnapshot, Partner, Program, Purchase, Tier, TierChange
from members.selectors import add_months

CENT = Decimal("0.01")
# A purchase refund takes back earned points; when they were already spent the member owes them
# and repays the debt from later earnings. Both undo issued points.
REVERSED_KINDS = (LedgerEntry.Kind.REVERSE, LedgerEntry.Kind.DEBT)


@dataclass(frozen=True)
class Scope:
    program: Program
    start: datetime
    end: datetime
    tier: Tier | None = None
    partner: Partner | None = None
    # None: every member; "" is a real value (type not yet known).
    loyalty_type: str | None = None

    @property
    def previous(self) -> "Scope":
        """The period of the same length just before this one (the S of the retention rate)."""
        return replace(self, start=self.start - (self.end - self.start), end=self.start)

    @property
    def days(self) -> Decimal:
        return Decimal((self.end - self.start).total_seconds()) / 86400


def rounded(value: Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(CENT, ROUND_HALF_UP)


def ratio(numerator, denominator, scale: int = 1) -> Decimal | None:
    """numerator / denominator x scale, rounded to cents; None when the denominator is zero."""
    if not denominator:
        return None
    return rounded(Decimal(numerator) * scale / Decimal(denominator))


def months_between(start: datetime, end: datetime) -> list[date]:
    """First days of the calendar months (current time zone) that overlap [start, end)."""
    first = timezone.localtime(start).date().replace(day=1)
    last = timezone.localtime(end - timedelta(microseconds=1)).date()
    months = []
    while first <= last:
        months.append(first)
        first = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return months


def month_start(day: date) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, 1))


def _month_key(value: datetime | date) -> date:
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return value.date().replace(day=1)
    return value.replace(day=1)


def _unfiltered(scope: Scope) -> bool:
    return scope.tier is None and scope.partner is None and scope.loyalty_type is None


def _by_month(scope: Scope, key: str, live: Callable[[Scope], dict[date, dict]]) -> dict[date, dict | None]:
    """`key` figures per month of the period: from the monthly snapshots for closed months wholly
    inside the period (unfiltered scopes only: snapshots hold whole-program figures), the rest
    computed live from the first month without one."""
    months = months_between(scope.start, scope.end)
    rows: dict[date, dict | None] = {}
    if _unfiltered(scope):
        for snap in MetricSnapshot.objects.filter(program=scope.program, month__in=months):
            inside = month_start(snap.month) >= scope.start and _next_month(snap.month) <= scope.end
            if inside and key in snap.data:
                rows[snap.month] = snap.data[key]
    missing = [m for m in months if m not in rows]
    if missing:
        computed = live(replace(scope, start=max(scope.start, month_start(missing[0]))))
        rows.update({m: computed.get(m) for m in missing})
    return {m: rows[m] for m in months}


def _next_month(day: date) -> datetime:
    return month_start(add_months(month_start(day), 1).date())


# --- the filtered sets every metric starts from ------------------------------------------------


def member_filter(scope: Scope, prefix: str = "", *, program: bool = True) -> Q:
    """The program, tier and loyalty-type filters on members (or on rows joined to a member through
    `prefix`). Rows with their own program column pass program=False: no join unless a member filter needs it."""
    q = Q(**{f"{prefix}program": scope.program}) if program else Q()
    if scope.tier is not None:
        q &= Q(**{f"{prefix}tier": scope.tier})
    if scope.loyalty_type is not None:
        q &= Q(**{f"{prefix}loyalty_type": scope.loyalty_type})
    return q


def scope_members(scope: Scope) -> QuerySet[Member]:
    """Members enrolled before the end of the period (tier and loyalty type as they are now)."""
    return Member.objects.filter(member_filter(scope), enrolled_at__lt=scope.end)


def scope_purchases(scope: Scope) -> QuerySet[Purchase]:
    qs = Purchase.objects.filter(
        member_filter(scope, "member__", program=False),
        program=scope.program,
        occurred_at__gte=scope.start,
        occurred_at__lt=scope.end,
    )
    return qs.filter(partner=scope.partner) if scope.partner is not None else qs


def scope_entries(scope: Scope, *, since_start: bool = True, by_partner: bool = True) -> QuerySet[LedgerEntry]:
    qs = LedgerEntry.objects.filter(
        member_filter(scope, "member__", program=False), program=scope.program, created_at__lt=scope.end
    )
    if since_start:
        qs = qs.filter(created_at__gte=scope.start)
    return qs.filter(partner=scope.partner) if by_partner and scope.partner is not None else qs


# --- members and purchases ---------------------------------------------------------------------


@dataclass(frozen=True)
class MemberMetrics:
    enrolled: int
    new: int
    active: int  # E: members with a purchase in the period
    previous_active: int  # S: members with a purchase in the previous period
    retained: int  # E - N: active in both periods
    crr: Decimal | None
    churn: Decimal | None
    repeat_purchase_rate: Decimal | None
    orders: int
    revenue: Decimal
    average_order_value: Decimal | None
    purchase_frequency: Decimal | None
    average_lifetime_periods: Decimal | None
    average_lifetime_days: Decimal | None
    clv: Decimal | None
    multi_category: int
    single_category: int
    upsell_ratio: Decimal | None

    @property
    def reactivated_or_new(self) -> int:
        """N: active in the period without a purchase in the previous one."""
        return self.active - self.retained


def member_metrics(*, scope: Scope) -> MemberMetrics:
    counts = scope_members(scope).aggregate(
        enrolled=Count("id"), new=Count("id", filter=Q(enrolled_at__gte=scope.start))
    )
    purchases = scope_purchases(scope)
    # One pass over both periods' purchases, one row per buyer, counted four ways.
    in_period = Q(occurred_at__gte=scope.start)
    buyers = (
        scope_purchases(replace(scope, start=scope.previous.start))
        .values("member")
        .annotate(
            now=Count("id", filter=in_period),
            before=Count("id", filter=~in_period),
            spent=Sum(F("amount") - F("refunded_amount"), filter=in_period),
        )
        .order_by()
        .aggregate(
            active=Count("member", filter=Q(now__gt=0)),
            previous_active=Count("member", filter=Q(before__gt=0)),
            retained=Count("member", filter=Q(now__gt=0, before__gt=0)),
            repeaters=Count("member", filter=Q(now__gte=2)),
            orders=Coalesce(Sum("now"), Value(0)),
            revenue=Coalesce(Sum("spent"), Value(Decimal(0)), output_field=DecimalField()),
        )
    )
    multi, single = _category_buyers(purchases)

    active, orders, revenue = buyers["active"], buyers["orders"], Decimal(buyers["revenue"])
    previous_active, retained, repeaters = buyers["previous_active"], buyers["retained"], buyers["repeaters"]
    churned = previous_active - retained
    # Expected number of periods a customer stays: the inverse of the per-period churn rate
    # (S / churned). CLV multiplies the exact values, so rounding happens once.
    lifetime = Decimal(previous_active) / churned if churned else None
    clv = revenue / active * lifetime if active and lifetime is not None else None
    return MemberMetrics(
        enrolled=counts["enrolled"],
        new=counts["new"],
        active=active,
        previous_active=previous_active,
        retained=retained,
        crr=ratio(retained, previous_active, 100),
        churn=ratio(churned, previous_active, 100),
        repeat_purchase_rate=ratio(repeaters, active, 100),
        orders=orders,
        revenue=revenue.quantize(CENT),
        average_order_value=ratio(revenue, orders),
        purchase_frequency=ratio(orders, active),
        average_lifetime_periods=rounded(lifetime),
        average_lifetime_days=rounded(lifetime * scope.days) if lifetime is not None else None,
        clv=rounded(clv),
        multi_category=multi,
        single_category=single,
        upsell_ratio=ratio(multi, single),
    )


# The category of a one-category basket: its first item that has one.
FIRST_CATEGORY = {
    "postgresql": (
        "(SELECT item ->> 'category' FROM jsonb_array_elements(CASE WHEN jsonb_typeof({t}.items) = 'array' "
        "THEN {t}.items ELSE '[]'::jsonb END) AS item WHERE COALESCE(item ->> 'category', '') <> '' LIMIT 1)"
    ),
    "sqlite": (
        "(SELECT json_extract(item.value, '$.category') FROM json_each(CASE WHEN json_type({t}.items) = 'array' "
        "THEN {t}.items ELSE '[]' END) AS item WHERE item.type = 'object' "
        "AND COALESCE(json_extract(item.value, '$.category'), '') <> '' LIMIT 1)"
    ),
}


def _category_buyers(purchases: QuerySet[Purchase]) -> tuple[int, int]:
    """(members who bought two or more distinct product categories, members who bought exactly one)
    across all their baskets of the period; items without a category are not counted.

    Purchase.categories already counts a basket's distinct categories, so a member with a basket of
    two or more is multi-category without reading items; only one-category baskets are opened (for
    their single category) to find members who bought different categories on different days.
    """
    table = connection.ops.quote_name(Purchase._meta.db_table)
    per_member = (
        purchases.filter(categories__gte=1)
        .annotate(first_category=RawSQL(FIRST_CATEGORY[connection.vendor].format(t=table), ()))  # noqa: S611 - constant SQL
        .values("member")
        .annotate(
            widest=Max("categories"),
            singles=Count("first_category", filter=Q(categories=1), distinct=True),
        )
        .order_by()
    )
    inner, params = per_member.query.sql_with_params()
    sql = (
        "SELECT COALESCE(SUM(CASE WHEN widest > 1 OR singles > 1 THEN 1 ELSE 0 END), 0), "  # noqa: S608 - ORM SQL
        f"COALESCE(SUM(CASE WHEN widest = 1 AND singles = 1 THEN 1 ELSE 0 END), 0) FROM ({inner}) AS per_member"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        multi, single = cursor.fetchone()
    return int(multi), int(single)


@dataclass(frozen=True)
class MonthActivity:
    month: date
    active: int
    new: int
    orders: int
    revenue: Decimal


def _live_activity(scope: Scope) -> dict[date, dict]:
    sales = {
        _month_key(row["month"]): row
        for row in scope_purchases(scope)
        .annotate(month=TruncMonth("occurred_at"))
        .values("month")
        .annotate(
            active=Count("member", distinct=True),
            orders=Count("id"),
            revenue=Sum(F("amount") - F("refunded_amount")),
        )
    }
    enrolled = {
        _month_key(row["month"]): row["n"]
        for row in scope_members(scope)
        .filter(enrolled_at__gte=scope.start)
        .annotate(month=TruncMonth("enrolled_at"))
        .values("month")
        .annotate(n=Count("id"))
    }
    return {
        m: {
            "active": sales[m]["active"] if m in sales else 0,
            "new": enrolled.get(m, 0),
            "orders": sales[m]["orders"] if m in sales else 0,
            "revenue": str(Decimal(sales[m]["revenue"] if m in sales else 0).quantize(CENT)),
        }
        for m in months_between(scope.start, scope.end)
    }


def monthly_activity(*, scope: Scope) -> list[MonthActivity]:
    """Per calendar month of the period: members with a purchase, members enrolled, orders, net revenue."""
    rows = _by_month(scope, "activity", _live_activity)
    return [
        MonthActivity(month=m, active=r["active"], new=r["new"], orders=r["orders"], revenue=Decimal(r["revenue"]))
        for m, r in rows.items()
    ]


# --- points ------------------------------------------------------------------------------------


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


def points_metrics(*, scope: Scope) -> PointsMetrics:
    sums = scope_entries(scope).aggregate(**_points_sums())
    # The liability is what members hold at the end of the period, wherever they earned it. When
    # nothing moved since (a period ending now), that is the sum of the cached balances: one row per
    # member instead of every ledger entry.
    if LedgerEntry.objects.filter(program=scope.program, created_at__gte=scope.end).exists():
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


def _live_points(scope: Scope) -> dict[date, dict]:
    rows = {
        _month_key(row["month"]): row
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
    return [MonthPoints(month=m, **r) for m, r in _by_month(scope, "points", _live_points).items()]


# --- tiers -------------------------------------------------------------------------------------


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


def _live_tiers(scope: Scope) -> dict[date, dict]:
    months = months_between(scope.start, scope.end)
    ends = [month_start(m) for m in months[1:]] + [scope.end]
    return {m: _tiers_json(tier_distribution(scope=scope, at=end)) for m, end in zip(months, ends, strict=True)}


def tier_distribution_monthly(*, scope: Scope) -> list[tuple[date, dict[int | None, int]]]:
    """The distribution at the end of each month of the period (at the period end for the last one)."""
    return [
        (m, {None if key == "none" else int(key): n for key, n in counts.items()})
        for m, counts in _by_month(scope, "tiers", _live_tiers).items()
    ]


@dataclass(frozen=True)
class MonthMovement:
    month: date
    up: int
    down: int


def _live_movements(scope: Scope) -> dict[date, dict]:
    rows = {
        _month_key(row["month"]): row
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
    return [MonthMovement(month=m, **r) for m, r in _by_month(scope, "movements", _live_movements).items()]


# --- loyalty types -----------------------------------------------------------------------------


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
        rows.setdefault(_month_key(row["month"]), {})[row["loyalty_type"]] = row["n"]
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

    return list(_by_month(replace(scope, loyalty_type=None), "loyalty", live).items())


# --- monthly snapshots (the one write of this module: derived figures, never domain state) -----


@transaction.atomic
def metric_snapshot_month(*, program: Program, month: date, now: datetime | None = None) -> MetricSnapshot:
    """Compute and store a closed month's whole-program figures (recomputing replaces them)."""
    now = now or timezone.now()
    month = month.replace(day=1)
    scope = Scope(program=program, start=month_start(month), end=_next_month(month))
    data = {
        "activity": _live_activity(scope)[month],
        "points": _live_points(scope)[month],
        "tiers": _live_tiers(scope)[month],
        "movements": _live_movements(scope)[month],
    }
    previous = MetricSnapshot.objects.filter(program=program, month=month).first()
    if previous is not None and "loyalty" in previous.data:
        data["loyalty"] = previous.data["loyalty"]
    elif scope.end <= now < _next_month(scope.end.date()):
        # Loyalty types are only known as they are now: record them while the month has just closed.
        data["loyalty"] = loyalty_distribution(scope=scope)
    snapshot, _ = MetricSnapshot.objects.update_or_create(
        program=program, month=month, defaults={"data": data, "computed_at": now}
    )
    return snapshot


def snapshot_missing(*, program: Program, now: datetime | None = None) -> bool:
    """True when the program's last closed month has no snapshot (new install, beat not running)."""
    last_month = add_months(month_start(timezone.localtime(now or timezone.now()).date()), -1).date()
    return not MetricSnapshot.objects.filter(program=program, month=last_month).exists()


def metric_snapshots_refresh(*, now: datetime | None = None, months: int = 2) -> int:
    """Daily: recompute each program's last `months` closed months (refunds and back-dated purchases
    still change the previous month); a program without snapshots gets its last 12. Returns rows."""
    now = now or timezone.now()
    this_month = timezone.localtime(now).date().replace(day=1)
    written = 0
    for program in Program.objects.order_by("pk"):
        depth = months if MetricSnapshot.objects.filter(program=program).exists() else 12
        for back in range(depth, 0, -1):
            metric_snapshot_month(program=program, month=add_months(month_start(this_month), -back).date(), now=now)
            written += 1
    return written
