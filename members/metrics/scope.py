"""The Scope every metric reads (program, period, filters), the filtered sets it starts from, and
the month arithmetic that lets closed months come from snapshots."""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q, QuerySet
from django.utils import timezone

from members.models import LedgerEntry, Member, MetricSnapshot, Partner, Program, Purchase, Tier
from members.selectors import add_months

CENT = Decimal("0.01")


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


def month_key(value: datetime | date) -> date:
    """The first day of the month `value` falls in (current time zone): how monthly rows are keyed."""
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return value.date().replace(day=1)
    return value.replace(day=1)


def _unfiltered(scope: Scope) -> bool:
    return scope.tier is None and scope.partner is None and scope.loyalty_type is None


def by_month(scope: Scope, key: str, live: Callable[[Scope], dict[date, dict]]) -> dict[date, dict | None]:
    """`key` figures per month of the period: from the monthly snapshots for closed months wholly
    inside the period (unfiltered scopes only: snapshots hold whole-program figures), the rest
    computed live from the first month without one."""
    months = months_between(scope.start, scope.end)
    rows: dict[date, dict | None] = {}
    if _unfiltered(scope):
        for snap in MetricSnapshot.objects.filter(program=scope.program, month__in=months):
            inside = month_start(snap.month) >= scope.start and next_month(snap.month) <= scope.end
            if inside and key in snap.data:
                rows[snap.month] = snap.data[key]
    missing = [m for m in months if m not in rows]
    if missing:
        computed = live(replace(scope, start=max(scope.start, month_start(missing[0]))))
        rows.update({m: computed.get(m) for m in missing})
    return {m: rows[m] for m in months}


def next_month(day: date) -> datetime:
    """The start of the month after the one `day` falls in."""
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
