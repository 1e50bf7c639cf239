"""Broker down: enrolling, earning and redeeming still succeed; the event handlings and partner webhooks
they cause are sent once the broker is back (swept by the periodic jobs), each exactly once."""

import time
from collections import Counter
from datetime import timedelta

import pytest
import requests
from django.db.models import F

from members.models import Event, EventHandling, Member, WebhookDelivery, WebhookEndpoint
from members.outbox import handlers_for, webhook_event_types
from members.partners.services import partner_key_create, webhook_secret_new
from rewards.models import Redemption
from tests.conftest import PartnerFactory
from tests.members.conftest import Receiver
from tests.reliability.conftest import beat_client, wait_until
from tests.rewards.conftest import RewardFactory

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def test_writes_succeed_with_the_broker_down_and_their_effects_arrive_once_it_is_back(processes, broker):
    partner = PartnerFactory()
    reward = RewardFactory(program=partner.program, points_cost=50)
    _, key = partner_key_create(partner=partner, name="till")
    receiver = Receiver([200]).__enter__()
    WebhookEndpoint.objects.create(
        partner=partner, url=receiver.url, secret=webhook_secret_new(), events=webhook_event_types()
    )
    api = requests.Session()
    api.headers["Authorization"] = f"Api-Key {key}"
    base = processes.server(**broker.env)

    broker.kill()
    timings = []
    for n in range(3):
        started = time.monotonic()
        enrolled = api.post(f"{base}/api/v1/members", json={"email": f"shopper{n}@example.com"}, timeout=30)
        assert enrolled.status_code == 201, enrolled.text
        number = enrolled.json()["number"]
        earned = api.post(
            f"{base}/api/v1/transactions",
            json={"member": number, "external_id": f"ORD-{n}", "amount": "80.00", "currency": "EUR"},
            timeout=30,
        )
        assert earned.status_code == 201, earned.text
        redeemed = api.post(f"{base}/api/v1/redemptions", json={"member": number, "reward": reward.pk}, timeout=30)
        assert redeemed.status_code == 201, redeemed.text
        timings.append((time.monotonic() - started) / 3)
    print(f"mean request time with the broker down: {sum(timings) / len(timings) * 1000:.0f} ms")

    members = Member.objects.filter(program=partner.program)
    assert [m.points_available for m in members] == [30, 30, 30]
    assert Redemption.objects.filter(reward=reward).count() == 3
    events = Event.objects.filter(program=partner.program)
    assert events.count() >= 9 and not events.filter(dispatched_at__isnull=False).exists()
    assert not WebhookDelivery.objects.exists()  # nothing went out while the broker was down

    # The broker comes back empty (no persistence: whatever was queued is gone) with a worker.
    broker.start()
    processes.worker(**broker.env)
    # The sweeper leaves events younger than a minute to their own task; these are older by now.
    events.update(occurred_at=F("occurred_at") - timedelta(minutes=2))
    beat = beat_client(broker.url)
    beat.send_task("members.tasks.events_sweep")

    wait_until(lambda: not events.filter(dispatched_at__isnull=True).exists(), message="events dispatched")
    hooks = WebhookDelivery.objects.filter(event__program=partner.program)
    wait_until(
        lambda: hooks.exists() and not hooks.exclude(status=WebhookDelivery.Status.SUCCEEDED).exists(),
        message="webhooks delivered",
    )
    # Let the periodic jobs run again, then wait for the worker to go idle: nothing is sent twice.
    beat.send_task("members.tasks.events_sweep")
    beat.send_task("members.partners.tasks.webhooks_retry_due")
    wait_until(lambda: broker.queue_length() == 0 and _idle(beat), message="worker idle")
    receiver.__exit__()

    # Counted from the handlings' side: grouping events by their id alone is refused on PostgreSQL,
    # where the partitioned table's key is (id, occurred_at).
    handled = Counter(EventHandling.objects.filter(event__in=events).values_list("event_id", flat=True))
    for event in events:
        # The worker runs the product's handlers; handlers registered by other test modules live
        # only in this process.
        product = [name for name, _ in handlers_for(event.type) if not name.startswith("tests.")]
        assert handled[event.pk] == len(product), event.type
    webhook_events = events.filter(type__in=webhook_event_types())
    assert hooks.count() == webhook_events.count()
    received = Counter(request[0]["X-Fidelis-Delivery"] for request in receiver.requests)
    assert received == Counter({str(pk): 1 for pk in hooks.values_list("pk", flat=True)})
    types = Counter(hooks.values_list("event_type", flat=True))
    assert types["member.enrolled"] == types["points.earned"] == types["reward.redeemed"] == 3


def _idle(beat) -> bool:
    active = beat.control.inspect(timeout=1).active() or {}
    return bool(active) and all(not tasks for tasks in active.values())
