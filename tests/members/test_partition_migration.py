"""The partitioning migrations on an existing install: a PostgreSQL database migrated to the state
before them, given rows over a year and a half, then migrated forward. Every row is kept, in its
month's partition; ids continue; keys, indexes, foreign keys and triggers are back; the guards hold
the keys already taken."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connections
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.postgres

ALIAS = "partition_migration"
BEFORE = [("members", "0024_custom_events"), ("campaigns", "0004_delivery_batch_and_provider_events")]


@pytest.fixture
def scratch(django_db_blocker, settings):
    """A database of its own (the test database stays as it is), dropped afterwards."""
    settings.DATABASE_ROUTERS = []  # the replica router migrates `default` only
    name = f"{connections['default'].settings_dict['NAME']}_migration"
    connections.databases[ALIAS] = {**connections.databases["default"], "NAME": name}
    with django_db_blocker.unblock():
        with connections["default"].cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
            cursor.execute(f'CREATE DATABASE "{name}"')
        try:
            yield connections[ALIAS]
        finally:
            connections[ALIAS].close()
            del connections[ALIAS]
            del connections.databases[ALIAS]
            with connections["default"].cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')


def _rows(apps) -> dict:
    """An install's history before the migration: months from 17 months ago to now."""
    db = ALIAS
    now = datetime.now(UTC)
    times = [now - timedelta(days=31 * n) for n in (17, 6, 1, 0)]
    program = apps.get_model("members", "Program").objects.using(db).create(name="P", slug="p")
    member = (
        apps.get_model("members", "Member")
        .objects.using(db)
        .create(program=program, number="000000000001", email="a@example.com", referral_code="R1")
    )
    partner = apps.get_model("members", "Partner").objects.using(db).create(program=program, name="Shop")
    Entry = apps.get_model("members", "LedgerEntry")
    entries = [
        Entry.objects.using(db).create(program=program, member=member, kind="bonus", points=10, created_at=t)
        for t in times
    ]
    apps.get_model("members", "PointLot").objects.using(db).create(
        member=member, entry=entries[0], points=10, remaining=10, available_at=times[0]
    )
    Event = apps.get_model("members", "Event")
    events = [
        Event.objects.using(db).create(program=program, member=member, type="t", occurred_at=t, dispatched_at=t)
        for t in times
    ]
    for event in events:
        apps.get_model("members", "EventHandling").objects.using(db).create(event=event, handler="h")
    Audit = apps.get_model("members", "AuditEntry")
    for t in times:
        Audit.objects.using(db).create(action="admin.change", at=t)
    endpoint = (
        apps.get_model("members", "WebhookEndpoint")
        .objects.using(db)
        .create(partner=partner, url="https://example.com/h", secret="whsec_x", events=["t"])
    )
    Delivery = apps.get_model("members", "WebhookDelivery")
    for event in events:
        Delivery.objects.using(db).create(endpoint=endpoint, event=event, event_type="t", body="{}")
    apps.get_model("members", "IdempotencyKey").objects.using(db).create(
        partner=partner, key="k1", request_hash="h", created_at=times[-1]
    )
    campaign = apps.get_model("campaigns", "Campaign").objects.using(db).create(program=program, name="C")
    apps.get_model("campaigns", "Delivery").objects.using(db).create(campaign=campaign, member=member)
    return {"entries": [e.pk for e in entries], "times": times, "member": member.pk, "campaign": campaign.pk}


def _one(connection, sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def test_migrating_an_install_with_rows_partitions_them_all(scratch):
    executor = MigrationExecutor(scratch)
    executor.migrate(BEFORE)
    before = _rows(executor.loader.project_state(BEFORE).apps)
    counts = {
        table: _one(scratch, f"SELECT COUNT(*) FROM {table}")  # noqa: S608
        for table in (
            "members_ledgerentry",
            "members_event",
            "members_eventhandling",
            "members_auditentry",
            "members_webhookdelivery",
            "members_idempotencykey",
            "campaigns_delivery",
        )
    }

    executor = MigrationExecutor(scratch)
    executor.migrate(executor.loader.graph.leaf_nodes())

    for table, count in counts.items():
        assert _one(scratch, "SELECT relkind FROM pg_class WHERE relname = %s", [table]) == "p", table
        assert _one(scratch, f"SELECT COUNT(*) FROM {table}") == count, table  # noqa: S608
        assert _one(scratch, f"SELECT COUNT(*) FROM {table}_default") == 0, table  # noqa: S608
    oldest = before["times"][0]
    partition = _one(
        scratch, "SELECT tableoid::regclass::text FROM members_ledgerentry WHERE id = %s", [before["entries"][0]]
    )
    assert partition == f"members_ledgerentry_p{oldest:%Y%m}"
    # Handlings got their event's time, and live in its month.
    assert (
        _one(
            scratch,
            "SELECT COUNT(*) FROM members_eventhandling h JOIN members_event e ON e.id = h.event_id"
            " WHERE h.event_occurred_at = e.occurred_at",
        )
        == counts["members_eventhandling"]
    )
    # Ids continue after the highest one moved.
    new_id = _one(
        scratch,
        "INSERT INTO members_ledgerentry (program_id, member_id, kind, points, currency, reference, reason,"
        " breakdown, created_at) SELECT program_id, member_id, 'bonus', 1, '', '', '', '[]', now()"
        " FROM members_ledgerentry LIMIT 1 RETURNING id",
    )
    assert new_id > max(before["entries"])
    # The audit trail is still append-only, and a campaign delivery already made is not made again.
    with pytest.raises(Exception, match="append-only"), scratch.cursor() as cursor:
        cursor.execute("DELETE FROM members_auditentry")
    with scratch.cursor() as cursor:
        cursor.execute(
            "INSERT INTO campaigns_delivery (campaign_id, member_id, occurrence, holdout, channel, status, reason,"
            " provider_id, error, created_at) VALUES (%s, %s, '', false, '', 'queued', '', '', '', now())",
            [before["campaign"], before["member"]],
        )
        assert cursor.rowcount == 0
    assert _one(scratch, "SELECT COUNT(*) FROM members_webhookdelivery_once") == counts["members_webhookdelivery"]
