"""Partner webhooks: the event handler that turns domain events into signed deliveries.

Deliveries are rows first (so nothing is lost when the broker is down), then Celery tasks. With a
broker each one is sent right after the event's transaction commits; without one (the embedded
default, tasks eager) the request that caused the event must not wait on a partner's server, so
the periodic `webhooks_retry_due` job sends them within a minute.
"""

from celery import current_app

from core.enqueue import enqueue_on_commit
from members.models import Event
from members.outbox import handles_webhook_types
from members.partners import services, tasks


@handles_webhook_types
def webhooks_send(event: Event) -> None:
    deliveries = services.webhook_deliveries_create(event=event)
    if current_app.conf.task_always_eager:
        return
    for delivery in deliveries:
        # Broker down: the rows stay pending and webhooks_retry_due sends them within a minute.
        enqueue_on_commit(tasks.webhook_deliver, delivery.pk)
