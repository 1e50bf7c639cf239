"""Fan-out: a run's audience split into member-id ranges, one task each; each range becomes delivery
rows (one per campaign, member and occurrence), then its due messages are sent. Birthday and win-back
journeys are fanned out daily the same way, with their own audience and occurrence."""

from datetime import datetime, timedelta

from django.db.models import Max, Min, Q
from django.utils import timezone

from campaigns.models import Campaign, Delivery
from campaigns.selectors import assignment, campaign_audience, capped_members, members_birthday_q
from campaigns.services.sending import deliveries_send_batch
from core.enqueue import enqueue

CHUNK = 1000
MEMBER_FIELDS = ("pk", "consent_email", "consent_sms", "phone", "birth_date", "last_purchase_at", "enrolled_at")


def campaign_fan_out(*, campaign: Campaign, occurrence: str) -> list[tuple[int, int]]:
    """Split the audience into member-id ranges of CHUNK ids; each range becomes one task."""

    bounds = _rows_query(campaign, timezone.now()).aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        ranges = []
    else:
        ranges = [(lo, lo + CHUNK) for lo in range(bounds["low"], bounds["high"] + 1, CHUNK)]
    for lo, hi in ranges:
        enqueue("campaigns.tasks.campaign_chunk", campaign.pk, occurrence, lo, hi)
    if campaign.status == Campaign.Status.SENDING:
        Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.SENDING).update(status=Campaign.Status.SENT)
    return ranges


def journeys_periodic_start() -> int:
    """Beat (daily): fan out every active birthday and win-back journey. Their occurrences (birthday year,
    date of the last purchase) make a second run on the same day, or the next day, send nothing new."""

    journeys = Campaign.objects.filter(
        status=Campaign.Status.ACTIVE, trigger__in=[Campaign.Trigger.BIRTHDAY, Campaign.Trigger.WIN_BACK]
    )
    ids = list(journeys.values_list("pk", flat=True))
    for campaign_id in ids:
        enqueue("campaigns.tasks.campaign_fan_out", campaign_id, "")
    return len(ids)


def _rows_query(campaign: Campaign, now: datetime):
    """The audience of one run; periodic journeys add their trigger condition."""
    audience = campaign_audience(campaign=campaign, now=now)
    if campaign.trigger == Campaign.Trigger.BIRTHDAY:
        return audience.filter(members_birthday_q(campaign.trigger_days, now))
    if campaign.trigger == Campaign.Trigger.WIN_BACK:
        cutoff = now - timedelta(days=campaign.trigger_days)
        return audience.filter(
            Q(last_purchase_at__lt=cutoff) | Q(last_purchase_at__isnull=True, enrolled_at__lt=cutoff)
        )
    return audience


def _occurrence(campaign: Campaign, row: dict, occurrence: str, today) -> str:
    """Periodic journeys fire once per birthday year or per lapse; broadcasts once per run."""
    if campaign.trigger == Campaign.Trigger.BIRTHDAY:
        birthday = row["birth_date"]
        year = today.year if (birthday.month, birthday.day) >= (today.month, today.day) else today.year + 1
        return f"birthday:{year}"
    if campaign.trigger == Campaign.Trigger.WIN_BACK:
        last = row["last_purchase_at"]
        return f"win_back:{last:%Y-%m-%d}" if last else "win_back:never"
    return occurrence


def campaign_chunk(*, campaign: Campaign, occurrence: str, low: int, high: int) -> int:
    """Create the deliveries of members low <= id < high (set-based), then send the ones due. Returns sent."""
    if campaign.status == Campaign.Status.PAUSED:
        return 0
    now = timezone.now()
    today = timezone.localdate(now)
    rows = list(_rows_query(campaign, now).filter(pk__gte=low, pk__lt=high).values(*MEMBER_FIELDS))
    deliveries_queue(
        campaign=campaign, rows=[(row, _occurrence(campaign, row, occurrence, today)) for row in rows], now=now
    )
    return deliveries_send_batch(
        deliveries=Delivery.objects.filter(campaign=campaign, member_id__gte=low, member_id__lt=high), now=now
    )


def deliveries_queue(
    *, campaign: Campaign, rows: list[tuple[dict, str]], now: datetime, send_after: datetime | None = None
) -> None:
    """One delivery row per (campaign, member, occurrence): assignment, consent and cap decided together.
    Rows that already exist are left as they are (ignore_conflicts), which makes every re-run harmless."""
    variants = list(campaign.variants.order_by("name"))
    capped = capped_members(member_ids=[row["pk"] for row, _ in rows], campaign=campaign, now=now)
    objs = []
    for row, occurrence in rows:
        variant = assignment(campaign=campaign, member_id=row["pk"], variants=variants)
        delivery = Delivery(
            campaign=campaign,
            member_id=row["pk"],
            occurrence=occurrence,
            variant=variant,
            holdout=variant is None,
            send_after=send_after,
        )
        if campaign.channel_email and row["consent_email"]:
            delivery.channel = Delivery.Channel.EMAIL
        elif campaign.channel_sms and row["consent_sms"] and row["phone"]:
            delivery.channel = Delivery.Channel.SMS
        if delivery.holdout:
            delivery.status, delivery.reason = Delivery.Status.SKIPPED, Delivery.Reason.HOLDOUT
        elif not delivery.channel:
            delivery.status, delivery.reason = Delivery.Status.SKIPPED, Delivery.Reason.NO_CONSENT
        elif row["pk"] in capped:
            delivery.status, delivery.reason = Delivery.Status.SKIPPED, Delivery.Reason.CAPPED
        objs.append(delivery)
    Delivery.objects.bulk_create(objs, ignore_conflicts=True, batch_size=CHUNK)
