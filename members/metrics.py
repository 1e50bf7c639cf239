"""Program metrics for the dashboard: members, purchases, points, tiers and loyalty types.

Every function takes a Scope (a program, a half-open period [start, end) and optional tier,
partner and loyalty-type filters) and runs a fixed number of aggregate queries, whatever the
number of members. The definitions are the ones in README "Dashboard and metrics"; keep both in step.
"""

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Count, DecimalField, F, IntegerField, Max, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from members.models import LedgerEntry, Member, Partner, Program, Purchase, Tier, TierChange

CENT = Decimal("0.01")
ISSUED_KINDS = (
    LedgerEntry.Kind.EARN,
    LedgerEntry.Kind.BONUS,
    LedgerEntry.Kind.WELCOME,
    LedgerEntry.Kind.REFERRAL,
    LedgerEntry.Kind.ENGAGEMENT,
    LedgerEntry.Kind.GRANT,
)
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


# --- the filtered sets every metric starts from ------------------------------------------------


def _member_q(scope: Scope, prefix: str = "") -> Q:
    q = Q(**{f"{prefix}program": scope.program})
    if scope.tier is not None:
        q &= Q(**{f"{prefix}tier": scope.tier})
    if scope.loyalty_type is not None:
        q &= Q(**{f"{prefix}loyalty_type": scope.loyalty_type})
    return q


def scope_members(scope: Scope) -> QuerySet[Member]:
    """Members enrolled before the end of the period (tier and loyalty type as they are now)."""
    return Member.objects.filter(_member_q(scope), enrolled_at__lt=scope.end)


def scope_purchases(scope: Scope) -> QuerySet[Purchase]:
    qs = Purchase.objects.filter(
        _member_q(scope, "member__"), program=scope.program, occurred_at__gte=scope.start, occurred_at__lt=scope.end
    )
    return qs.filter(partner=scope.partner) if scope.partner is not None else qs


def scope_entries(scope: Scope, *, since_start: bool = True, by_partner: bool = True) -> QuerySet[LedgerEntry]:
    qs = LedgerEntry.objects.filter(_member_q(scope, "member__"), program=scope.program, created_at__lt=scope.end)
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
    sales = purchases.aggregate(
        orders=Count("id"),
        active=Count("member", distinct=True),
        revenue=Coalesce(Sum(F("amount") - F("refunded_amount")), Value(Decimal(0)), output_field=DecimalField()),
    )
    previous = scope_purchases(scope.previous)
    previous_active = previous.aggregate(n=Count("member", distinct=True))["n"]
    retained = purchases.filter(member__in=previous.values("member")).aggregate(n=Count("member", distinct=True))["n"]
    repeaters = purchases.values("member").annotate(n=Count("id")).filter(n__gte=2).count()
    multi, single = _category_buyers(purchases)

    active, orders, revenue = sales["active"], sales["orders"], sales["revenue"]
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


def _category_buyers(purchases: QuerySet[Purchase]) -> tuple[int, int]:
    """(members who bought two or more distinct product categories, members who bought exactly one)
    across all their baskets of the period; items without a category are not counted."""
    ids_sql, params = purchases.values("id").query.sql_with_params()
    table = Purchase._meta.db_table
    if connection.vendor == "postgresql":
        per_member = (
            f"SELECT p.member_id, COUNT(DISTINCT item ->> 'category') AS n FROM {table} p "  # noqa: S608 - no user input
            "CROSS JOIN LATERAL jsonb_array_elements("
            "CASE WHEN jsonb_typeof(p.items) = 'array' THEN p.items ELSE '[]'::jsonb END) AS item "
            f"WHERE p.id IN ({ids_sql}) AND COALESCE(item ->> 'category', '') <> '' GROUP BY p.member_id"
        )
    else:
        per_member = (
            "SELECT p.member_id, COUNT(DISTINCT json_extract(item.value, '$.category')) AS n "  # noqa: S608
            f"FROM {table} p, json_each(CASE WHEN json_type(p.items) = 'array' THEN p.items ELSE '[]' END) AS item "
            f"WHERE p.id IN ({ids_sql}) AND item.type = 'object' "
            "AND COALESCE(json_extract(item.value, '$.category'), '') <> '' GROUP BY p.member_id"
        )
    sql = (
        "SELECT COALESCE(SUM(CASE WHEN n > 1 THEN 1 ELSE 0 END), 0), "  # noqa: S608 - built from the ORM above
        f"COALESCE(SUM(CASE WHEN n = 1 THEN 1 ELSE 0 END), 0) FROM ({per_member}) AS per_member"
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


def monthly_activity(*, scope: Scope) -> list[MonthActivity]:
    """Per calendar month of the period: members with a purchase, members enrolled, orders, net revenue."""
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
    empty = {"active": 0, "orders": 0, "revenue": Decimal(0)}
    return [
        MonthActivity(
            month=m,
            active=sales.get(m, empty)["active"],
            new=enrolled.get(m, 0),
            orders=sales.get(m, empty)["orders"],
            revenue=Decimal(sales.get(m, empty)["revenue"] or 0).quantize(CENT),
        )
        for m in months_between(scope.start, scope.end)
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
        "issued": total(Q(kind__in=ISSUED_KINDS)),
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
    # The liability is what members hold at the end of the period, wherever they earned it.
    liability = scope_entries(scope, since_start=False, by_partner=False).aggregate(
        s=Coalesce(Sum("points"), Value(0), output_field=IntegerField())
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


def monthly_points(*, scope: Scope) -> list[MonthPoints]:
    rows = {
        _month_key(row["month"]): row
        for row in scope_entries(scope)
        .annotate(month=TruncMonth("created_at"))
        .values("month")
        .annotate(**_points_sums())
    }
    zero = dict.fromkeys(("issued", "spent", "returned", "expired", "adjusted", "reversed"), 0)
    return [
        MonthPoints(
            month=m,
            issued=rows.get(m, zero)["issued"],
            redeemed=_redeemed(rows.get(m, zero)),
            expired=-rows.get(m, zero)["expired"],
            adjusted=rows.get(m, zero)["adjusted"],
        )
        for m in months_between(scope.start, scope.end)
    ]


# --- tiers -------------------------------------------------------------------------------------


def program_tiers(*, program: Program) -> list[Tier]:
    return list(program.tiers.order_by("level"))


def tier_distribution(*, scope: Scope, at: datetime) -> dict[int | None, int]:
    """Members per tier id (None: no tier) as it was at `at`, from the tier history.

    Tier changes are only appended, so the highest id per member before `at` is its latest change.
    The tier filter is ignored (it would leave a single bar); loyalty type applies.
    """
    latest = (
        TierChange.objects.filter(_member_q(replace(scope, tier=None), "member__"), created_at__lt=at)
        .values("member")
        .annotate(last=Max("id"))
        .values("last")
    )
    return {
        row["to_tier"]: row["n"]
        for row in TierChange.objects.filter(id__in=latest).values("to_tier").annotate(n=Count("id"))
    }


def tier_distribution_monthly(*, scope: Scope) -> list[tuple[date, dict[int | None, int]]]:
    """The distribution at the end of each month of the period (at the period end for the last one)."""
    months = months_between(scope.start, scope.end)
    ends = [month_start(m) for m in months[1:]] + [scope.end]
    return [(m, tier_distribution(scope=scope, at=end)) for m, end in zip(months, ends, strict=True)]


@dataclass(frozen=True)
class MonthMovement:
    month: date
    up: int
    down: int


def tier_movements_monthly(*, scope: Scope) -> list[MonthMovement]:
    """Upgrades and downgrades per month, by tier level (enrollments are not movements)."""
    rows = {
        _month_key(row["month"]): row
        for row in TierChange.objects.filter(
            _member_q(replace(scope, tier=None), "member__"), created_at__gte=scope.start, created_at__lt=scope.end
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
    return [
        MonthMovement(month=m, up=rows[m]["up"] if m in rows else 0, down=rows[m]["down"] if m in rows else 0)
        for m in months_between(scope.start, scope.end)
    ]


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
