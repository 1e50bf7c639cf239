"""Celery queues by purpose: every task is routed on purpose, and on a real broker a worker of one
queue never takes another queue's work (a dead webhook receiver cannot hold up a member's email)."""

import os
import subprocess
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings

from config.celery import app
from tests.conftest import WORKER_COMMAND, _database_url

ROOT = Path(__file__).resolve().parents[2]


def _queue(name: str) -> str:
    return app.amqp.router.route({}, name)["queue"].name


def test_every_route_names_a_real_task_and_a_declared_queue():
    app.loader.import_default_modules()
    registered = {name for name in app.tasks if not name.startswith("celery.")}
    routed = set(settings.CELERY_TASK_ROUTES)
    assert routed <= registered, f"routes for tasks that do not exist: {routed - registered}"
    assert {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} <= set(settings.CELERY_QUEUE_NAMES)
    assert {queue.name for queue in app.conf.task_queues} == set(settings.CELERY_QUEUE_NAMES)


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("members.tasks.events_dispatch", "default"),  # an earn's events and their handlers
        ("feedback.tasks.ticket_confirmation_send", "default"),  # a member-facing email
        ("members.partners.tasks.webhook_deliver", "webhooks"),
        ("campaigns.tasks.campaign_chunk", "bulk"),
        ("campaigns.tasks.deliveries_send", "bulk"),
        ("members.tasks.metric_snapshots_refresh", "reports"),
        ("members.tasks.tiers_review", "maintenance"),
    ],
)
def test_tasks_go_to_the_queue_of_their_purpose(task, queue):
    assert _queue(task) == queue


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_worker_of_one_queue_leaves_the_other_queues_alone(tmp_path):
    client = redis.Redis.from_url(settings.REDIS_URL)
    for name in settings.CELERY_QUEUE_NAMES:
        client.delete(name)
    app.send_task("members.partners.tasks.webhooks_retry_due")
    app.send_task("members.tasks.events_sweep")
    assert client.llen("webhooks") == 1
    assert client.llen("default") == 1

    env = {"DATABASE_URL": _database_url(), "ENV_FILE": "/dev/null", "DEBUG": "true", "CONN_MAX_AGE": "0"}
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [*WORKER_COMMAND, "--queues", "webhooks"],
        cwd=ROOT,
        env={**os.environ, **env, "REDIS_URL": settings.REDIS_URL},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while client.llen("webhooks") and time.monotonic() < deadline:
            time.sleep(0.3)
        time.sleep(1)  # time enough to take a task from "default" too, if it listened there
        assert client.llen("webhooks") == 0, (tmp_path / "worker.log").read_text()[-2000:]
        assert client.llen("default") == 1, "the webhooks worker took a default task"
    finally:
        worker.terminate()
        worker.wait(timeout=15)
        log.close()
        client.delete("default")
