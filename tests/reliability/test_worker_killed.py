"""A worker killed with SIGKILL in the middle of a campaign fan-out: after a restart every member has
exactly one delivery and no message goes out twice."""

import email
from collections import Counter
from pathlib import Path

import pytest

from campaigns import services
from campaigns.models import Campaign, Delivery
from config.celery import app
from tests.campaigns.conftest import CampaignFactory, bulk_members
from tests.conftest import ProgramFactory
from tests.reliability.conftest import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

MEMBERS = 3000  # three chunks of 1000


def _recipients(mail_dir: Path) -> Counter:
    """Every message the file backend wrote (one file per connection, messages split by a dashed line)."""
    sent = Counter()
    for path in mail_dir.glob("*.log"):
        for raw in path.read_text().split("-" * 79 + "\n"):
            if raw.strip():
                sent[email.message_from_string(raw)["To"]] += 1
    return sent


def test_sigkill_mid_fan_out_then_restart_gives_each_member_one_delivery_sent_once(processes, broker, tmp_path):
    program = ProgramFactory()
    bulk_members(program, MEMBERS, consent_email=True)
    campaign = CampaignFactory(program=program, cap_messages=None)
    deliveries = Delivery.objects.filter(campaign=campaign)
    worker = processes.worker(**broker.env)

    previous = app.conf.broker_url
    app.conf.broker_url = broker.url
    app._pool = app.amqp._producer_pool = None  # pools made earlier still point at the shared broker
    try:
        services.campaign_launch(campaign=campaign)  # commits; the fan-out goes to the private broker
    finally:
        app.conf.broker_url = previous
        app._pool = app.amqp._producer_pool = None

    # Kill it hard once the second chunk is under way (its task is taken but not acknowledged).
    wait_until(
        lambda: deliveries.filter(status=Delivery.Status.SENT).count() > 1100, timeout=300, message="second chunk"
    )
    worker.kill()
    worker.wait()
    interrupted = deliveries.count()
    assert interrupted < MEMBERS

    # A restarted worker with a short visibility timeout takes the unacknowledged chunk back.
    processes.worker(**broker.env, CELERY_VISIBILITY_TIMEOUT="2")
    wait_until(
        lambda: deliveries.count() == MEMBERS and not deliveries.filter(status=Delivery.Status.QUEUED).exists(),
        timeout=300,
        message="every member's delivery",
    )
    wait_until(lambda: broker.queue_length() == 0, message="queue drained")

    assert deliveries.values("member").distinct().count() == MEMBERS
    statuses = Counter(deliveries.values_list("status", flat=True))
    # The one row the worker was sending when it died stays claimed ("sending"): it is never sent again.
    assert statuses[Delivery.Status.SENT] >= MEMBERS - 1
    assert statuses[Delivery.Status.SENDING] <= 1
    sent_to = _recipients(tmp_path / "mail")
    assert max(sent_to.values()) == 1, "somebody got the campaign twice"
    sent_members = set(deliveries.filter(status=Delivery.Status.SENT).values_list("member__email", flat=True))
    assert sent_members <= set(sent_to)
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.SENT
    print(f"killed with {interrupted} deliveries created; after restart: {dict(statuses)}")


def test_sigkill_mid_bulk_fan_out_then_restart_delivers_every_member_exactly_once(processes, private_redis):
    """The bulk path (anymail's Brevo backend against the loopback Brevo sink, batches of 100): a batch the
    worker had claimed, or even sent, when it died is resent by the re-delivered chunk under its
    idempotency key, so every member gets the campaign, and nobody twice."""
    from bench.brevosink import BrevoSink

    sink = BrevoSink().start()
    program = ProgramFactory()
    bulk_members(program, MEMBERS, consent_email=True)
    campaign = CampaignFactory(program=program, cap_messages=None)
    deliveries = Delivery.objects.filter(campaign=campaign)
    provider = {
        "EMAIL_URL": "anymail://brevo",
        "ANYMAIL_API_KEY": sink.api_key,
        "ANYMAIL_API_URL": sink.url,
        "CAMPAIGN_EMAIL_BATCH": "100",
    }
    worker = processes.worker(**private_redis.env, **provider)

    previous = app.conf.broker_url
    app.conf.broker_url = private_redis.url
    app._pool = app.amqp._producer_pool = None
    try:
        services.campaign_launch(campaign=campaign)
    finally:
        app.conf.broker_url = previous
        app._pool = app.amqp._producer_pool = None

    wait_until(lambda: sink.delivered > 1100, timeout=300, message="second chunk")
    worker.kill()
    worker.wait()
    processes.worker(**private_redis.env, CELERY_VISIBILITY_TIMEOUT="2", **provider)
    finished = (Delivery.Status.QUEUED, Delivery.Status.SENDING)
    wait_until(
        lambda: deliveries.count() == MEMBERS and not deliveries.filter(status__in=finished).exists(),
        timeout=300,
        message="every member's delivery sent",
    )
    sink.stop()

    received = Counter(sink.recipients())
    assert max(received.values()) == 1, "somebody got the campaign twice"
    assert len(received) == MEMBERS  # and nobody was lost: the interrupted batch was resent
    assert deliveries.filter(status=Delivery.Status.SENT).count() == MEMBERS
    print(f"calls {sink.calls}, answered from an idempotency key: {sink.replays}")
