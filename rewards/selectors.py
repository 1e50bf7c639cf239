"""Reads for rewards: the catalog as a member sees it, vouchers, challenges, badges, admin totals.

For the member pages:
- `rewards_for_member(member) -> list[RewardOffer]`: each active reward with `can_redeem`, a
  `reason` code (insufficient_points, tier_required, membership_required, out_of_stock,
  limit_reached, not_yet_available, no_longer_available) and `points_missing`.
- `member_vouchers(member)`, `member_redemptions(member)`, `member_challenges(member) ->
  list[ChallengeStanding]`, `member_badges(member)`.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DecimalField,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError, NotFound
from members.models import Member, Partner, Program, Subscription, Tier
from members.perks import member_perks
from rewards.models import (
    BurnHold,
    Cause,
    Challenge,
    ChallengeProgress,
    MemberBadge,
    Redemption,
    Reward,
    Voucher,
)

PERIOD_DAYS = {Reward.Period.DAY: 1, Reward.Period.WEEK: 7, Reward.Period.MONTH: 30, Reward.Period.YEAR: 365}


def refusal(code: str, message: str, status: int = 409, **fields) -> DomainError:
    return DomainError(code, message, fields=fields or None, status=status)


@dataclass(frozen=True)
class RewardUsage:
    """How often a member redeemed a reward: ever, and within the reward's limit period."""

    total: int = 0
    in_period: int = 0


def reward_usage(*, member: Member, rewards: list[Reward], now: datetime) -> dict[int, RewardUsage]:
    """One grouped query for all the rewards. Cancelled redemptions and surprises do not count."""
    per_period = {
        f"p_{days}": Count("id", filter=Q(created_at__gt=now - timedelta(days=days)))
        for days in sorted({PERIOD_DAYS[r.limit_period] for r in rewards})
    }
    rows = (
        Redemption.objects.filter(
            member=member,
            reward__in=[r.pk for r in rewards],
            status=Redemption.Status.COMPLETED,
            source=Redemption.Source.REDEEM,
        )
        .values("reward_id")
        .annotate(total=Count("id"), **per_period)
    )
    by_reward = {r.pk: r for r in rewards}
    usage = {}
    for row in rows:
        reward = by_reward[row["reward_id"]]
        usage[row["reward_id"]] = RewardUsage(row["total"], row[f"p_{PERIOD_DAYS[reward.limit_period]}"])
    return usage


def _codes_left(reward: Reward) -> int:
    annotated = getattr(reward, "codes_left", None)
    if annotated is not None:
        return annotated
    return reward.vouchers.filter(status=Voucher.Status.AVAILABLE).count()


def redeem_refusal(
    *,
    member: Member,
    reward: Reward,
    now: datetime,
    plan_active: bool,
    usage: RewardUsage,
    check_points: bool = True,
    available: int | None = None,
    early_access: bool = False,
) -> DomainError | None:
    """Why this member cannot redeem this reward now (None: they can). The redemption service and
    the catalog page share it, so they never disagree. The service passes a locked reward row.
    `available`: the points it may spend, when not the member's own (a household's pool).
    `early_access`: the member's plan has that perk (members.perks), which opens early-access
    rewards before they start."""
    if reward.program_id != member.program_id:
        return NotFound(_("Reward not found."), code="reward_not_found")
    if member.status != Member.Status.ACTIVE:
        return refusal("member_inactive", _("This membership is not active."))
    if not reward.is_active:
        return refusal("reward_inactive", _("This reward is not offered any more."))
    if reward.starts_at and reward.starts_at > now and not (reward.early_access and early_access):
        return refusal("not_yet_available", _("This reward is not available yet."))
    if (reward.ends_at and reward.ends_at <= now) or (reward.event_at and reward.event_at <= now):
        return refusal("no_longer_available", _("This reward is no longer available."))
    tier_ids = [t.pk for t in reward.tiers.all()]
    if tier_ids and member.tier_id not in tier_ids:
        return refusal("tier_required", _("This reward is reserved for higher tiers."))
    if reward.members_only and not plan_active:
        return refusal("membership_required", _("This reward is reserved for paid members."))
    if reward.code_source == Reward.CodeSource.IMPORTED:
        if _codes_left(reward) <= 0:
            return refusal("out_of_stock", _("This reward is out of stock."))
    elif reward.stock is not None and reward.stock <= 0:
        return refusal("out_of_stock", _("This reward is out of stock."))
    if reward.limit_per_member is not None and usage.total >= reward.limit_per_member:
        return refusal("limit_reached", _("You have already redeemed this reward the maximum number of times."))
    if reward.limit_per_period is not None and usage.in_period >= reward.limit_per_period:
        return refusal("limit_reached", _("You have reached the limit for this reward in this period."))
    available = member.points_available if available is None else available
    if check_points and available < reward.points_cost:
        missing = reward.points_cost - available
        return refusal(
            "insufficient_points",
            _("Not enough points: %(missing)s more needed.") % {"missing": missing},
            points=[str(missing)],
        )
    return None


def early_access_pending(reward: Reward, now: datetime) -> bool:
    """Not started yet, but open early to members whose plan has early access."""
    return reward.early_access and reward.starts_at is not None and reward.starts_at > now


def _has_plan(member: Member, now: datetime) -> bool:
    return Subscription.objects.filter(
        member=member, expires_at__gt=now, status__in=Subscription.PERK_STATUSES
    ).exists()


def catalog(*, program: Program) -> QuerySet[Reward]:
    """Active rewards of a program with their tiers and the imported codes still available."""
    return (
        Reward.objects.filter(program=program, is_active=True)
        .select_related("cause")
        .prefetch_related("tiers")
        .annotate(codes_left=_codes_left_annotation())
    )


@dataclass(frozen=True)
class RewardOffer:
    reward: Reward
    can_redeem: bool
    reason: str  # "" when redeemable
    message: str
    points_missing: int
    early: bool = False  # not started yet, open early to plans with early access


def catalog_current(*, program: Program, now: datetime | None = None) -> QuerySet[Reward]:
    """The catalog without rewards whose window ended or whose event took place."""
    now = now or timezone.now()
    return catalog(program=program).exclude(ends_at__lte=now).exclude(event_at__lte=now)


def rewards_for_member(
    *, member: Member, now: datetime | None = None, rewards: list[Reward] | None = None, available: int | None = None
) -> list[RewardOffer]:
    """The catalog as this member sees it (or `rewards`, a page of catalog_current): shown even when
    not redeemable, with the reason. `available`: the points the member may spend, when not their own
    (their household's pool)."""
    now = now or timezone.now()
    available = member.points_available if available is None else available
    if rewards is None:
        rewards = list(catalog_current(program=member.program, now=now))
    usage = reward_usage(member=member, rewards=rewards, now=now)
    plan_active = _has_plan(member, now)
    early = plan_active and any(early_access_pending(reward, now) for reward in rewards)
    early_access = early and member_perks(member, now).early_access
    offers = []
    for reward in rewards:
        error = redeem_refusal(
            member=member,
            reward=reward,
            now=now,
            plan_active=plan_active,
            usage=usage.get(reward.pk, RewardUsage()),
            available=available,
            early_access=early_access,
        )
        offers.append(
            RewardOffer(
                reward=reward,
                can_redeem=error is None,
                reason=error.code if error else "",
                message=error.message if error else "",
                points_missing=max(0, reward.points_cost - available),
                early=early_access_pending(reward, now),
            )
        )
    return offers


def reward_get(*, program: Program, pk: int) -> Reward | None:
    return catalog(program=program).filter(pk=pk).first()


def member_redemptions(*, member: Member) -> QuerySet[Redemption]:
    return (
        Redemption.objects.filter(member=member)
        .select_related("reward", "reward__cause", "voucher", "partner")
        .order_by("-created_at", "-id")
    )


def member_vouchers(*, member: Member, status: str | None = None) -> QuerySet[Voucher]:
    """The member's vouchers, usable ones first, newest first."""
    usable_first = Case(When(status=Voucher.Status.ISSUED, then=0), default=1)
    qs = (
        Voucher.objects.filter(member=member)
        .select_related("reward", "redemption")
        .order_by(usable_first, "-issued_at")
    )
    return qs.filter(status=status) if status else qs


@dataclass(frozen=True)
class ChallengeStanding:
    challenge: Challenge
    value: Decimal
    target: Decimal
    percent: int
    completed_at: datetime | None
    categories: list[str] = field(default_factory=list)


def member_challenges(*, member: Member, now: datetime | None = None) -> list[ChallengeStanding]:
    """Open challenges and the ones this member completed, with a progress percentage."""
    now = now or timezone.now()
    challenges = (
        Challenge.objects.filter(program_id=member.program_id, is_active=True)
        .filter(
            Q(starts_at__lte=now, ends_at__gt=now) | Q(progress__member=member, progress__completed_at__isnull=False)
        )
        .select_related("badge")
        .prefetch_related(
            Prefetch("progress", queryset=ChallengeProgress.objects.filter(member=member), to_attr="mine")
        )
        .distinct()
        .order_by("ends_at", "id")
    )
    standings = []
    for challenge in challenges:
        progress = challenge.mine[0] if challenge.mine else None
        value = progress.value if progress else Decimal(0)
        standings.append(
            ChallengeStanding(
                challenge=challenge,
                value=value,
                target=challenge.target,
                percent=min(100, int(value * 100 / challenge.target)),
                completed_at=progress.completed_at if progress else None,
                categories=list(progress.seen) if progress else [],
            )
        )
    return standings


def member_badges(*, member: Member) -> QuerySet[MemberBadge]:
    return MemberBadge.objects.filter(member=member).select_related("badge").order_by("-awarded_at")


def latest_voucher_ids(*, reward: Reward, limit: int = 50) -> list[int]:
    return list(Voucher.objects.filter(reward=reward).order_by("-id").values_list("id", flat=True)[:limit])


def partner_vouchers(*, partner: Partner) -> QuerySet[Voucher]:
    """Vouchers issued through or consumed by this partner (what the API lets it see)."""
    return (
        Voucher.objects.filter(Q(partner=partner) | Q(consumed_by=partner))
        .select_related("reward", "member")
        .order_by("-id")
    )


def partner_member_vouchers(*, partner: Partner, member: Member, status: str | None = None) -> QuerySet[Voucher]:
    """A member's vouchers a partner may list: issued through it or used at it, and those the program
    issued itself (member pages, surprises, staff), which the member may bring to any till; never the
    codes of another partner's redemptions, nor what another partner's orders used."""
    qs = (
        Voucher.objects.filter(member=member)
        .filter(
            Q(partner=partner)
            | Q(consumed_by=partner)
            | Q(partner__isnull=True, consumed_by__isnull=True)  # not another partner's order reference
        )
        .select_related("reward", "member")
    )
    return qs.filter(status=status) if status else qs


def partner_redemptions(*, partner: Partner) -> QuerySet[Redemption]:
    return Redemption.objects.filter(partner=partner).select_related("reward", "member", "voucher")


def burn_hold_get(*, token: str, partner: Partner | None) -> BurnHold | None:
    return BurnHold.objects.select_related("member").filter(token=token, partner=partner).first()


def _codes_left_annotation() -> Coalesce:
    """Imported codes not yet handed out, per reward (a subquery on the (reward, status) index)."""
    codes = (
        Voucher.objects.filter(reward=OuterRef("pk"), status=Voucher.Status.AVAILABLE)
        .values("reward")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(codes, output_field=IntegerField()), 0)


def rewards_with_counts(queryset: QuerySet[Reward] | None = None) -> QuerySet[Reward]:
    """For admin: redemptions (not cancelled) and imported codes left, per reward."""
    qs = queryset if queryset is not None else Reward.objects.all()
    redeemed = (
        Redemption.objects.filter(reward=OuterRef("pk"), status=Redemption.Status.COMPLETED)
        .values("reward")
        .annotate(n=Count("id"))
        .values("n")
    )
    return qs.annotate(
        redeemed=Coalesce(Subquery(redeemed, output_field=IntegerField()), 0), codes_left=_codes_left_annotation()
    )


def voucher_liability(*, program: Program, now: datetime | None = None) -> Decimal:
    """Currency value the program still owes: vouchers issued, not used, not expired."""
    now = now or timezone.now()
    return (
        Voucher.objects.filter(program=program, status=Voucher.Status.ISSUED)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .aggregate(v=Coalesce(Sum("redemption__value"), Value(Decimal(0)), output_field=DecimalField()))["v"]
    )


def charity_totals(queryset: QuerySet[Cause] | None = None) -> QuerySet[Cause]:
    """Per cause: donations, points and currency value given (cancelled donations excluded)."""
    qs = queryset if queryset is not None else Cause.objects.all()
    done = Q(rewards__redemptions__status=Redemption.Status.COMPLETED)
    return qs.annotate(
        donations=Count("rewards__redemptions", filter=done),
        donated_points=Coalesce(Sum("rewards__redemptions__points", filter=done), 0),
        donated_value=Coalesce(
            Sum("rewards__redemptions__value", filter=done),
            Value(Decimal(0)),
            output_field=DecimalField(max_digits=14, decimal_places=2),
        ),
    )


def members_for_grant(
    *,
    program: Program,
    identifiers: Sequence[str] = (),
    tiers: Sequence[Tier] = (),
    loyalty_types: Sequence[str] = (),
    min_points: int | None = None,
) -> QuerySet[Member]:
    """Active members of a program named by number or email, or else matching the filters."""
    qs = Member.objects.filter(program=program, status=Member.Status.ACTIVE)
    if identifiers:
        emails = [i.lower() for i in identifiers if "@" in i]
        numbers = [i for i in identifiers if "@" not in i]
        return qs.filter(Q(number__in=numbers) | Q(email__in=emails))
    if tiers:
        qs = qs.filter(tier__in=tiers)
    if loyalty_types:
        qs = qs.filter(loyalty_type__in=loyalty_types)
    if min_points is not None:
        qs = qs.filter(points_available__gte=min_points)
    return qs


@dataclass
class MemberRewards:
    """One member's redemptions (with their vouchers), badges and challenges, for the staff 360° page."""

    redemptions: list[Redemption]
    vouchers_live: int
    badges: list[MemberBadge]
    challenges: list[ChallengeProgress]


def member_rewards_overview(*, member: Member, limit: int = 10) -> MemberRewards:
    return MemberRewards(
        redemptions=list(member.redemptions.select_related("reward", "voucher", "partner")[:limit]),
        vouchers_live=member.vouchers.filter(status=Voucher.Status.ISSUED).count(),
        badges=list(member.badges.select_related("badge")[:limit]),
        challenges=list(member.challenge_progress.select_related("challenge").order_by("-updated_at")[:limit]),
    )


def catalog_public(*, program: Program, now: datetime | None = None) -> QuerySet[Reward]:
    """The catalog without a member (partner API `GET /catalog`): active rewards not yet over,
    featured first, then by cost; each with its tier restriction."""
    now = now or timezone.now()
    return (
        catalog(program=program)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .filter(Q(event_at__isnull=True) | Q(event_at__gt=now))
        .order_by("-is_featured", "points_cost", "pk")
    )


def vouchers_consumed_at_partners(*, program: Program, since: datetime, until: datetime) -> QuerySet[Voucher]:
    """Vouchers of redemptions made without a partner (the member pages) that a partner took on an
    order in [since, until): the partner gave the reward's value, so partner settlement counts the
    redemption's points as redeemed there. (A redemption made through a partner counts at that one.)"""
    return Voucher.objects.filter(
        program=program,
        status=Voucher.Status.CONSUMED,
        consumed_at__gte=since,
        consumed_at__lt=until,
        consumed_by__isnull=False,
        redemption__isnull=False,
        redemption__partner__isnull=True,
    )
