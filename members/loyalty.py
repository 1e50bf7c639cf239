"""Loyalty types: the six kinds of loyalty of the source documents, derived from behaviour.

The rules (also in the README) read these signals, over the last 12 months unless said otherwise:
purchases (frequency), days since the last purchase (recency), spend (monetary), the share of
purchases made with a discount, the share of lifetime earned points that were redeemed (net of
returned points), successful referrals made (lifetime), the latest NPS answer, and whether the
member holds a tier above the entry one or a paid plan. The first rule that matches wins:

1. advocate (unconditional): a promoter (NPS 9-10) who has referred at least one member and bought
   in the last 12 months;
2. freebie-loyal: redeemed at least 60% of the points earned, with at most 3 purchases;
3. price-loyal: at least 2 purchases, half or more of them with a discount;
4. program-loyal: in a tier above the entry one or on a paid plan, with at least 2 purchases;
5. convenience: 6 or more purchases with under 20% discounted and under 20% of points redeemed
   (buys often, out of habit, not for deals or rewards);
6. satisfied: at least one purchase, and NPS unknown or 7 and above;
otherwise the type stays unknown (no purchase in 12 months, or a detractor with no other signal).
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from members.models import LedgerEntry, Member, Purchase, Subscription
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


def loyalty_type_for(s: LoyaltySignals) -> str:
    """The first matching rule of the module docstring."""
    if s.nps is not None and s.nps >= 9 and s.referrals >= 1 and s.purchases >= 1:
        return Type.ADVOCATE
    if s.points_earned > 0 and s.redemption_share >= 0.6 and s.purchases <= 3:
        return Type.FREEBIE
    if s.purchases >= 2 and s.discount_share >= 0.5:
        return Type.PRICE
    if (s.tier_level > 0 or s.paid_plan) and s.purchases >= 2:
        return Type.PROGRAM
    if s.purchases >= 6 and s.discount_share < 0.2 and s.redemption_share < 0.2:
        return Type.CONVENIENCE
    if s.purchases >= 1 and (s.nps is None or s.nps >= 7):
        return Type.SATISFIED
    return Type.UNKNOWN


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
    """Periodic: recompute every non-anonymized member's loyalty type, by chunks of member ids.
    Only members whose type changed are written. Returns how many members have each type."""
    now = now or timezone.now()
    counts: dict[str, int] = {}
    members = Member.objects.exclude(status=Member.Status.ANONYMIZED).only(
        "pk", "last_purchase_at", "points_lifetime", "last_nps", "loyalty_type"
    )
    last = 0
    while True:
        chunk = list(members.filter(pk__gt=last).order_by("pk")[:CHUNK])
        if not chunk:
            return counts
        last = chunk[-1].pk
        signals = loyalty_signals(members=chunk, now=now)
        changed = []
        for member in chunk:
            kind = loyalty_type_for(signals[member.pk])
            counts[kind] = counts.get(kind, 0) + 1
            if member.loyalty_type != kind:
                member.loyalty_type, member.loyalty_type_at = kind, now
                changed.append(member)
        with transaction.atomic():
            Member.objects.bulk_update(changed, ["loyalty_type", "loyalty_type_at"])
