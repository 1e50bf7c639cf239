"""Launching and scheduling: a campaign starts (journeys become active, broadcasts get their first run),
pauses, and its runs start when due; a run whose fan-out task was lost is started again."""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.services.offers import offer_errors
from core.enqueue import enqueue, enqueue_on_commit
from core.errors import DomainError
from members import services as member_services
from members.selectors import add_months


def _validate(campaign: Campaign) -> None:
    errors: dict[str, list[str]] = {}
    if not campaign.variants.exists():
        errors["variants"] = ["Add at least one message variant."]
    if not (campaign.channel_email or campaign.channel_sms):
        errors["channel_email"] = ["Choose at least one channel."]
    if campaign.offer_id and (problems := offer_errors(campaign.offer, program_id=campaign.program_id)):
        errors["offer"] = problems
    if campaign.segment_id and campaign.segment.program_id not in (None, campaign.program_id):
        errors["segment"] = ["The segment belongs to another program."]
    if errors:
        raise DomainError("invalid_campaign", "The campaign cannot start yet.", fields=errors)


def _next_run(campaign: Campaign, after: datetime) -> datetime | None:
    step = {
        Campaign.Recurrence.DAILY: lambda t: t + timedelta(days=1),
        Campaign.Recurrence.WEEKLY: lambda t: t + timedelta(weeks=1),
        Campaign.Recurrence.MONTHLY: lambda t: add_months(t, 1),
    }.get(campaign.recurrence)
    return step(after) if step else None


@transaction.atomic
def campaign_launch(*, campaign: Campaign, by=None) -> Campaign:
    """Start a campaign: journeys become active; broadcasts go now or wait for their time."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    before = campaign.status
    if campaign.status not in (Campaign.Status.DRAFT, Campaign.Status.PAUSED):
        raise DomainError("already_launched", "The campaign is already running.", status=409)
    _validate(campaign)
    now = timezone.now()
    campaign.launched_at = campaign.launched_at or now
    if campaign.trigger:
        campaign.status = Campaign.Status.ACTIVE
    else:
        campaign.status = Campaign.Status.SCHEDULED
        campaign.next_run_at = max(campaign.send_at or now, now)
    campaign.save(update_fields=["status", "launched_at", "next_run_at"])
    if campaign.next_run_at and campaign.next_run_at <= now:
        _start_run(campaign, now)
    if by is not None:
        member_services.audit_record(
            actor=by, action="campaign.launch", target=campaign, changes={"status": [before, campaign.status]}
        )
    return campaign


@transaction.atomic
def campaign_pause(*, campaign: Campaign, by=None) -> Campaign:
    """Stop further runs and unsent messages; deliveries already sent stay."""
    updated = Campaign.objects.filter(
        pk=campaign.pk, status__in=[Campaign.Status.SCHEDULED, Campaign.Status.SENDING, Campaign.Status.ACTIVE]
    ).update(status=Campaign.Status.PAUSED)
    if not updated:
        raise DomainError("not_running", "The campaign is not running.", status=409)
    before = campaign.status
    campaign.refresh_from_db()
    if by is not None:
        member_services.audit_record(
            actor=by, action="campaign.pause", target=campaign, changes={"status": [before, campaign.status]}
        )
    return campaign


def _start_run(campaign: Campaign, now: datetime) -> None:
    """Advance the schedule and hand the run to the fan-out task once this transaction commits."""

    occurrence = "" if campaign.recurrence == Campaign.Recurrence.ONCE else f"run:{campaign.next_run_at:%Y-%m-%d}"
    campaign.next_run_at = _next_run(campaign, campaign.next_run_at)
    campaign.status = Campaign.Status.SENDING if campaign.next_run_at is None else Campaign.Status.SCHEDULED
    campaign.save(update_fields=["next_run_at", "status"])
    enqueue_on_commit("campaigns.tasks.campaign_fan_out", campaign.pk, occurrence)


def campaigns_run_due(*, now: datetime | None = None) -> int:
    """Beat: start every scheduled run whose time has come."""
    now = now or timezone.now()
    started = 0
    for campaign_id in Campaign.objects.filter(status=Campaign.Status.SCHEDULED, next_run_at__lte=now).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
            if campaign.status == Campaign.Status.SCHEDULED and campaign.next_run_at <= now:
                _start_run(campaign, now)
                started += 1
    return started


def campaigns_resume_stalled(*, now: datetime | None = None, after: timedelta = timedelta(minutes=10)) -> int:
    """Beat: a broadcast still "sending" long after its run began lost its fan-out task (broker down at
    launch, worker lost before it ran). Fan out again: delivery rows are unique and sends are claimed,
    so a second fan-out only fills the gaps."""

    now = now or timezone.now()
    stalled = Campaign.objects.filter(status=Campaign.Status.SENDING, launched_at__lt=now - after).filter(
        Q(send_at__isnull=True) | Q(send_at__lt=now - after)
    )
    ids = list(stalled.values_list("pk", flat=True))
    for campaign_id in ids:
        enqueue("campaigns.tasks.campaign_fan_out", campaign_id, "")
    return len(ids)
