"""Loyalty types: the six kinds of loyalty of the source documents, derived from behaviour.

The rules (also in the README) read these signals, over the last 12 months unless said otherwise:
purchases (frequency), days since the last purchase (recency), spend (monetary), the share of
purchases made with a discount, the share of lifetime earned points that were redeemed (net of
returned points), successful referrals made (lifetime), the latest NPS answer, and whether the
member holds a tier above the entry one or a paid plan. The first rule that matches wins (the
numbers are the defaults; each program sets its own, LoyaltyThresholds):

1. advocate (unconditional): a promoter (NPS 9-10) who has referred at least one member and bought
   in the last 12 months;
2. freebie-loyal: redeemed at least 60% of the points earned, with at most 3 purchases;
3. price-loyal: at least 2 purchases, half or more of them with a discount;
4. program-loyal: in a tier above the entry one or on a paid plan, with at least 2 purchases;
5. convenience: 6 or more purchases with under 20% discounted and under 20% of points redeemed
   (buys often, out of habit, not for deals or rewards);
6. satisfied: at least one purchase, and NPS unknown or 7 and above;
otherwise the type stays unknown (no purchase in 12 months, or a detractor with no other signal).

The classifier exists twice, on purpose: `loyalty_type_for` reads one member's signals (the nightly
recompute, the admin's explanation), `loyalty_type_case` is the same rules as one SQL expression, so
the admin can count a whole program by type with thresholds being edited, in one grouped query.
Shares are compared as integers (redeemed x 100 >= share x earned) in both, so they agree exactly;
a test holds them together.
"""

from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThanOrEqual, LessThan
from django.utils import timezone

from members.models import LedgerEntry, Member, Program, Purchase, Subscription
from members.selectors import add_months

CHUNK = 2000
WINDOW_MONTHS = 12
Type = Member.LoyaltyType


@dataclass(frozen=True)
class LoyaltySignals:
    purchases: int = 0
    discounted: int = 0
    spend: Decimal = Decimal(0)
    days_since_purchase: int | None = None
    points_earned: int = 0
    points_redeemed: int = 0
    referrals: int = 0
    nps: int | None = None
    tier_level: int = 0
    paid_plan: bool = False

    @property
    def discount_share(self) -> float:
        return self.discounted / self.purchases if self.purchases else 0.0

    @property
    def redemption_share(self) -> float:
        return self.points_redeemed / self.points_earned if self.points_earned > 0 else 0.0


@dataclass(frozen=True)
class LoyaltyThresholds:
    """A program's thresholds (Program.loyalty_*); shares in percent."""

    advocate_nps: int = 9
    freebie_share: int = 60
    freebie_max_purchases: int = 3
    price_min_purchases: int = 2
    price_share: int = 50
    program_min_purchases: int = 2
    convenience_min_purchases: int = 6
    convenience_max_share: int = 20
    satisfied_nps: int = 7

    @classmethod
    def of(cls, program: Program) -> "LoyaltyThresholds":
        return cls(**{f.name: getattr(program, f"loyalty_{f.name}") for f in fields(cls)})


DEFAULT_THRESHOLDS = LoyaltyThresholds()


def loyalty_type_for(s: LoyaltySignals, t: LoyaltyThresholds = DEFAULT_THRESHOLDS) -> str:
    """The first matching rule of the module docstring (mirrored by loyalty_type_case)."""
    redeemed, earned = s.points_redeemed * 100, max(s.points_earned, 0)
    if s.nps is not None and s.nps >= t.advocate_nps and s.referrals >= 1 and s.purchases >= 1:
        return Type.ADVOCATE
    if earned > 0 and redeemed >= t.freebie_share * earned and s.purchases <= t.freebie_max_purchases:
        return Type.FREEBIE
    if s.purchases >= t.price_min_purchases and s.discounted * 100 >= t.price_share * s.purchases:
        return Type.PRICE
    if (s.tier_level > 0 or s.paid_plan) and s.purchases >= t.program_min_purchases:
        return Type.PROGRAM
    if (
        s.purchases >= t.convenience_min_purchases
        and s.discounted * 100 < t.convenience_max_share * s.purchases
        and (earned == 0 or redeemed < t.convenience_max_share * earned)
    ):
        return Type.CONVENIENCE
    if s.purchases >= 1 and (s.nps is None or s.nps >= t.satisfied_nps):
        return Type.SATISFIED
    return Type.UNKNOWN


def _count(queryset: QuerySet, by: str = "member_id") -> Coalesce:
    """A per-member count as a correlated subquery (0 when none)."""
    counted = queryset.order_by().values(by).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def members_with_signals(queryset: QuerySet[Member], now: datetime) -> QuerySet[Member]:
    """`queryset` annotated with the signals of LoyaltySignals, as correlated subqueries."""
    since = add_months(now, -WINDOW_MONTHS)
    purchases = Purchase.objects.filter(member_id=OuterRef("pk"), occurred_at__gte=since, occurred_at__lte=now)
    spent = (
        LedgerEntry.objects.filter(
            member_id=OuterRef("pk"), kind__in=[LedgerEntry.Kind.REDEEM, LedgerEntry.Kind.REFUND]
        )
        .order_by()
        .values("member_id")
        .annotate(s=Sum("points"))
        .values("s")
    )
    referred = Member.objects.filter(referred_by_id=OuterRef("pk"), referral_rewarded_at__isnull=False)
    planned = Subscription.objects.filter(
        member_id=OuterRef("pk"), expires_at__gt=now, status__in=Subscription.PERK_STATUSES
    )
    return queryset.annotate(
        sig_purchases=_count(purchases),
        sig_discounted=_count(purchases.filter(discount_amount__gt=0)),
        # Spending entries are negative; returned points (refunds) bring the sum back up.
        sig_redeemed=-Coalesce(Subquery(spent, output_field=IntegerField()), 0),
        sig_referrals=_count(referred, by="referred_by_id"),
        sig_planned=Exists(planned),
        sig_tier_level=Coalesce(F("tier__level"), 0),
    )


def loyalty_type_case(t: LoyaltyThresholds) -> Case:
    """loyalty_type_for as one SQL expression over members_with_signals' annotations."""
    n, discounted = F("sig_purchases"), F("sig_discounted")
    redeemed, earned = F("sig_redeemed") * 100, F("points_lifetime")
    # points_redeemed is max(0, -sum): below zero (more returned than spent) it counts as none.
    redeemed_x100 = Case(When(sig_redeemed__lt=0, then=Value(0)), default=redeemed, output_field=IntegerField())
    return Case(
        When(
            Q(last_nps__gte=t.advocate_nps, sig_referrals__gte=1, sig_purchases__gte=1),
            then=Value(Type.ADVOCATE),
        ),
        When(
            Q(points_lifetime__gt=0, sig_purchases__lte=t.freebie_max_purchases)
            & Q(GreaterThanOrEqual(redeemed_x100, earned * t.freebie_share)),
            then=Value(Type.FREEBIE),
        ),
        When(
            Q(sig_purchases__gte=t.price_min_purchases) & Q(GreaterThanOrEqual(discounted * 100, n * t.price_share)),
            then=Value(Type.PRICE),
        ),
        When(
            (Q(sig_tier_level__gt=0) | Q(sig_planned=True)) & Q(sig_purchases__gte=t.program_min_purchases),
            then=Value(Type.PROGRAM),
        ),
        When(
            Q(sig_purchases__gte=t.convenience_min_purchases)
            & Q(LessThan(discounted * 100, n * t.convenience_max_share))
            & (Q(points_lifetime__lte=0) | Q(LessThan(redeemed_x100, earned * t.convenience_max_share))),
            then=Value(Type.CONVENIENCE),
        ),
        When(
            Q(sig_purchases__gte=1) & (Q(last_nps__isnull=True) | Q(last_nps__gte=t.satisfied_nps)),
            then=Value(Type.SATISFIED),
        ),
        default=Value(Type.UNKNOWN),
    )


def loyalty_type_counts(*, program: Program) -> dict[str, int]:
    """How many of the program's members (not anonymized) have each type now (the stored one)."""
    rows = (
        Member.objects.filter(program=program)
        .exclude(status=Member.Status.ANONYMIZED)
        .order_by()
        .values("loyalty_type")
        .annotate(n=Count("pk"))
    )
    counts = dict.fromkeys(Type.values, 0)
    counts.update({row["loyalty_type"]: row["n"] for row in rows})
    return counts


def loyalty_type_distribution(
    *, program: Program, thresholds: LoyaltyThresholds | None = None, now: datetime | None = None
) -> dict[str, int]:
    """How many of the program's members (not anonymized) each type would have with `thresholds`
    (default: the program's), by the SQL classifier: one grouped query."""
    thresholds = thresholds or LoyaltyThresholds.of(program)
    members = Member.objects.filter(program=program).exclude(status=Member.Status.ANONYMIZED)
    rows = (
        members_with_signals(members, now or timezone.now())
        .annotate(kind=loyalty_type_case(thresholds))
        .order_by()
        .values("kind")
        .annotate(n=Count("pk"))
    )
    counts = dict.fromkeys(Type.values, 0)
    counts.update({row["kind"]: row["n"] for row in rows})
    return counts


def loyalty_signals(*, members: list[Member], now: datetime | None = None) -> dict[int, LoyaltySignals]:
    """Signals for a batch of members: five grouped queries whatever the batch size."""
    now = now or timezone.now()
    since = add_months(now, -WINDOW_MONTHS)
    ids = [m.pk for m in members]
    purchases = {
        row["member_id"]: row
        for row in Purchase.objects.filter(member_id__in=ids, occurred_at__gte=since, occurred_at__lte=now)
        .values("member_id")
        .annotate(n=Count("pk"), discounted=Count("pk", filter=Q(discount_amount__gt=0)), spend=Sum("amount"))
    }
    redeemed = dict(
        LedgerEntry.objects.filter(member_id__in=ids, kind__in=[LedgerEntry.Kind.REDEEM, LedgerEntry.Kind.REFUND])
        .values("member_id")
        .annotate(s=Sum("points"))
        .values_list("member_id", "s")
    )
    referrals = dict(
        Member.objects.filter(referred_by_id__in=ids, referral_rewarded_at__isnull=False)
        .values("referred_by_id")
        .annotate(n=Count("pk"))
        .values_list("referred_by_id", "n")
    )
    planned = set(
        Subscription.objects.filter(
            member_id__in=ids, expires_at__gt=now, status__in=Subscription.PERK_STATUSES
        ).values_list("member_id", flat=True)
    )
    tier_levels = dict(Member.objects.filter(pk__in=ids, tier__isnull=False).values_list("pk", "tier__level"))
    signals = {}
    for m in members:
        p = purchases.get(m.pk, {})
        signals[m.pk] = LoyaltySignals(
            purchases=p.get("n", 0),
            discounted=p.get("discounted", 0),
            spend=p.get("spend") or Decimal(0),
            days_since_purchase=(now - m.last_purchase_at).days if m.last_purchase_at else None,
            points_earned=m.points_lifetime,
            points_redeemed=max(0, -(redeemed.get(m.pk) or 0)),
            referrals=referrals.get(m.pk, 0),
            nps=m.last_nps,
            tier_level=tier_levels.get(m.pk, 0),
            paid_plan=m.pk in planned,
        )
    return signals


def loyalty_types_recompute(*, now: datetime | None = None) -> dict[str, int]:
    """Periodic: recompute every non-anonymized member's loyalty type with their program's
    thresholds, by chunks of member ids.
    Only members whose type changed are written. Returns how many members have each type."""
    now = now or timezone.now()
    counts: dict[str, int] = {}
    members = Member.objects.exclude(status=Member.Status.ANONYMIZED).only(
        "pk", "program_id", "last_purchase_at", "points_lifetime", "last_nps", "loyalty_type"
    )
    thresholds = {program.pk: LoyaltyThresholds.of(program) for program in Program.objects.all()}
    last = 0
    while True:
        chunk = list(members.filter(pk__gt=last).order_by("pk")[:CHUNK])
        if not chunk:
            return counts
        last = chunk[-1].pk
        signals = loyalty_signals(members=chunk, now=now)
        changed = []
        for member in chunk:
            kind = loyalty_type_for(signals[member.pk], thresholds[member.program_id])
            counts[kind] = counts.get(kind, 0) + 1
            if member.loyalty_type != kind:
                member.loyalty_type, member.loyalty_type_at = kind, now
                changed.append(member)
        with transaction.atomic():
            Member.objects.bulk_update(changed, ["loyalty_type", "loyalty_type_at"])
