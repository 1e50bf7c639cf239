"""Thin Celery wrappers around members' services and the event dispatcher."""

from celery import shared_task

from core.db import reads_replica
from members import loyalty, metrics, outbox, reconciliation, retention, selectors, services
from members.api import imports


@shared_task(bind=True, max_retries=5, default_retry_delay=30)
def events_dispatch(self, event_id: int) -> None:
    # A failed handler is retried with a delay by a worker; in eager mode (no broker) a retry
    # would run again at once inside the caller, so the sweeper picks it up a minute later instead.
    if not outbox.event_dispatch(event_id) and not self.request.is_eager:
        raise self.retry()


@shared_task(bind=True, max_retries=5, default_retry_delay=30)
def events_dispatch_many(self, event_ids: list[int]) -> None:
    # Each (event, handler) runs once, so a retry of the batch only redoes what failed.
    complete = [outbox.event_dispatch(event_id) for event_id in event_ids]
    if not all(complete) and not self.request.is_eager:
        raise self.retry()


@shared_task
def events_sweep() -> int:
    return outbox.events_sweep()


@shared_task
def points_release_pending() -> int:
    return services.points_release_pending()


@shared_task
def points_expire_due() -> int:
    return services.points_expire_due()


@shared_task
def household_tiers_evaluate(household_id: int) -> int:
    return services.household_tiers_evaluate(household_id=household_id)


@shared_task
def tiers_review() -> dict:
    return services.tiers_review()


@shared_task
def rule_revisions_publish_due() -> int:
    return services.rule_revisions_publish_due()


@shared_task
def subscriptions_expire() -> dict:
    return services.subscriptions_expire()


@shared_task
def ledger_check() -> int:
    return len(selectors.ledger_mismatches())


@shared_task
def points_expiry_notify() -> int:
    return services.points_expiry_notify()


@shared_task
def birthdays_award() -> int:
    return services.birthdays_award()


@shared_task
def loyalty_types_recompute() -> dict:
    return loyalty.loyalty_types_recompute()


@shared_task
@reads_replica
def metric_snapshots_refresh() -> int:
    return metrics.metric_snapshots_refresh()


@shared_task
def reconciliation_run() -> bool:
    return reconciliation.reconciliation_run().ok


@shared_task
def partitions_maintain() -> list[str]:
    return retention.partitions_maintain()


@shared_task
def retention_apply() -> int:
    return len(retention.retention_apply())


@shared_task(bind=True, max_retries=5, default_retry_delay=30)
def import_job_run(self, job_id: int) -> None:
    # Each line is idempotent by its id, so a retried chunk records nothing twice. The line readers
    # are the partner API's (members/api/imports.py): a line is refused as in a batch.
    imports.import_job_run(job_id=job_id)
