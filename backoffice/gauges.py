"""Prometheus gauges read from the database when /metrics is scraped: the backlogs operators alert on
(undispatched events, pending webhook and campaign deliveries), the replica's lag and the last
reconciliation. Each count uses the partial index its sweeper uses, so a scrape stays cheap."""

from prometheus_client.core import GaugeMetricFamily

from campaigns.models import Delivery
from core.db import replica_configured, replica_lag
from members.models import Event, ReconciliationRun, WebhookDelivery

NAMES = (
    "fidelis_events_undispatched",
    "fidelis_webhook_deliveries_pending",
    "fidelis_campaign_deliveries_queued",
    "fidelis_replica_lag_seconds",
    "fidelis_reconciliation_ok",
    "fidelis_reconciliation_finished_timestamp_seconds",
)


class BacklogCollector:
    def describe(self):
        """The names, without asking the database (the registry calls this at start-up)."""
        return [GaugeMetricFamily(name, "") for name in NAMES]

    def collect(self):
        yield GaugeMetricFamily(
            "fidelis_events_undispatched",
            "Outbox events not yet handed to their handlers.",
            value=Event.objects.filter(dispatched_at__isnull=True).count(),
        )
        yield GaugeMetricFamily(
            "fidelis_webhook_deliveries_pending",
            "Webhook deliveries waiting for a (first or next) attempt.",
            value=WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).count(),
        )
        yield GaugeMetricFamily(
            "fidelis_campaign_deliveries_queued",
            "Campaign messages queued and not yet sent.",
            value=Delivery.objects.filter(status=Delivery.Status.QUEUED).count(),
        )
        if replica_configured():
            lag = replica_lag()
            yield GaugeMetricFamily(
                "fidelis_replica_lag_seconds",
                "Seconds the read replica is behind the primary (-1: unreachable, reads go to the primary).",
                value=-1 if lag is None else lag,
            )
        last = ReconciliationRun.objects.filter(finished_at__isnull=False).first()
        if last is not None:
            yield GaugeMetricFamily(
                "fidelis_reconciliation_ok", "1 when the last nightly reconciliation found nothing.", value=int(last.ok)
            )
            yield GaugeMetricFamily(
                "fidelis_reconciliation_finished_timestamp_seconds",
                "When the last nightly reconciliation finished (Unix time).",
                value=last.finished_at.timestamp(),
            )
