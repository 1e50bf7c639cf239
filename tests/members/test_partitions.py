"""Monthly partitions and retention (core.partitions, members.retention): the policy on both
databases; on PostgreSQL the partitions, the guards that keep keys unique across months, the
DEFAULT partition and the pruning of the hot-path queries (EXPLAIN)."""

import csv
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core.partitions import month_add, month_bound, month_start, partition_create, partition_name, partitions
from members.models import AuditEntry, Event, EventHandling, IdempotencyKey, WebhookDelivery
from members.outbox.dispatch import events_sweep
from members.partners.services import webhook_deliveries_create
from members.retention import partitions_maintain, retention_apply
from members.selectors import member_entries
from tests.conftest import MemberFactory, PartnerFactory, ProgramFactory

postgres = pytest.mark.postgres
NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)


def months_ago(n: int, day: int = 10) -> datetime:
    return month_bound(month_add(month_start(NOW), -n)).replace(day=day, hour=9)


def _months(table: str, *ns: int) -> None:
    """Partitions for months in the past (the test database has this month and three ahead)."""
    if connection.vendor == "postgresql":
        for n in ns:
            partition_create(table, month_add(month_start(NOW), -n))


def _event(member, when: datetime, *, dispatched: bool) -> Event:
    return Event.objects.create(
        program=member.program,
        member=member,
        type="member.enrolled",
        occurred_at=when,
        dispatched_at=when if dispatched else None,
    )


def _partition_names(table: str) -> set[str]:
    return {p.name for p in partitions(table)}


@pytest.fixture
def retention(settings, tmp_path):
    settings.DATA_RETENTION_MONTHS = {
        "members_event": 3,
        "members_eventhandling": 3,
        "members_webhookdelivery": 3,
        "members_idempotencykey": 1,
        "campaigns_delivery": 12,
    }
    settings.RETENTION_ARCHIVE_DIR = str(tmp_path / "archive")
    return tmp_path / "archive"


@pytest.mark.django_db
def test_retention_drops_whole_old_months_of_dispatched_events_and_audits_it(member, retention):
    _months("members_event", 6, 5, 4, 3)
    _months("members_eventhandling", 6, 5, 4, 3)
    old = _event(member, months_ago(5), dispatched=True)
    EventHandling.objects.create(event=old, event_occurred_at=old.occurred_at, handler="h")
    pending = _event(member, months_ago(4), dispatched=False)  # keeps its month: the sweeper needs it
    kept = _event(member, months_ago(3), dispatched=True)  # within the three whole months kept
    audited = AuditEntry.objects.create(action="points.adjust", at=months_ago(30))

    dropped = retention_apply(now=NOW)

    assert {(d.table, f"{d.month:%Y-%m}", d.rows) for d in dropped} >= {
        ("members_event", f"{months_ago(5):%Y-%m}", 1),
        ("members_eventhandling", f"{months_ago(5):%Y-%m}", 1),
    }
    assert set(Event.objects.values_list("pk", flat=True)) >= {pending.pk, kept.pk}
    assert not Event.objects.filter(pk=old.pk).exists()
    assert not EventHandling.objects.filter(event_id=old.pk).exists()
    assert AuditEntry.objects.filter(pk=audited.pk).exists()  # the audit trail is never dropped
    audit = AuditEntry.objects.get(
        action="retention.drop", changes__table="members_event", changes__month=f"{months_ago(5):%Y-%m}"
    )
    assert audit.changes["rows"] == 1
    with (retention / f"members_event_{months_ago(5):%Y%m}.csv").open() as archived:
        rows = list(csv.DictReader(archived))
    assert [int(row["id"]) for row in rows] == [old.pk]
    if connection.vendor == "postgresql":
        names = _partition_names("members_event")
        assert partition_name("members_event", month_start(months_ago(5))) not in names
        assert partition_name("members_event", month_start(months_ago(4))) in names
    assert retention_apply(now=NOW) == []  # nothing left to drop


@pytest.mark.django_db
def test_retention_keeps_at_least_a_month_and_never_the_ledger(settings):
    settings.DATA_RETENTION_MONTHS = {"members_ledgerentry": 12}
    with pytest.raises(ImproperlyConfigured):
        retention_apply(now=NOW)
    settings.DATA_RETENTION_MONTHS = {"members_idempotencykey": 0}
    with pytest.raises(ImproperlyConfigured):
        retention_apply(now=NOW)


@pytest.mark.django_db
def test_the_command_creates_partitions_and_applies_retention(member, retention, capsys):
    _months("members_webhookdelivery", 5)
    call_command("partitions", "--retention", "--list")
    out = capsys.readouterr().out
    assert "Partitions created" in out
    if connection.vendor == "postgresql":
        assert "members_ledgerentry: " in out and "default" in out
        assert f"Dropped members_webhookdelivery {months_ago(5):%Y-%m}: 0 rows" in out


# --- PostgreSQL: partitions, guards, DEFAULT, pruning --------------------------------------------


@postgres
@pytest.mark.django_db
def test_the_job_creates_this_month_and_three_ahead_and_rows_land_in_their_month(db):
    later = NOW + timedelta(days=400)
    assert partition_name("members_ledgerentry", month_start(later)) in partitions_maintain(now=later)
    assert partitions_maintain(now=later) == []  # already there
    entry = AuditEntry.objects.create(action="points.adjust", at=later + timedelta(days=200))
    with connection.cursor() as cursor:  # no month for it yet: the DEFAULT partition caught it
        cursor.execute("SELECT tableoid::regclass::text FROM members_auditentry WHERE id = %s", [entry.pk])
        assert cursor.fetchone()[0] == "members_auditentry_default"
    partition_create("members_auditentry", month_start(entry.at))  # moves it out of DEFAULT
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM members_auditentry WHERE id = %s", [entry.pk])
        assert cursor.fetchone()[0] == partition_name("members_auditentry", month_start(entry.at))
    assert AuditEntry.objects.get(pk=entry.pk).action == "points.adjust"


@postgres
@pytest.mark.django_db
def test_a_webhook_delivery_stays_once_per_endpoint_and_event_across_months(member):
    from members.partners.services import webhook_secret_new

    partner = PartnerFactory(program=member.program)
    partner.webhook_endpoints.create(url="https://example.com/h", secret=webhook_secret_new(), events=["points.earned"])
    event = _event(member, timezone.now(), dispatched=False)
    event.type = "points.earned"
    partition_create("members_webhookdelivery", month_start(timezone.now() - timedelta(days=40)))
    with time_machine.travel(timezone.now() - timedelta(days=40), tick=False):
        assert len(webhook_deliveries_create(event=event)) == 1
    webhook_deliveries_create(event=event)  # a re-dispatch, in another month: skipped by the guard
    assert WebhookDelivery.objects.filter(event=event).count() == 1
    WebhookDelivery.objects.filter(event=event).delete()  # a deleted row frees its key
    assert len(webhook_deliveries_create(event=event)) == 1


@postgres
@pytest.mark.django_db
def test_a_handler_runs_once_per_event(member):
    event = _event(member, timezone.now(), dispatched=False)
    EventHandling.objects.create(event=event, event_occurred_at=event.occurred_at, handler="h")
    with pytest.raises(IntegrityError), transaction.atomic():
        EventHandling.objects.create(event=event, event_occurred_at=event.occurred_at, handler="h")


@postgres
@pytest.mark.django_db
def test_an_idempotency_key_holds_across_a_month_boundary_and_expires_after_a_day(api, member):
    from tests.conftest import purchase_body

    body = purchase_body(member)
    end_of_month = month_bound(month_add(month_start(timezone.now()), 1)) - timedelta(minutes=5)
    with time_machine.travel(end_of_month, tick=False):
        first = api.post("/api/v1/transactions", body, format="json", HTTP_IDEMPOTENCY_KEY="edge")
    with time_machine.travel(end_of_month + timedelta(minutes=10), tick=False):  # next month's partition
        again = api.post("/api/v1/transactions", body, format="json", HTTP_IDEMPOTENCY_KEY="edge")
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    with time_machine.travel(end_of_month + timedelta(hours=25), tick=False):  # expired: a new request
        other = purchase_body(member, external_id="another")
        late = api.post("/api/v1/transactions", other, format="json", HTTP_IDEMPOTENCY_KEY="edge")
    assert late.status_code == 201
    assert late.json()["id"] != first.json()["id"]
    assert IdempotencyKey.objects.filter(key="edge").count() == 2


def _scanned(queryset) -> set[str]:
    plan = queryset.explain()
    return set(re.findall(r" on (\w+_(?:p\d{6}|default))\b", plan))


@postgres
@pytest.mark.django_db
def test_hot_path_queries_read_only_their_months():
    program = ProgramFactory()
    member = MemberFactory(program=program)
    partner = PartnerFactory(program=program)
    now = timezone.now()
    for n in range(1, 13):
        partition_create("members_ledgerentry", month_add(month_start(now), -n))
    this_month = partition_name("members_ledgerentry", month_start(now))
    last_month = partition_name("members_ledgerentry", month_start(now - timedelta(days=31)))

    # A member's history of the last month (member page, GET /members/<id>/transactions?since=).
    since = now - timedelta(days=31)
    bounded = member_entries(member=member, since=since, until=now + timedelta(seconds=1))
    assert _scanned(bounded) == {this_month, last_month}
    # Open-ended (no `until`): the past months are still pruned; the empty months ahead and DEFAULT
    # stay in the plan because rows of any later time could be there.
    open_ended = _scanned(member_entries(member=member, since=since))
    assert {this_month, last_month} <= open_ended
    assert all(name >= last_month or name.endswith("_default") for name in open_ended)

    # The idempotency lookup: bounded by the key's 24 hours.
    key_lookup = IdempotencyKey.objects.filter(partner=partner, key="k", created_at__gte=now - timedelta(hours=24))
    expected = {partition_name("members_idempotencykey", month_start(m)) for m in (now - timedelta(hours=24), now)}
    assert expected <= _scanned(key_lookup)
    assert not any(n < min(expected) and not n.endswith("_default") for n in _scanned(key_lookup))

    # The outbox sweeper has no lower bound (an undispatched event is never given up, and retention
    # keeps its month), but months ahead are pruned and each past month is one probe of its partial
    # index of undispatched events, empty once the month is dispatched: never a scan of the rows.
    for n in range(1, 4):
        partition_create("members_event", month_add(month_start(now), -n))
    sweep = Event.objects.filter(dispatched_at__isnull=True, occurred_at__lt=now - timedelta(minutes=1))
    scanned = _scanned(sweep)
    assert partition_name("members_event", month_add(month_start(now), 1)) not in scanned
    assert partition_name("members_event", month_start(now)) in scanned
    assert events_sweep() == 0


@postgres
@pytest.mark.django_db
def test_dropping_a_month_of_campaign_deliveries_frees_their_keys(member, retention):
    from campaigns.models import Campaign, Delivery

    campaign = Campaign.objects.create(program=member.program, name="C")
    _months("campaigns_delivery", 14)
    with time_machine.travel(months_ago(14), tick=False):
        Delivery.objects.bulk_create([Delivery(campaign=campaign, member=member, status="sent")], ignore_conflicts=True)
    Delivery.objects.bulk_create([Delivery(campaign=campaign, member=member)], ignore_conflicts=True)
    assert Delivery.objects.count() == 1  # the key is taken by the old month's row

    dropped = retention_apply(now=NOW)

    assert ("campaigns_delivery", 1) in {(d.table, d.rows) for d in dropped}
    assert not Delivery.objects.exists()
    Delivery.objects.bulk_create([Delivery(campaign=campaign, member=member)], ignore_conflicts=True)
    assert Delivery.objects.count() == 1
