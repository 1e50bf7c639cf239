"""Journeys triggered by events: the member enters every active journey with that trigger, once per
occurrence; and the abandoned-redemption journey, which waits for the member to afford the reward."""

from datetime import datetime, timedelta

from django.utils import timezone

from campaigns.models import Campaign, Delivery, RewardInterest
from campaigns.selectors import campaign_audience
from campaigns.services.fanout import MEMBER_FIELDS, deliveries_queue
from core.enqueue import enqueue_on_commit
from members.models import Member


def journey_trigger(*, trigger: str, member: Member, occurrence: str, delay_from: datetime | None = None) -> list[int]:
    """Queue the member in every active journey with this trigger, once per occurrence. With delay_from,
    a journey's message waits trigger_days after it (post-purchase). Sends run after the caller commits.
    Returns the new delivery ids."""

    now = timezone.now()
    row = Member.objects.filter(pk=member.pk, status=Member.Status.ACTIVE).values(*MEMBER_FIELDS).first()
    if row is None:
        return []
    journeys = Campaign.objects.filter(program_id=member.program_id, trigger=trigger, status=Campaign.Status.ACTIVE)
    created, send_now = [], []
    for journey in journeys.select_related("segment"):
        if journey.segment_id and not campaign_audience(campaign=journey, now=now).filter(pk=member.pk).exists():
            continue
        send_after = delay_from + timedelta(days=journey.trigger_days) if delay_from and journey.trigger_days else None
        existing = Delivery.objects.filter(campaign=journey, member=member, occurrence=occurrence)
        if existing.exists():
            continue
        deliveries_queue(campaign=journey, rows=[(row, occurrence)], now=now, send_after=send_after)
        ids = list(existing.values_list("pk", flat=True))
        created += ids
        if send_after is None:
            send_now += ids
    if send_now:
        enqueue_on_commit("campaigns.tasks.deliveries_send", send_now)
    return created


def reward_interest_record(*, member: Member, reward_id: int, points_needed: int) -> None:
    """A member looked at a reward they cannot afford yet; kept once per (member, reward) while open."""
    if points_needed <= member.points_available:
        return
    RewardInterest.objects.bulk_create(
        [RewardInterest(member=member, reward_id=reward_id, points_needed=points_needed)], ignore_conflicts=True
    )


def reward_interest_check(*, member: Member) -> list[int]:
    """The member earned points: every reward they wanted and can now afford fires the journey once."""
    member.refresh_from_db(fields=["points_available"])
    now = timezone.now()
    created = []
    for interest in RewardInterest.objects.filter(
        member=member, fulfilled_at__isnull=True, points_needed__lte=member.points_available
    ):
        RewardInterest.objects.filter(pk=interest.pk).update(fulfilled_at=now)
        created += journey_trigger(
            trigger=Campaign.Trigger.ABANDONED_REDEMPTION, member=member, occurrence=f"reward_interest:{interest.pk}"
        )
    return created
