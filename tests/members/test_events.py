"""The outbox: events written with the change, handled after commit, each handler once."""

from datetime import timedelta

import pytest

from members import outbox, services
from members.events import PointsEarned, PointsExpired
from members.models import Event, EventHandling, Program
from tests.conftest import MemberFactory

pytestmark = pytest.mark.django_db

seen: list[tuple[str, int]] = []


@outbox.handles(PointsExpired, PointsEarned)
def remember(event: Event) -> None:
    seen.append((event.type, event.payload["points"]))


@pytest.fixture(autouse=True)
def _forget():
    seen.clear()


def test_events_are_handled_after_commit_once(member, on_commit):
    with on_commit():
        services.points_grant(member=member, points=7, reason="Gift")
        assert seen == []  # not before the transaction commits
    assert seen == [("points.earned", 7)]
    event = Event.objects.get(type="points.earned", member=member)
    assert event.dispatched_at is not None
    assert outbox.event_dispatch(event.pk)  # a second dispatch runs nothing again
    assert seen == [("points.earned", 7)]
    assert EventHandling.objects.filter(event=event, handler__endswith="test_events.remember").count() == 1


def test_bulk_events_from_periodic_jobs_are_dispatched(program, clock, on_commit):
    program.expiry_policy = Program.Expiry.FIXED
    program.expiry_months = 1
    program.save()
    members = [MemberFactory(program=program) for _ in range(3)]
    for i, member in enumerate(members, start=1):
        services.points_grant(member=member, points=i, reason="Gift")
    seen.clear()
    clock.shift(timedelta(days=40))
    with on_commit():
        assert services.points_expire_due() == 6
    assert sorted(seen) == [("points.expired", 1), ("points.expired", 2), ("points.expired", 3)]
    assert not Event.objects.filter(type="points.expired", dispatched_at__isnull=True).exists()
