"""Reads for members: querysets with their joins, progress, expiry, exports, the ledger check."""

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from members.models import LedgerEntry, Member, PointLot, Program, Purchase, Tier

CREDIT_KINDS = {
    LedgerEntry.Kind.EARN,
    LedgerEntry.Kind.BONUS,
    LedgerEntry.Kind.WELCOME,
    LedgerEntry.Kind.REFERRAL,
    LedgerEntry.Kind.ENGAGEMENT,
    LedgerEntry.Kind.GRANT,
    LedgerEntry.Kind.ADJUST,
}


def add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def window_start(window: str, now: datetime) -> datetime | None:
    if window == Tier.Window.CALENDAR_YEAR:
        return now.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    if window == Tier.Window.ROLLING_12:
        return add_months(now, -12)
    return None


def tier_metric(member: Member, tier: Tier, now: datetime, start: datetime | None = None) -> Decimal:
    """The member's value of a tier's qualification metric over its window."""
    start = window_start(tier.window, now) if start is None else start
    if tier.metric == Tier.Metric.SPEND:
        qs = Purchase.objects.filter(member=member, occurred_at__lte=now)
        if start:
            qs = qs.filter(occurred_at__gte=start)
        value = qs.aggregate(v=Sum(F("amount") - F("refunded_amount")))["v"]
    elif tier.metric == Tier.Metric.POINTS:
        qs = LedgerEntry.objects.filter(
            member=member, kind__in=CREDIT_KINDS - {LedgerEntry.Kind.ADJUST}, created_at__lte=now
        )
        if start:
            qs = qs.filter(created_at__gte=start)
        value = qs.aggregate(v=Sum("points"))["v"]
    else:
        qs = Member.objects.filter(referred_by=member, referral_rewarded_at__isnull=False)
        if start:
            qs = qs.filter(referral_rewarded_at__gte=start)
        value = qs.count()
    return Decimal(value or 0)


def tier_qualified(member: Member, now: datetime, *, previous_year: bool = False) -> Tier | None:
    """The best tier the member qualifies for by its own metric. With previous_year, calendar-year
    tiers also count the last full year (a tier earned in a year is kept through the next)."""
    best = None
    for tier in member.program.tiers.filter(invitation_only=False).order_by("level"):
        value = tier_metric(member, tier, now)
        if previous_year and tier.window == Tier.Window.CALENDAR_YEAR:
            last_year_end = window_start(tier.window, now)
            value = max(
                value,
                tier_metric(member, tier, last_year_end, start=last_year_end.replace(year=last_year_end.year - 1)),
            )
        if value >= tier.threshold:
            best = tier
    return best


def member_list(*, program: Program | None = None) -> QuerySet[Member]:
    qs = Member.objects.select_related("program", "tier")
    return qs.filter(program=program) if program else qs


def member_get(*, program: Program, number: str) -> Member | None:
    return Member.objects.select_related("program", "tier").filter(program=program, number=number).first()


def member_entries(
    *,
    member: Member,
    partner=None,
    kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[LedgerEntry]:
    qs = LedgerEntry.objects.filter(member=member).select_related("partner").order_by("-created_at", "-id")
    if partner is not None:
        qs = qs.filter(partner=partner)
    if kind:
        qs = qs.filter(kind=kind)
    if since:
        qs = qs.filter(created_at__gte=since)
    if until:
        qs = qs.filter(created_at__lt=until)
    return qs


@dataclass(frozen=True)
class TierProgress:
    current: Tier | None
    next: Tier | None
    metric: str
    value: Decimal
    needed: Decimal
    percent: int


def tier_progress(*, member: Member, now: datetime | None = None) -> TierProgress:
    """Where the member stands against the next tier: its metric, value and what is still needed."""
    now = now or timezone.now()
    current_level = member.tier.level if member.tier else -1
    nxt = member.program.tiers.filter(level__gt=current_level, invitation_only=False).order_by("level").first()
    if nxt is None:
        return TierProgress(member.tier, None, "", Decimal(0), Decimal(0), 100)
    value = tier_metric(member, nxt, now)
    needed = max(Decimal(0), nxt.threshold - value)
    percent = 100 if not nxt.threshold else min(100, int(value * 100 / nxt.threshold))
    return TierProgress(member.tier, nxt, nxt.metric, value, needed, percent)


def points_expiring(*, member: Member, days: int, now: datetime | None = None) -> int:
    """Points that will expire within `days` unless spent."""
    now = now or timezone.now()
    program = member.program
    if program.expiry_policy == Program.Expiry.FIXED:
        return PointLot.objects.filter(
            member=member, remaining__gt=0, expires_at__lte=now + timedelta(days=days)
        ).aggregate(s=Coalesce(Sum("remaining"), 0))["s"]
    inactive_by = (
        add_months(member.last_activity_at, program.expiry_months)
        if program.expiry_policy == Program.Expiry.INACTIVITY and member.last_activity_at
        else None
    )
    if inactive_by and inactive_by <= now + timedelta(days=days):
        return member.points_balance
    return 0


def member_export(*, member: Member) -> dict:
    """Everything held about a member (GDPR access request), as plain JSON types."""
    fields = (
        "number",
        "email",
        "phone",
        "first_name",
        "last_name",
        "birth_date",
        "language",
        "external_id",
        "consent_email",
        "consent_email_at",
        "consent_sms",
        "consent_sms_at",
        "referral_code",
        "status",
        "loyalty_type",
        "enrolled_at",
        "last_activity_at",
        "points_available",
        "points_pending",
        "points_lifetime",
        "points_debt",
    )
    data = {f: _plain(getattr(member, f)) for f in fields}
    data["program"] = member.program.name
    data["tier"] = member.tier.name if member.tier else None
    data["ledger"] = [
        {k: _plain(v) for k, v in row.items()}
        for row in member.ledger.order_by("created_at", "id").values(
            "created_at", "kind", "points", "amount", "currency", "reason", "reference", "partner__name"
        )
    ]
    data["purchases"] = [
        {k: _plain(v) for k, v in row.items()}
        for row in member.purchases.order_by("occurred_at").values(
            "occurred_at", "external_id", "amount", "currency", "refunded_amount", "points", "partner__name", "items"
        )
    ]
    data["tier_history"] = [
        {k: _plain(v) for k, v in row.items()}
        for row in member.tier_changes.order_by("created_at").values(
            "created_at", "from_tier__name", "to_tier__name", "reason"
        )
    ]
    data["referrals"] = list(member.referrals.values_list("number", flat=True))
    return data


def _plain(value):
    if isinstance(value, datetime | Decimal) or hasattr(value, "isoformat"):
        return value.isoformat() if hasattr(value, "isoformat") else str(value)
    return value


@dataclass(frozen=True)
class LedgerMismatch:
    member_id: int
    number: str
    cached: int
    ledger: int
    lots: int


def ledger_mismatches(*, chunk: int = 5000) -> list[LedgerMismatch]:
    """Members whose cached balance differs from the ledger sum or from their lots' remainders.

    The invariant: available + pending == sum(entries) == sum(lot remainders), each >= 0,
    and pending == sum(remainders of pending lots).
    """
    ledger_sum = (
        LedgerEntry.objects.filter(member=OuterRef("pk")).values("member").annotate(s=Sum("points")).values("s")
    )
    lot_sum = PointLot.objects.filter(member=OuterRef("pk")).values("member").annotate(s=Sum("remaining")).values("s")
    pending_sum = (
        PointLot.objects.filter(member=OuterRef("pk"), pending=True)
        .values("member")
        .annotate(s=Sum("remaining"))
        .values("s")
    )
    zero = Value(0, output_field=IntegerField())
    qs = Member.objects.annotate(
        ledger_sum=Coalesce(Subquery(ledger_sum, output_field=IntegerField()), zero),
        lot_sum=Coalesce(Subquery(lot_sum, output_field=IntegerField()), zero),
        pending_lots=Coalesce(Subquery(pending_sum, output_field=IntegerField()), zero),
    ).filter(
        ~Q(ledger_sum=F("points_available") + F("points_pending"))
        | ~Q(lot_sum=F("ledger_sum"))
        | ~Q(pending_lots=F("points_pending"))
    )
    return [
        LedgerMismatch(m.pk, m.number, m.points_available + m.points_pending, m.ledger_sum, m.lot_sum)
        for m in qs.only("pk", "number", "points_available", "points_pending").iterator(chunk_size=chunk)
    ]


def spend_in_period(*, member: Member, since: datetime) -> Decimal:
    return Purchase.objects.filter(member=member, occurred_at__gte=since).aggregate(
        s=Coalesce(Sum(F("amount") - F("refunded_amount")), Decimal(0))
    )["s"]
