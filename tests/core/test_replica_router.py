"""The read replica router: only marked reads go to the replica, never inside a transaction, never when
it lags; with a real streaming standby (CI starts one: deploy/pg-replica.sh) the marked reads land
there, and a paused standby is skipped."""

import time

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.test.utils import CaptureQueriesContext

from core import db
from core.db import REPLICA, ReplicaRouter, replica_reads
from members.models import Member
from tests.conftest import MemberFactory

router = ReplicaRouter()


@pytest.fixture(autouse=True)
def _fresh_lag_check():
    db._lag_checked.clear()
    yield
    db._lag_checked.clear()


def test_without_a_replica_every_read_goes_to_the_primary(monkeypatch):
    monkeypatch.setattr(db, "replica_configured", lambda: False)
    with replica_reads():
        assert router.db_for_read(Member) is None
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "members") and not router.allow_migrate(REPLICA, "members")


needs_replica = pytest.mark.skipif(
    REPLICA not in connections.settings, reason="needs a streaming replica: set DATABASE_REPLICA_URL"
)


@needs_replica
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA])
def test_marked_reads_come_from_the_standby_and_unmarked_ones_from_the_primary(program):
    member = MemberFactory(program=program)
    _wait_for_replay()
    assert router.db_for_read(Member) is None  # not marked
    with CaptureQueriesContext(connections[REPLICA]) as on_replica, replica_reads():
        assert Member.objects.filter(pk=member.pk).exists()  # it streamed there
    assert any("members_member" in q["sql"] for q in on_replica.captured_queries)
    with replica_reads(), transaction.atomic():
        Member.objects.filter(pk=member.pk).update(first_name="Ana")
        # Inside a transaction a read must see its own write: the primary answers.
        assert router.db_for_read(Member) is None
        assert Member.objects.get(pk=member.pk).first_name == "Ana"


@needs_replica
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA])
def test_a_lagging_standby_is_skipped_until_it_catches_up(program, settings):
    settings.REPLICA_MAX_LAG_SECONDS = 0.5
    settings.REPLICA_LAG_CHECK_SECONDS = 0
    _wait_for_replay()
    standby = connections[REPLICA]
    with standby.cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_pause()")
    try:
        member = MemberFactory(program=program)  # received by the standby, not replayed
        time.sleep(1.0)
        assert db.replica_lag() > 0.5
        with replica_reads():
            assert router.db_for_read(Member) is None
            assert Member.objects.filter(pk=member.pk).exists()  # the primary answered
    finally:
        with standby.cursor() as cursor:
            cursor.execute("SELECT pg_wal_replay_resume()")
    _wait_for_replay()
    with replica_reads():
        assert router.db_for_read(Member) == REPLICA


def _wait_for_replay(timeout: float = 30) -> None:
    """Until the standby has replayed everything the primary has written so far."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        (target,) = cursor.fetchone()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
            if cursor.fetchone()[0]:
                return
        time.sleep(0.1)
    pytest.fail("the standby did not catch up")
