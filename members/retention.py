"""Monthly partitions ahead and data retention for Fidelis' append-only tables (core.partitions).

Beat runs both daily (members.tasks.partitions_maintain, members.tasks.retention_apply) and
`manage.py partitions` runs them by hand. The policy lives in settings: DATA_RETENTION_MONTHS names
the tables that may lose old months and how many whole months (before the current one) they keep;
the ledger and the audit trail are never dropped. On PostgreSQL a month goes by detaching and
dropping its partition, after a CSV copy under RETENTION_ARCHIVE_DIR when that is set; on SQLite
the same months go by a chunked DELETE. Every month dropped is logged and audited.
"""

import logging
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from core.partitions import (
    Dropped,
    KeepWhile,
    is_partitioned,
    month_add,
    month_start,
    months_drop_before,
    partitions_ensure,
)
from members.services.audit import audit_record

log = logging.getLogger(__name__)

# A month of events is kept while one of its events is not dispatched (a handler has not run):
# the sweeper must still find it. Handlings live in their event's month and follow it.
EVENTS_PENDING = KeepWhile("members_event", "occurred_at", "dispatched_at IS NULL")
# Every partitioned table: its time column (the partition key) and what keeps an old month.
TABLES: dict[str, tuple[str, KeepWhile | None]] = {
    "members_ledgerentry": ("created_at", None),
    "members_auditentry": ("at", None),
    "members_event": ("occurred_at", EVENTS_PENDING),
    "members_eventhandling": ("event_occurred_at", EVENTS_PENDING),
    "members_webhookdelivery": ("created_at", None),
    "members_idempotencykey": ("created_at", None),
    # A message still waiting to go out (a delayed journey step) keeps its month.
    "campaigns_delivery": (
        "created_at",
        KeepWhile("campaigns_delivery", "created_at", "status IN ('queued', 'sending')"),
    ),
}
NEVER_DROPPED = ("members_ledgerentry", "members_auditentry")


def retention_policy() -> dict[str, int]:
    """DATA_RETENTION_MONTHS, checked: known tables, never the ledger or the audit trail, at least
    one whole month kept (an idempotency key of the last day of a month lives into the next)."""
    policy = dict(settings.DATA_RETENTION_MONTHS)
    for table, months in policy.items():
        if table not in TABLES or table in NEVER_DROPPED:
            raise ImproperlyConfigured(f"DATA_RETENTION_MONTHS: {table} cannot be dropped.")
        if not isinstance(months, int) or months < 1:
            raise ImproperlyConfigured(f"DATA_RETENTION_MONTHS[{table!r}] must be a whole number of months, 1 or more.")
    return policy


def partitions_maintain(*, now: datetime | None = None) -> list[str]:
    """This month's partition and PARTITION_MONTHS_AHEAD more, for every partitioned table (none
    on SQLite). The DEFAULT partition catches a row that would find none."""
    now = now or timezone.now()
    created = []
    for table in TABLES:
        if is_partitioned(table):
            created += partitions_ensure(table, now=now, ahead=settings.PARTITION_MONTHS_AHEAD)
    for name in created:
        log.info("partitions: created %s", name)
    return created


def retention_apply(*, now: datetime | None = None) -> list[Dropped]:
    """Drop the months each table no longer keeps (retention_policy), oldest first."""
    now = now or timezone.now()
    dropped = []
    for table, months in retention_policy().items():
        column, keep_while = TABLES[table]
        cutoff = month_add(month_start(now), -months)
        for done in months_drop_before(
            table,
            column=column,
            cutoff=cutoff,
            keep_while=keep_while,
            archive_dir=settings.RETENTION_ARCHIVE_DIR,
        ):
            log.info(
                "retention: dropped %s %s (%d rows%s)",
                table,
                f"{done.month:%Y-%m}",
                done.rows,
                f", archived to {done.archive}" if done.archive else "",
            )
            audit_record(
                actor=None,
                action="retention.drop",
                changes={
                    "table": table,
                    "month": f"{done.month:%Y-%m}",
                    "rows": done.rows,
                    "partition": done.partition,
                    "archive": done.archive,
                },
                reason=f"Older than {months} month(s) (DATA_RETENTION_MONTHS).",
            )
            dropped.append(done)
    return dropped
