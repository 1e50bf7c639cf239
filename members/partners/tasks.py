"""Thin Celery wrappers for the partner API: webhook attempts and the periodic clean-ups."""

from celery import shared_task
from django.utils import timezone

from core.enqueue import enqueue
from members.partners import selectors, services


@shared_task
def webhook_deliver(delivery_id: int) -> str | None:
    delivery = services.webhook_deliver(delivery_id=delivery_id)
    return delivery.status if delivery else None


@shared_task
def webhooks_retry_due() -> int:
    """Every minute: attempt deliveries whose backoff has elapsed (and any whose task was lost)."""
    due = selectors.deliveries_due(now=timezone.now())
    for delivery_id in due:
        enqueue(webhook_deliver, delivery_id)
    return len(due)


@shared_task
def idempotency_purge() -> int:
    return services.idempotency_purge()
