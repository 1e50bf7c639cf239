"""Starting background work: the one way a service, view or admin action enqueues a Celery task.

`enqueue_on_commit("app.tasks.name", *args)` sends the task once the current transaction commits
(at once outside a transaction). Tasks are named by their dotted path, so a service never imports
its app's `tasks` module (tasks import services, never the reverse). The task is looked up in the
Celery app's registry through its module, not with `app.send_task`, which ignores
`task_always_eager` (the Redis-less default runs tasks in-process).

The broker being down never turns a committed write into an error: the publish is logged and
skipped, and every such task has a periodic sweeper (events_sweep, webhooks_retry_due,
deliveries_send_due, ticket_emails_retry, ...) that finds the rows left behind, so a lost enqueue
is a delay, not a loss.
"""

import logging
import time

from celery import Task
from django.db import transaction
from django.utils.module_loading import import_string
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# After a failed publish, this process does not try the broker again for a few seconds: one request
# pays the ~1 s of connect retries, the next ones are not slowed down at all.
BROKER_RETRY_AFTER_SECONDS = 5.0
_broker_down_until = 0.0


def enqueue_on_commit(task: str | Task, *args, **kwargs) -> None:
    """Send `task` (a dotted name, or a task object inside `tasks.py`) after the current commit."""

    # robust: the write is committed; a task that fails to start (or, run eagerly, fails) must not
    # turn that success into an error. Its sweeper finds what was left.
    # (A named function, not a partial: Django logs a robust callback's failure by its __qualname__.)
    def enqueue_after_commit() -> None:
        enqueue(task, *args, **kwargs)

    transaction.on_commit(enqueue_after_commit, robust=True)


def enqueue(task: str | Task, *args, **kwargs) -> bool:
    """Send `task` now; False (logged, not raised) when the broker is unreachable."""
    if isinstance(task, str):
        task = import_string(task)
    global _broker_down_until
    if time.monotonic() < _broker_down_until and not task.app.conf.task_always_eager:
        logger.warning("task %s not enqueued (broker down); its sweeper will retry", task.name)
        return False
    try:
        task.apply_async(args, kwargs)
    except (KombuOperationalError, RedisError):
        # Only broker errors: in eager mode (no broker) a failing task still raises as before.
        _broker_down_until = time.monotonic() + BROKER_RETRY_AFTER_SECONDS
        logger.warning("task %s not enqueued (broker unreachable); its sweeper will retry", task.name, exc_info=True)
        return False
    return True
