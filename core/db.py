"""The read replica: a database router that sends a read to the `replica` alias only where a view or
task asked for it (`replica_reads()`), the replica is configured, and it is not lagging.

Everything else reads the primary: every write, every read inside a transaction (it may have to see
its own write), and every read that was not marked, so a member's balance right after an earn and
the member pages after a change are never stale. Marked: the dashboard, metric snapshots, CSV
exports, segment counts and reports, where a few seconds of lag are harmless.
"""

import contextvars
import functools
import logging
import time
from contextlib import contextmanager

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"
_wanted: contextvars.ContextVar[bool] = contextvars.ContextVar("replica_reads", default=False)
_lag_checked: dict[str, float | None] = {}  # {"at": monotonic time, "lag": seconds or None (unreachable)}
log = logging.getLogger(__name__)


@contextmanager
def replica_reads():
    """Reads in this block may come from the replica (when it is configured and fresh enough)."""
    token = _wanted.set(True)
    try:
        yield
    finally:
        _wanted.reset(token)


def reads_replica(func):
    """A view, selector or task whose reads may come from the replica."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with replica_reads():
            return func(*args, **kwargs)

    return wrapper


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def replica_lag(*, fresh: bool = False) -> float | None:
    """Seconds the replica is behind the primary (0 when it has replayed all it received), None when
    it cannot be reached or is not a standby. Asked at most every REPLICA_LAG_CHECK_SECONDS."""
    if not replica_configured():
        return None
    now = time.monotonic()
    if not fresh and _lag_checked and now - _lag_checked["at"] < settings.REPLICA_LAG_CHECK_SECONDS:
        return _lag_checked["lag"]
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(
                "SELECT pg_is_in_recovery(), CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
                " ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END"
            )
            in_recovery, lag = cursor.fetchone()
        lag = float(lag or 0) if in_recovery else None
    except Exception as exc:  # any failure means "do not use it"; the primary answers instead
        log.warning("read replica unavailable: %s", type(exc).__name__)
        connections[REPLICA].close()
        lag = None
    _lag_checked.update(at=now, lag=lag)
    return lag


def replica_usable() -> bool:
    lag = replica_lag()
    return lag is not None and lag <= settings.REPLICA_MAX_LAG_SECONDS


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if not _wanted.get() or not replica_configured():
            return None
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:  # a transaction may read its own writes
            return None
        return REPLICA if replica_usable() else None

    def db_for_write(self, model, **hints):
        return None

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, **hints):
        return db == DEFAULT_DB_ALIAS
