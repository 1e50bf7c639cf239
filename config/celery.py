"""The Celery app. Enqueue work with core.enqueue.enqueue_on_commit; periodic schedules are in settings."""

import os

from celery import Celery
from celery.contrib.django.task import DjangoTask
from celery.signals import after_setup_logger, after_setup_task_logger

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("fidelis", task_cls=DjangoTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@after_setup_logger.connect
@after_setup_task_logger.connect
def _redact_worker_logs(logger, **kwargs) -> None:
    """A worker replaces the handlers settings.LOGGING made; keep personal data out of its lines too."""
    from core.redaction import install_on_handlers

    install_on_handlers(logger)
