import logging
import os
import time
from functools import partial

from celery import Celery
from celery.contrib.django.task import DjangoTask
from celery.signals import after_setup_logger, after_setup_task_logger
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


# After a failed publish, this process does not try the broker again for a few seconds: one request
# pays the ~1 s of connect retries, the next ones are not slowed down at all.
BROKER_RETRY_AFTER_SECONDS = 5.0
_broker_down_until = 0.0


def _apply_async_quietly(task, args=None, kwargs=None, **options) -> bool:
    global _broker_down_until
    if time.monotonic() < _broker_down_until and not task.app.conf.task_always_eager:
        logger.warning("task %s not enqueued (broker down); its sweeper will retry", task.name)
        return False
    try:
        task.apply_async(args, kwargs, **options)
    except (KombuOperationalError, RedisError):
        # Only broker errors: in eager mode (no broker) a failing task still raises as before.
        _broker_down_until = time.monotonic() + BROKER_RETRY_AFTER_SECONDS
        logger.warning("task %s not enqueued (broker unreachable); its sweeper will retry", task.name, exc_info=True)
        return False
    return True


app = Celery("fidelis", task_cls=FidelisTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@after_setup_logger.connect
@after_setup_task_logger.connect
def _redact_worker_logs(logger, **kwargs) -> None:
    """A worker replaces the handlers settings.LOGGING made; keep personal data out of its lines too."""
    from config.redaction import install_on_handlers

    install_on_handlers(logger)
