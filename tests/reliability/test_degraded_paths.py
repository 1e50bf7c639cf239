"""The building blocks of broker tolerance, checked without killing anything (run in every configuration)."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from campaigns import services as campaign_services
from campaigns.models import Campaign, Delivery
from config.celery import app
from core import enqueue as core_enqueue
from core.cache import TolerantRedisCache
from core.enqueue import enqueue, enqueue_on_commit
from members.models import Event, Member
from members.tasks import events_sweep
from tests.campaigns.conftest import CampaignFactory
from tests.conftest import MemberFactory

NOWHERE = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def broker_unreachable(settings):
    previous = app.conf.broker_url, app.conf.task_always_eager
    app.conf.broker_url, app.conf.task_always_eager = NOWHERE, False
    _drop_connection_pools()
    yield
    app.conf.broker_url, app.conf.task_always_eager = previous
    _drop_connection_pools()
    core_enqueue._broker_down_until = 0.0


def _drop_connection_pools():
    # Celery keeps its broker connections in pools made on first use; new ones follow the new URL.
    app._pool = None
    app.amqp._producer_pool = None


def test_the_cache_behaves_as_empty_while_redis_is_unreachable():
    TolerantRedisCache._down_until = 0.0
    cache = TolerantRedisCache(NOWHERE, {"OPTIONS": {"socket_connect_timeout": 0.5}})
    try:
        assert cache.get("k", "default") == "default"
        assert cache.add("k", 1) is False
        cache.set("k", 1)
        with pytest.raises(ValueError):  # "no such key", which every counter already handles
            cache.incr("k")
        assert cache.get_many(["k"]) == {}
    finally:
        TolerantRedisCache._down_until = 0.0


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_broker_never_fails_a_committed_write(broker_unreachable, program):
    assert enqueue(events_sweep) is False
    with transaction.atomic():
        member = MemberFactory(program=program)  # its member.enrolled event is enqueued on commit
        enqueue_on_commit(events_sweep)
    assert Member.objects.filter(pk=member.pk).exists()
    event = Event.objects.get(member=member)
    assert event.dispatched_at is None  # left for events_sweep, not lost


@pytest.mark.django_db
def test_a_broadcast_whose_fan_out_was_lost_is_fanned_out_again(program):
    members = [MemberFactory(program=program, consent_email=True) for _ in range(3)]
    campaign = CampaignFactory(program=program)
    long_ago = timezone.now() - timedelta(minutes=30)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING, launched_at=long_ago)

    assert campaign_services.campaigns_resume_stalled() == 1

    assert Delivery.objects.filter(campaign=campaign, status=Delivery.Status.SENT).count() == len(members)
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.SENT
    assert campaign_services.campaigns_resume_stalled() == 0


@pytest.mark.django_db
def test_a_delivery_left_sending_by_a_dead_worker_is_closed_not_sent_again(program, mailoutbox):
    member = MemberFactory(program=program, consent_email=True)
    campaign = CampaignFactory(program=program, status=Campaign.Status.SENT)
    claimed = timezone.now() - timedelta(minutes=30)
    delivery = Delivery.objects.create(
        campaign=campaign,
        member=member,
        channel=Delivery.Channel.EMAIL,
        status=Delivery.Status.SENDING,
        sent_at=claimed,
    )

    campaign_services.deliveries_send_due()

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED and "Interrupted" in delivery.error
    assert mailoutbox == []
