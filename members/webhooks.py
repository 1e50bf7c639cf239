"""Partner webhooks: the event handler that turns domain events into signed deliveries.

Deliveries are rows first (so nothing is lost when the broker is down), then Celery tasks. With a
broker each one is sent right after the event's transaction commits; without one (the embedded
default, tasks eager) the request that caused the event must not wait on a partner's server, so
the periodic `webhooks_retry_due` job sends them within a minute.
"""

from functools import partial

from django.db import transaction

from config.celery import app as celery_app
from config.celery import enqueue
from members.api import services, tasks
from members.events import handles
from members.models import Event, WebhookEndpoint


@handles(*WebhookEndpoint.EventType.values)
def webhooks_send(event: Event) -> None:
    deliveries = services.webhook_deliveries_create(event=event)
    if celery_app.conf.task_always_eager:
        return
    for delivery in deliveries:
        # Broker down: the rows stay pending and webhooks_retry_due sends them within a minute.
        transaction.on_commit(partial(enqueue, tasks.webhook_deliver, delivery.pk), robust=True)
