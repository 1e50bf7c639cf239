"""Tiers: upgrades as members qualify, staff assignments (with a floor), the daily review that warns
and downgrades. Every change writes a TierChange row and a `tier.changed` event."""

from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from core.enqueue import enqueue_on_commit
from core.errors import DomainError
from members.events import TierChanged, TierExpiring
from members.households import household_tier_mode, household_tier_qualified
from members.locks import CHUNK, lock_member, lock_members
from members.models import Member, Tier, TierChange
from members.outbox import event_build, events_record_bulk
from members.selectors import program_rules, tier_qualified, tiers_qualified
from members.services.audit import audit_record


def _tier_change(member: Member, tier: Tier | None, reason: str, note: str = "", created_by=None):
    """Move a locked member to `tier` in memory; returns the history row and event to write."""
    previous = member.tier
    member.tier = tier
    member.tier_downgrade_warned_at = None
    change = TierChange(
        member=member, from_tier=previous, to_tier=tier, reason=reason, note=note, created_by=created_by
    )
    event = event_build(
        TierChanged(
            member=member.number,
            from_=previous.name if previous else None,
            to=tier.name if tier else None,
            reason=reason,
        ),
        program_id=member.program_id,
        member=member,
    )
    return change, event


def _tier_set(member: Member, tier: Tier | None, reason: str, note: str = "", created_by=None) -> None:
    change, event = _tier_change(member, tier, reason, note, created_by)
    member.save(update_fields=["tier", "tier_downgrade_warned_at"])
    change.save()
    events_record_bulk([event])


def _qualified(member: Member, now: datetime, min_level: int) -> Tier | None:
    """The member's own metric qualifies them; in household mode, their household's combined one."""
    if household_tier_mode(member):
        return household_tier_qualified(member, now, min_level=min_level)
    return tier_qualified(member, now, min_level=min_level)


def _household_share_upgrade(member: Member) -> None:
    """In household mode what qualified this member qualifies the others too: they are evaluated
    after commit, each under their own lock (members.services.households.household_tiers_evaluate)."""
    if household_tier_mode(member):
        enqueue_on_commit("members.tasks.household_tiers_evaluate", member.household_id)


def tier_evaluate(*, member: Member, now: datetime | None = None) -> Tier | None:
    """Upgrade at once when the (locked) member qualifies for a higher tier; called on every
    qualifying event (purchase, points earned, referral)."""
    now = now or timezone.now()
    current_level = member.tier.level if member.tier else -1
    # Only tiers above the current one matter here (the hot path of every purchase), and the
    # current one when a downgrade warning may be lifted. At the top tier nothing is computed.
    min_level = max(current_level if member.tier_downgrade_warned_at else current_level + 1, 0)
    if not any(t.level >= min_level and not t.invitation_only for t in program_rules(member.program).tiers):
        return member.tier
    qualified = _qualified(member, now, min_level)
    if qualified is not None and qualified.level > current_level:
        _tier_set(member, qualified, TierChange.Reason.UPGRADE)
        _household_share_upgrade(member)
    elif member.tier_downgrade_warned_at and qualified and qualified.level >= current_level:
        member.tier_downgrade_warned_at = None
        member.save(update_fields=["tier_downgrade_warned_at"])
    return member.tier


@transaction.atomic
def tier_assign(*, member: Member, tier: Tier, until: date | None, created_by, note: str = "") -> Member:
    """Staff set a tier; with `until` it is also a floor: reviews never take the member below it
    before that date. Without `until` the tier is reviewed like any other."""
    if tier.program_id != member.program_id:
        raise DomainError("invalid_tier", "The tier belongs to another program.", fields={"tier": ["Wrong program."]})
    if until is not None and until < timezone.localdate():
        raise DomainError(
            "invalid_date", "The floor date is in the past.", fields={"until": ["Must be in the future."]}
        )
    member = lock_member(member)
    before = {"tier": member.tier_id, "tier_floor": member.tier_floor_id, "tier_floor_until": member.tier_floor_until}
    member.tier_floor = tier if until else None
    member.tier_floor_until = until
    member.save(update_fields=["tier_floor", "tier_floor_until"])
    if member.tier_id != tier.pk:
        _tier_set(member, tier, TierChange.Reason.MANUAL, note=note, created_by=created_by)
    after = {"tier": member.tier_id, "tier_floor": member.tier_floor_id, "tier_floor_until": member.tier_floor_until}
    audit_record(
        actor=created_by,
        action="tier.assign",
        target=member,
        changes={name: [before[name], after[name]] for name in before},
        reason=note,
    )
    return member


def tiers_review(*, now: datetime | None = None) -> dict[str, int]:
    """Daily, by chunks of members above the entry tier: upgrade who qualifies for more; warn who no
    longer qualifies (`tier.expiring`); once the program's notice period has passed since the warning,
    downgrade by one level. Never below a floor still in force; a member who qualifies again before
    the downgrade keeps the tier. A constant number of queries per chunk."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    counts = {"warned": 0, "downgraded": 0, "upgraded": 0}
    candidates = Member.objects.filter(tier__level__gt=0, status=Member.Status.ACTIVE).exclude(
        tier__window=Tier.Window.LIFETIME
    )
    tiers_by_program: dict[int, list[Tier]] = {}
    for tier in Tier.objects.order_by("level"):
        tiers_by_program.setdefault(tier.program_id, []).append(tier)
    last = 0
    while True:
        ids = list(candidates.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:CHUNK])
        if not ids:
            return counts
        last = ids[-1]
        with transaction.atomic():
            members = list(lock_members(*ids).values())
            qualified = tiers_qualified(members=members, now=now, previous_year=True)
            changes, events, touched = [], [], []
            for member in members:
                action = _tier_review_action(member, qualified[member.pk], now, today)
                if action is None:
                    continue
                touched.append(member)
                if action == "upgraded":
                    pair = _tier_change(member, qualified[member.pk], TierChange.Reason.UPGRADE)
                elif action == "downgraded":
                    lower = [t for t in tiers_by_program[member.program_id] if t.level < member.tier.level]
                    pair = _tier_change(member, lower[-1] if lower else None, TierChange.Reason.DOWNGRADE)
                elif action == "warned":
                    member.tier_downgrade_warned_at = now
                    pair = (
                        None,
                        event_build(
                            TierExpiring(
                                member=member.number,
                                tier=member.tier.name,
                                downgrade_after=str(today + timedelta(days=member.program.tier_notice_days)),
                            ),
                            program_id=member.program_id,
                            member=member,
                        ),
                    )
                else:  # "cleared": qualifies again or is held by a floor
                    member.tier_downgrade_warned_at = None
                    pair = (None, None)
                if action in counts:
                    counts[action] += 1
                changes += [pair[0]] if pair[0] else []
                events += [pair[1]] if pair[1] else []
            Member.objects.bulk_update(touched, ["tier", "tier_downgrade_warned_at"])
            TierChange.objects.bulk_create(changes)
            events_record_bulk(events)


def _tier_review_action(member: Member, qualified: Tier | None, now: datetime, today: date) -> str | None:
    qualified_level = qualified.level if qualified else -1
    floor_in_force = member.tier_floor_id and member.tier_floor_until and member.tier_floor_until >= today
    floor_level = member.tier_floor.level if floor_in_force else -1
    if qualified_level > member.tier.level:
        return "upgraded"
    if qualified_level >= member.tier.level or floor_level >= member.tier.level:
        return "cleared" if member.tier_downgrade_warned_at else None
    if member.tier_downgrade_warned_at is None:
        return "warned"
    if member.tier_downgrade_warned_at + timedelta(days=member.program.tier_notice_days) <= now:
        return "downgraded"
    return None
