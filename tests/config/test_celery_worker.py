import time

import pytest

from members.models import Event
from tests.conftest import MemberFactory, ProgramFactory

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.mark.django_db(transaction=True)
def test_real_worker_on_redis_dispatches_an_enrollment_event(celery_worker):
    member = MemberFactory(program=ProgramFactory())  # commits; on_commit sends events_dispatch to Redis

    event = Event.objects.get(member=member, type="member.enrolled")
    deadline = time.monotonic() + 20
    while event.dispatched_at is None and time.monotonic() < deadline:
        time.sleep(0.2)
        event.refresh_from_db()
    assert event.dispatched_at is not None, "the worker never ran events_dispatch"
