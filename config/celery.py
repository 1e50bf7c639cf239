"""The Celery app. Enqueue work with core.enqueue.enqueue_on_commit; periodic schedules, queues and
routes are in settings."""

import os

from celery import Celery
from celery.contrib.django.task import DjangoTask
from celery.signals import after_setup_logger, after_setup_task_logger, before_task_publish, task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("fidelis", task_cls=DjangoTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@after_setup_logger.connect
@after_setup_task_logger.connect
def _worker_log_handlers(logger, **kwargs) -> None:
    """A worker replaces the handlers settings.LOGGING made: keep personal data out of its lines, stamp
    them with the request id that started the task, and write JSON when LOG_FORMAT=json."""
    from django.conf import settings

    from core.middleware import RequestIdFilter
    from core.redaction import install_on_handlers

    install_on_handlers(logger, RequestIdFilter())
    if settings.LOG_FORMAT == "json":
        from core.logs import json_formatter

        for handler in logger.handlers:
            handler.setFormatter(json_formatter())


@before_task_publish.connect
def _carry_request_id(headers=None, **kwargs) -> None:
    """The request (or task) that enqueues work hands its id to the task, so one grep follows an earn
    from the API line to its webhook delivery."""
    from core.middleware import request_id_get

    if headers is not None:
        headers.setdefault("request_id", request_id_get())


_tokens: dict[str, object] = {}


@task_prerun.connect
def _adopt_request_id(task_id=None, task=None, **kwargs) -> None:
    from core.middleware import request_id_set

    if task is not None and not task.request.is_eager:
        _tokens[task_id] = request_id_set(getattr(task.request, "request_id", None))


@task_postrun.connect
def _drop_request_id(task_id=None, **kwargs) -> None:
    from core.middleware import request_id_reset

    token = _tokens.pop(task_id, None)
    if token is not None:
        request_id_reset(token)
