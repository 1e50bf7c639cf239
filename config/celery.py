import logging
import os
from functools import partial

from celery import Celery
from celery.contrib.django.task import DjangoTask
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

logger = logging.getLogger(__name__)


class FidelisTask(DjangoTask):
    """`delay_on_commit` that cannot turn a committed write into an error.

    The callback runs after COMMIT: if the broker is down, the data is already saved and raising
    would only give the user a 500 for something that worked. Every such task has a periodic
    sweeper (events_sweep, webhooks_retry_due, deliveries_send_due, ticket_emails_retry, ...) that
    finds the rows left behind, so a lost enqueue is a delay, not a loss.
    """

    def delay_on_commit(self, *args, **kwargs) -> None:
        from django.db import transaction

        transaction.on_commit(partial(enqueue, self, *args, **kwargs))

    def apply_async_on_commit(self, *args, **kwargs) -> None:
        from django.db import transaction

        transaction.on_commit(partial(_apply_async_quietly, self, *args, **kwargs))


def enqueue(task, *args, **kwargs) -> bool:
    """`task.delay(...)` that logs instead of raising when the broker is unreachable."""
    return _apply_async_quietly(task, args, kwargs)


def _apply_async_quietly(task, args=None, kwargs=None, **options) -> bool:
    try:
        task.apply_async(args, kwargs, **options)
    except (KombuOperationalError, RedisError):
        # Only broker errors: in eager mode (no broker) a failing task still raises as before.
        logger.warning("task %s not enqueued (broker unreachable?); its sweeper will retry", task.name, exc_info=True)
        return False
    return True


app = Celery("fidelis", task_cls=FidelisTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
