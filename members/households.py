"""Reads about households (the selectors of members.services.households): the pooled balance, who
belongs and what each contributes, invitations, and the household's tier metric.

The pooled balance is what the household's active members have available, added up: each member's
points stay on their own ledger, and a pooled redemption draws on them in the order
members.services.households states.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from members.models import Household, HouseholdInvitation, Member, Program, Tier
from members.selectors import TierProgress, program_rules, tier_metric_values, tier_progress


def households_enabled(*, member: Member) -> bool:
    return member.program.household_max_members > 0


def household_pool(*, household_id: int) -> int:
    """The household's pooled balance: its active members' available points (one query)."""
    return Member.objects.filter(household_id=household_id, status=Member.Status.ACTIVE).aggregate(
        points=Coalesce(Sum("points_available"), 0)
    )["points"]


def household_pool_of(*, household: Household, members: dict[int, Member]) -> int:
    """The pooled balance from member rows already read (the locked rows of members.locks.lock_household)."""
    return sum(
        m.points_available
        for m in members.values()
        if m.household_id == household.pk and m.status == Member.Status.ACTIVE
    )


def household_briefs(*, household_ids: list[int]) -> dict[int, dict]:
    """Households as the partner API shows them (id, name, pooled points, members), by id: one
    query for any number of them."""
    rows = (
        Household.objects.filter(pk__in=household_ids)
        .annotate(
            available=Coalesce(Sum("members__points_available", filter=Q(members__status=Member.Status.ACTIVE)), 0),
            member_count=Count("members"),
        )
        .values("id", "name", "available", "member_count")
    )
    return {
        row["id"]: {"id": row["id"], "name": row["name"], "available": row["available"], "members": row["member_count"]}
        for row in rows
    }


def household_pool_brief(*, household_id: int) -> dict | None:
    return household_briefs(household_ids=[household_id]).get(household_id)


def household_members(*, household_id: int) -> QuerySet[Member]:
    """The household's members, founders first; each one's `points_available` is their contribution."""
    return Member.objects.filter(household_id=household_id).select_related("tier").order_by("household_joined_at", "pk")


@dataclass(frozen=True)
class HouseholdView:
    household: Household
    members: list[Member]
    pool: int
    invitations: list[HouseholdInvitation]  # pending, sent by the household

    @property
    def is_full(self) -> bool:
        return len(self.members) >= self.household.program.household_max_members


def household_view(*, member: Member) -> HouseholdView | None:
    """What the member's Household page shows; None when they belong to none. Three queries."""
    if member.household_id is None:
        return None
    household = Household.objects.select_related("program").get(pk=member.household_id)
    members = list(household_members(household_id=household.pk))
    pool = sum(m.points_available for m in members if m.status == Member.Status.ACTIVE)
    invitations = list(
        HouseholdInvitation.objects.filter(household=household, status=HouseholdInvitation.Status.PENDING)
        .select_related("member")
        .order_by("created_at", "pk")
    )
    return HouseholdView(household, members, pool, invitations)


def household_invitations_received(*, member: Member) -> QuerySet[HouseholdInvitation]:
    """Invitations waiting for the member's answer, newest first, with who sent them."""
    return (
        HouseholdInvitation.objects.filter(member=member, status=HouseholdInvitation.Status.PENDING)
        .select_related("household", "invited_by")
        .order_by("-created_at", "-pk")
    )


def household_list(*, program_id: int | None = None) -> QuerySet[Household]:
    """Households with their member count (the admin's list)."""
    qs = Household.objects.select_related("program").annotate(member_count=Count("members"))
    return qs.filter(program_id=program_id) if program_id else qs


def household_mates(*, member_ids: list[int]) -> dict[int, int]:
    """member id -> household id, for the given members and every member of their households. One
    query; members without a household are left out."""
    in_households = Member.objects.filter(pk__in=member_ids, household__isnull=False).values("household_id")
    return dict(Member.objects.filter(Q(household_id__in=in_households)).order_by().values_list("pk", "household_id"))


def household_tier_metric_values(
    *, tier: Tier, member_ids: list[int], now: datetime, start: datetime | None = None
) -> dict[int, Decimal]:
    """The tier metric that qualifies each member in household mode (Program.household_tier_mode):
    for a member of a household, its current members' metrics over the tier's window added up; for
    a member without one, their own. The same figures as members.selectors.tier_metric_values, for
    the members and their household mates, in two to three queries whatever their number; a
    set-based review can read the same two sets (household_mates, then tier_metric_values)."""
    mates = household_mates(member_ids=member_ids)
    values = tier_metric_values(tier=tier, member_ids=sorted(set(member_ids) | set(mates)), now=now, start=start)
    combined: dict[int, Decimal] = {}
    for member_id, household_id in mates.items():
        combined[household_id] = combined.get(household_id, Decimal(0)) + values.get(member_id, Decimal(0))
    return {
        member_id: combined[mates[member_id]] if member_id in mates else values.get(member_id, Decimal(0))
        for member_id in member_ids
    }


def household_tier_qualified(member: Member, now: datetime, *, min_level: int = 0) -> Tier | None:
    """The best tier (of at least `min_level`, invitation-only tiers excluded) the member's household
    qualifies them for by its combined metric."""
    best, computed = None, {}
    for tier in program_rules(member.program).tiers:
        if tier.invitation_only or tier.level < min_level:
            continue
        key = (tier.metric, tier.window)
        if key not in computed:
            computed[key] = household_tier_metric_values(tier=tier, member_ids=[member.pk], now=now)[member.pk]
        if computed[key] >= tier.threshold:
            best = tier
    return best


def household_tier_mode(member: Member) -> bool:
    """Whether the member's tier is qualified by their household's combined metric."""
    return member.household_id is not None and member.program.household_tier_mode == Program.HouseholdTierMode.HOUSEHOLD


def tier_progress_for(*, member: Member, now: datetime | None = None) -> TierProgress:
    """selectors.tier_progress, measured by the household's combined metric in household tier mode
    (the member pages and the partner balance show what actually qualifies the member)."""
    progress = tier_progress(member=member, now=now)
    if progress.next is None or not household_tier_mode(member):
        return progress
    value = household_tier_metric_values(tier=progress.next, member_ids=[member.pk], now=now or timezone.now())[
        member.pk
    ]
    needed = max(Decimal(0), progress.next.threshold - value)
    percent = 100 if not progress.next.threshold else min(100, int(value * 100 / progress.next.threshold))
    return TierProgress(progress.current, progress.next, progress.metric, value, needed, percent)
