"""Member and purchase metrics: enrolment, activity, retention and churn, order value, CLV, upsell."""

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from django.db import connection
from django.db.models import Count, DecimalField, F, Max, Q, QuerySet, Sum, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, TruncMonth

from members.metrics.scope import (
    CENT,
    Scope,
    by_month,
    month_key,
    months_between,
    ratio,
    rounded,
    scope_members,
    scope_purchases,
)
from members.models import Purchase


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


def activity_months_live(scope: Scope) -> dict[date, dict]:
    """Per month of the scope, computed from the purchases and members: the "activity" figures a
    snapshot stores (JSON values)."""
    sales = {
        month_key(row["month"]): row
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
        month_key(row["month"]): row["n"]
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
    rows = by_month(scope, "activity", activity_months_live)
    return [
        MonthActivity(month=m, active=r["active"], new=r["new"], orders=r["orders"], revenue=Decimal(r["revenue"]))
        for m, r in rows.items()
    ]
