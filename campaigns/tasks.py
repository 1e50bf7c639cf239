"""Thin Celery wrappers around campaigns.services; they take ids and re-read the rows."""

from celery import shared_task

from campaigns import services
from campaigns.models import Campaign, Delivery
from core.db import reads_replica


@shared_task
def campaign_fan_out(campaign_id: int, occurrence: str) -> int:
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        return 0
    return len(services.campaign_fan_out(campaign=campaign, occurrence=occurrence))


@shared_task
def campaign_chunk(campaign_id: int, occurrence: str, low: int, high: int) -> int:
    """Safe to run again (late acks redeliver it after a worker crash): rows are unique, sends are claimed."""
    campaign = Campaign.objects.select_related("segment", "offer").filter(pk=campaign_id).first()
    if campaign is None:
        return 0
    return services.campaign_chunk(campaign=campaign, occurrence=occurrence, low=low, high=high)


@shared_task
def deliveries_send(delivery_ids: list[int]) -> int:
    return services.deliveries_send_batch(deliveries=Delivery.objects.filter(pk__in=delivery_ids))


@shared_task
def deliveries_send_due() -> int:
    return services.deliveries_send_due()


@shared_task
def campaigns_run_due() -> int:
    services.campaigns_resume_stalled()
    return services.campaigns_run_due()


@shared_task
def journeys_daily() -> int:
    """Birthday and win-back journeys: one fan-out each; deliveries are unique per occurrence."""
    return services.journeys_periodic_start()


@shared_task
@reads_replica
def campaign_results_refresh() -> int:
    return services.campaign_results_refresh()
