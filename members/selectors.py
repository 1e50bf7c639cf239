"""Reads for members: querysets with their joins, progress, expiry, the ledger check (the data
export is members.exports.member_export)."""

import calendar
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Context as DecimalContext
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from members.models import (
    AuditEntry,
    Card,
    EarningRule,
    EmailChange,
    LedgerEntry,
    Member,
    MembershipPlan,
    PointLot,
    PointsPrice,
    PointsSale,
    Program,
    Purchase,
    ReviewCase,
    RuleRevision,
    Subscription,
    Tier,
    TierChange,
)


def add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


# A safety net only: entries are keyed by Program.rules_version, which changes with every save.
PROGRAM_RULES_SECONDS = 600


@dataclass(frozen=True)
class ProgramRules:
    """What every purchase and balance read of a program needs and staff rarely change."""

    rules: list[EarningRule]  # active, not engagement; filter by date with members.earning.rules_in_force
    tiers: list[Tier]  # by level
    has_plans: bool  # False: no member can hold a subscription, so none is looked up
    # The published rule revision these are (members.services.revisions), named by every earn entry,
    # and the number of each published revision by id (the "why" of older entries): no query per earn.
    revision_id: int | None = None
    revision_numbers: dict[int, int] = field(default_factory=dict)


def program_rules(program: Program) -> ProgramRules:
    """The program's earning rules, tiers and whether it sells plans, from the cache (Redis in
    production, shared by all processes) under the program's rules_version, which the services
    bump in the same transaction as any change (members.invalidation)."""
    name = _rules_cache_name(program)
    # A request asks several times (earning, tier, plan, balance) through the same program object:
    # the first answer rides on it, so the cache is read once per request, never across requests.
    held = program.__dict__.get("_program_rules")
    if held is not None and held[0] == name:
        return held[1]
    found = cache.get(name)
    if found is None:
        found = ProgramRules(
            rules=list(
                EarningRule.objects.filter(program_id=program.pk, is_active=True).exclude(
                    kind=EarningRule.Kind.ENGAGEMENT
                )
            ),
            tiers=list(Tier.objects.filter(program_id=program.pk).order_by("level")),
            has_plans=MembershipPlan.objects.filter(program_id=program.pk).exists(),
            **_revisions_published(program),
        )
        cache.set(name, found, PROGRAM_RULES_SECONDS)
    program.__dict__["_program_rules"] = (name, found)
    return found


def _rules_cache_name(program: Program) -> str:
    # created_at tells apart programs that reuse an id (a database recreated, test runs).
    return f"program-rules:{program.pk}:{program.created_at.timestamp()}:{program.rules_version}"


def _revisions_published(program: Program) -> dict:
    # In publishing order: the last one is in force (members.services.revisions.revision_current).
    numbers = dict(
        RuleRevision.objects.filter(program_id=program.pk, status=RuleRevision.Status.PUBLISHED)
        .order_by("published_at")
        .values_list("pk", "number")
    )
    return {"revision_id": next(reversed(numbers), None), "revision_numbers": numbers}


def program_rules_override(program: Program, rules: ProgramRules) -> Program:
    """A copy of the program whose program_rules() answer is `rules`: the earning and tier code run
    on it as they run on the live program, with other rules in place (a draft's simulation)."""
    twin = Program(**{f.attname: getattr(program, f.attname) for f in Program._meta.concrete_fields})
    twin.__dict__["_program_rules"] = (_rules_cache_name(program), rules)
    return twin


def window_start(window: str, now: datetime) -> datetime | None:
    if window == Tier.Window.CALENDAR_YEAR:
        return timezone.localtime(now).replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    if window == Tier.Window.ROLLING_12:
        return add_months(now, -12)
    return None


def tier_metric_parts(
    *, tier: Tier, member_ids: list[int] | QuerySet, now: datetime, start: datetime | None
) -> list[QuerySet]:
    """The grouped querysets (member id, v) whose values add up to the tier's metric, for the members
    named by a list of ids or a queryset of ids (a periodic job's chunk, compiled into its SQL). The
    member column is `member_id`, or `referred_by_id` for the referrals metric."""
    ids = {"in": member_ids}
    if tier.metric == Tier.Metric.REFERRALS:
        qs = Member.objects.filter(**{f"referred_by_id__{k}": v for k, v in ids.items()}, referral_rewarded_at__lte=now)
        if start:
            qs = qs.filter(referral_rewarded_at__gte=start)
        return [qs.order_by().values("referred_by_id").annotate(v=Count("pk")).values_list("referred_by_id", "v")]
    purchases = Purchase.objects.filter(
        **{f"member_id__{k}": v for k, v in ids.items()}, occurred_at__lte=now
    ).order_by()
    if start:
        purchases = purchases.filter(occurred_at__gte=start)
    if tier.metric == Tier.Metric.SPEND:
        return [
            purchases.values("member_id")
            .annotate(v=Sum(F("amount") - F("refunded_amount")))
            .values_list("member_id", "v")
        ]
    # Purchases count through their own rows above (net of refunds), every other issued kind here.
    entries = LedgerEntry.objects.filter(
        **{f"member_id__{k}": v for k, v in ids.items()},
        kind__in=[kind for kind in LedgerEntry.ISSUED_KINDS if kind != LedgerEntry.Kind.EARN],
        created_at__lte=now,
    ).order_by()
    if start:
        entries = entries.filter(created_at__gte=start)
    return [
        purchases.values("member_id").annotate(v=Sum(F("points") - F("points_reversed"))).values_list("member_id", "v"),
        entries.values("member_id").annotate(v=Sum("points")).values_list("member_id", "v"),
    ]


def tier_metric_values(
    *, tier: Tier, member_ids: list[int], now: datetime, start: datetime | None = None
) -> dict[int, Decimal]:
    """Each member's value of the tier's qualification metric over [start, now] (default: the
    tier's window). One or two grouped queries, whatever the number of members.

    Spend is net of refunds; points earned count purchases net of reversed points (by purchase
    date) plus bonuses, welcome gifts, referrals, engagement and grants, never staff adjustments."""
    start = window_start(tier.window, now) if start is None else start
    values: dict[int, Decimal] = {}
    for rows in tier_metric_parts(tier=tier, member_ids=member_ids, now=now, start=start):
        for member_id, value in rows:
            values[member_id] = values.get(member_id, Decimal(0)) + Decimal(value or 0)
    return values


def tier_metric(member: Member, tier: Tier, now: datetime) -> Decimal:
    """The member's value of a tier's qualification metric over its window."""
    return tier_metric_values(tier=tier, member_ids=[member.pk], now=now).get(member.pk, Decimal(0))


def tiers_qualified(
    *, members: list[Member], now: datetime, previous_year: bool = False, min_level: int = 0
) -> dict[int, Tier | None]:
    """The best tier each member qualifies for by its metric (invitation-only tiers excluded), among
    tiers of at least `min_level` (None if none). With previous_year, calendar-year tiers also count
    the last full year: a tier earned during a year is kept through the next one. A constant number
    of queries per tier."""
    best: dict[int, Tier | None] = {m.pk: None for m in members}
    by_program: dict[int, list[int]] = {}
    for m in members:
        by_program.setdefault(m.program_id, []).append(m.pk)
    programs = {m.program_id: m for m in members}
    for program_id, ids in by_program.items():
        tiers = [
            t
            for t in program_rules(programs[program_id].program).tiers
            if not t.invitation_only and t.level >= min_level
        ]
        # Tiers usually share one metric and window: their values are computed once.
        computed: dict[tuple[str, str], dict[int, Decimal]] = {}
        for tier in tiers:
            key = (tier.metric, tier.window)
            if key not in computed:
                computed[key] = tier_metric_values(tier=tier, member_ids=ids, now=now)
            values = computed[key]
            if previous_year and tier.window == Tier.Window.CALENDAR_YEAR:
                year_start = window_start(tier.window, now)
                last_year = tier_metric_values(
                    tier=tier,
                    member_ids=ids,
                    now=year_start - timedelta(microseconds=1),
                    start=year_start.replace(year=year_start.year - 1),
                )
                values = {i: max(values.get(i, Decimal(0)), last_year.get(i, Decimal(0))) for i in ids}
            for member_id in ids:
                if values.get(member_id, Decimal(0)) >= tier.threshold:
                    best[member_id] = tier
    return best


def tier_qualified(member: Member, now: datetime, *, min_level: int = 0) -> Tier | None:
    return tiers_qualified(members=[member], now=now, min_level=min_level)[member.pk]


def member_list(*, program: Program | None = None) -> QuerySet[Member]:
    qs = Member.objects.select_related("program", "tier")
    return qs.filter(program=program) if program else qs


def member_get(*, program: Program, number: str) -> Member | None:
    return Member.objects.select_related("program", "tier").filter(program=program, number=number).first()


def referrer_by_code(*, program: Program, code: str) -> Member | None:
    """The active member whose referral code a sign-up page carries (?ref=), to say who invited."""
    if not code.strip().isalnum():  # codes are letters and digits; anything else (a NUL, ...) names nobody
        return None
    return (
        Member.objects.filter(program=program, referral_code=code.strip().upper(), status=Member.Status.ACTIVE)
        .only("first_name", "last_name", "referral_code")
        .first()
    )


def points_on_sale(*, program: Program) -> bool:
    """Whether members can buy points on their page (the program has a price and a payment page)."""
    return PointsPrice.objects.filter(program=program, is_active=True).exclude(payment_url="").exists()


def member_points_sales(*, member: Member) -> QuerySet[PointsSale]:
    """The points a member bought or ordered, newest first (their page)."""
    return PointsSale.objects.filter(member=member).order_by("-created_at", "-id")


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
    nxt = next(
        (t for t in program_rules(member.program).tiers if t.level > current_level and not t.invitation_only), None
    )
    if nxt is None:
        return TierProgress(member.tier, None, "", Decimal(0), Decimal(0), 100)
    value = tier_metric(member, nxt, now)
    needed = max(Decimal(0), nxt.threshold - value)
    percent = 100 if not nxt.threshold else min(100, int(value * 100 / nxt.threshold))
    return TierProgress(member.tier, nxt, nxt.metric, value, needed, percent)


def points_expiring_within(*, member: Member, days: Sequence[int], now: datetime | None = None) -> dict[int, int]:
    """Points that will expire within each number of days unless spent (one query for all windows)."""
    now = now or timezone.now()
    program = member.program
    if program.expiry_policy == Program.Expiry.FIXED:
        sums = PointLot.objects.filter(member=member, remaining__gt=0).aggregate(
            **{str(d): Coalesce(Sum("remaining", filter=Q(expires_at__lte=now + timedelta(days=d))), 0) for d in days}
        )
        return {d: sums[str(d)] for d in days}
    inactive_by = (
        add_months(member.last_activity_at, program.expiry_months)
        if program.expiry_policy == Program.Expiry.INACTIVITY and member.last_activity_at
        else None
    )
    return {d: member.points_balance if inactive_by and inactive_by <= now + timedelta(days=d) else 0 for d in days}


@dataclass(frozen=True)
class Standing:
    progress: TierProgress
    expiring: dict[int, int]  # days -> points expiring within them


# SQLite hands back sums of decimals as floats; Django's own converter reads them at 15 digits.
_FLOAT_DECIMAL = DecimalContext(prec=15)


def _decimal(value) -> Decimal:
    if value is None:
        return Decimal(0)
    return _FLOAT_DECIMAL.create_decimal_from_float(value) if isinstance(value, float) else Decimal(value)


def _standing_row(*, member: Member, nxt: Tier | None, days: Sequence[int], now: datetime) -> dict:
    """The next tier's metric parts and the points expiring within each of `days`, as scalar
    subqueries of one SELECT. Written out rather than built as ORM Subquery trees: compiling those
    trees was over half the balance read's CPU time (bench/RESULTS.md), and the statement is the
    same one, on the same indexes (member_id first). Same figures as tier_metric_parts and
    points_expiring_within, which the other reads keep using."""
    columns, params = [], []
    adapt = connection.ops.adapt_datetimefield_value

    def window(column: str) -> str:
        params.append(adapt(now))
        if start is None:
            return f"{column} <= %s"
        params.append(adapt(start))
        return f"{column} <= %s AND {column} >= %s"

    if nxt is not None:
        start = window_start(nxt.window, now)
        purchases = Purchase._meta.db_table
        if nxt.metric == Tier.Metric.REFERRALS:
            params.append(member.pk)
            columns.append(
                f'(SELECT COUNT(*) FROM "{Member._meta.db_table}" WHERE referred_by_id = %s'  # noqa: S608 - table names and placeholders only
                f" AND {window('referral_rewarded_at')}) AS metric0"
            )
        elif nxt.metric == Tier.Metric.SPEND:
            params.append(member.pk)
            columns.append(
                f'(SELECT SUM(amount - refunded_amount) FROM "{purchases}" WHERE member_id = %s'  # noqa: S608 - table names and placeholders only
                f" AND {window('occurred_at')}) AS metric0"
            )
        else:
            params.append(member.pk)
            columns.append(
                f'(SELECT SUM(points - points_reversed) FROM "{purchases}" WHERE member_id = %s'  # noqa: S608 - table names and placeholders only
                f" AND {window('occurred_at')}) AS metric0"
            )
            kinds = [kind for kind in LedgerEntry.ISSUED_KINDS if kind != LedgerEntry.Kind.EARN]
            params += [member.pk, *kinds]
            columns.append(
                f'(SELECT SUM(points) FROM "{LedgerEntry._meta.db_table}" WHERE member_id = %s'  # noqa: S608 - table names and placeholders only
                f" AND kind IN ({', '.join(['%s'] * len(kinds))}) AND {window('created_at')}) AS metric1"
            )
    for d in days:
        params += [member.pk, adapt(now + timedelta(days=d))]
        columns.append(
            f'(SELECT SUM(remaining) FROM "{PointLot._meta.db_table}" WHERE member_id = %s AND remaining > 0'  # noqa: S608 - table names and placeholders only
            f" AND expires_at <= %s) AS within{d}"
        )
    if not columns:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)}", params)
        names = [c[0] for c in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


def member_standing(*, member: Member, days: Sequence[int], now: datetime | None = None) -> Standing:
    """tier_progress and points_expiring_within together, in one query (the balance endpoint)."""
    now = now or timezone.now()
    current_level = member.tier.level if member.tier else -1
    nxt = next(
        (t for t in program_rules(member.program).tiers if t.level > current_level and not t.invitation_only), None
    )
    fixed = member.program.expiry_policy == Program.Expiry.FIXED
    row = _standing_row(member=member, nxt=nxt, days=days if fixed else (), now=now)
    if nxt is None:
        progress = TierProgress(member.tier, None, "", Decimal(0), Decimal(0), 100)
    else:
        value = sum((_decimal(row[k]) for k in row if k.startswith("metric")), Decimal(0))
        needed = max(Decimal(0), nxt.threshold - value)
        percent = 100 if not nxt.threshold else min(100, int(value * 100 / nxt.threshold))
        progress = TierProgress(member.tier, nxt, nxt.metric, value, needed, percent)
    if fixed:
        expiring = {d: row[f"within{d}"] or 0 for d in days}
    else:
        expiring = points_expiring_within(member=member, days=days, now=now)  # no query for these policies
    return Standing(progress, expiring)


def points_expiring(*, member: Member, days: int, now: datetime | None = None) -> int:
    """Points that will expire within `days` unless spent."""
    return points_expiring_within(member=member, days=[days], now=now)[days]


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


# --- member pages -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Referral:
    name: str
    enrolled_at: datetime
    qualified_at: datetime | None
    points: int


def member_referrals(*, member: Member) -> list[Referral]:
    """Who joined with the member's code, and the points the member earned for each (two queries)."""
    earned = dict(
        LedgerEntry.objects.filter(
            member=member, kind=LedgerEntry.Kind.REFERRAL, reference__startswith="members.member:"
        )
        .values_list("reference")
        .annotate(points=Sum("points"))
    )
    return [
        Referral(
            # First name and an initial: enough to recognise a friend, no more.
            name=(r.first_name + (f" {r.last_name[:1]}." if r.last_name else ""))
            if r.status != Member.Status.ANONYMIZED
            else "—",
            enrolled_at=r.enrolled_at,
            qualified_at=r.referral_rewarded_at,
            points=earned.get(f"members.member:{r.pk}", 0),
        )
        for r in member.referrals.only(
            "first_name", "last_name", "status", "enrolled_at", "referral_rewarded_at", "referred_by_id"
        ).order_by("-enrolled_at")
    ]


def member_cards_active(*, member: Member) -> QuerySet[Card]:
    """The cards a member can show at a till (blocked and replaced ones are refused there)."""
    return Card.objects.filter(member=member, status=Card.Status.ACTIVE).order_by("issued_at", "pk")


def email_change_pending(*, member: Member) -> EmailChange | None:
    """The member's email change waiting for the new address to confirm it, if any."""
    return EmailChange.objects.filter(member=member, status=EmailChange.Status.PENDING).first()


def plans_available(*, member: Member) -> QuerySet[MembershipPlan]:
    return MembershipPlan.objects.filter(program_id=member.program_id, is_active=True).order_by("fee")


def subscription_live(*, member: Member) -> Subscription | None:
    """The member's subscription waiting for payment, active, or cancelled but still running."""
    return (
        Subscription.objects.select_related("plan")
        .filter(member=member)
        .exclude(status=Subscription.Status.EXPIRED)
        .first()
    )


@dataclass
class MemberOverview:
    """What members holds about one member, for the staff 360° page: the latest rows of each kind."""

    member: Member
    tier_changes: list[TierChange]
    ledger: list[LedgerEntry]
    purchases: list[Purchase]
    referrals: list[Member]
    subscriptions: list[Subscription]
    review_cases: list[ReviewCase]
    audit: list[AuditEntry]


def purchases_recent(*, member: Member, limit: int = 5) -> list[Purchase]:
    return list(member.purchases.select_related("partner")[:limit])


def member_overview(*, member_id: int, limit: int = 10) -> MemberOverview:
    """One query per list, whatever the member's history (Member.DoesNotExist for an unknown id)."""
    member = Member.objects.select_related("program", "tier", "tier_floor", "referred_by").get(pk=member_id)
    return MemberOverview(
        member=member,
        tier_changes=list(member.tier_changes.select_related("from_tier", "to_tier", "created_by")[:limit]),
        ledger=list(member.ledger.select_related("partner", "created_by")[:limit]),
        purchases=purchases_recent(member=member, limit=limit),
        referrals=list(member.referrals.order_by("-enrolled_at")[:limit]),
        subscriptions=list(member.subscriptions.select_related("plan")[:limit]),
        review_cases=list(member.review_cases.all()[:limit]),
        audit=list(
            AuditEntry.objects.filter(
                target_type=ContentType.objects.get_for_model(Member), target_id=str(member.pk)
            ).select_related("actor")[:limit]
        ),
    )


def program_tiers(*, program: Program) -> QuerySet[Tier]:
    """The program's tiers, entry tier first."""
    return Tier.objects.filter(program=program).order_by("level")


def earning_rules_published(*, program: Program, partner_id: int | None = None, now: datetime | None = None):
    """Active rules that have not ended, as partners may see them: program-wide ones and those for
    `partner_id` (another partner's own multiplier is its business). Highest priority first."""
    now = now or timezone.now()
    return (
        EarningRule.objects.select_related("partner")
        .filter(program=program, is_active=True)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gte=now))
        .filter(Q(partner__isnull=True) | Q(partner_id=partner_id))
        .order_by("-priority", "pk")
    )
