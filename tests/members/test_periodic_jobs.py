"""The periodic jobs are set-based (members.services.ledger_bulk, tiers_review): a constant number of
statements per chunk whatever the number of members, the same entries, events and balances as one
member at a time, nothing changed by a second run, and the tier review locks only the members whose
tier changes. Runs on SQLite and PostgreSQL alike (the same service functions)."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from members import services
from members.events import PointsExpired, TierChanged, TierExpiring
from members.models import Event, LedgerEntry, Member, Program, TierChange
from members.selectors import program_rules
from members.services import expiry, tiers
from tests.conftest import MemberFactory, ProgramFactory, TierFactory

from .conftest import assert_ledger_consistent, buy, fresh

pytestmark = pytest.mark.django_db


def statements(job, *, rules_of: Program | None = None):
    """The job's result and the number of statements it issued. `rules_of`: a program whose cached
    rules (tiers) are read first, as a running site has them (a shifted clock outlives the cache)."""
    if rules_of is not None:
        program_rules(Program.objects.get(pk=rules_of.pk))
    with CaptureQueriesContext(connection) as queries:
        result = job()
    return result, len(queries.captured_queries)


@pytest.fixture
def chunk_of_3(monkeypatch):
    """Chunks of 3 members, so a handful of members spans several chunks."""
    monkeypatch.setattr(expiry, "CHUNK", 3)
    monkeypatch.setattr(tiers, "CHUNK", 3)


@pytest.fixture
def tier_program():
    program = ProgramFactory(tier_notice_days=30)
    levels = [("Base", 0), ("Silver", 500), ("Gold", 1500)]
    return program, [
        TierFactory(program=program, name=name, level=level, threshold=Decimal(threshold))
        for level, (name, threshold) in enumerate(levels)
    ]


@pytest.mark.parametrize("n", [1, 3, 7])
def test_release_pending_statements_per_chunk_stay_constant(n, chunk_of_3, clock):
    program = ProgramFactory(pending_days=14)
    members = [MemberFactory(program=program) for _ in range(n)]
    for member in members:
        buy(member, 100)
    pending = sum(fresh(m).points_pending for m in members)
    assert pending > 0
    clock.shift(timedelta(days=14))
    released, count = statements(services.points_release_pending)
    assert released == pending
    chunks = -(-n // 3)
    # The due members' ids (1); per chunk: savepoint, lock, balances, lots, release.
    assert count == 1 + 5 * chunks
    for member in members:
        member = assert_ledger_consistent(member)
        assert member.points_pending == 0 and member.points_available > 0
    assert services.points_release_pending() == 0


@pytest.mark.parametrize("n", [1, 3, 7])
def test_expiry_statements_per_chunk_stay_constant(n, chunk_of_3, clock):
    program = ProgramFactory(expiry_policy=Program.Expiry.FIXED, expiry_months=12)
    members = [MemberFactory(program=program) for _ in range(n)]
    for member in members:
        services.points_grant(member=member, points=10, reason="Gift")
    clock.shift(timedelta(days=370))
    expired, count = statements(services.points_expire_due)
    assert expired == 10 * n
    chunks = -(-n // 3)
    # The due members' ids and the inactivity programs (2); per chunk: savepoint, lock, entries,
    # events, balances, lots, release.
    assert count == 2 + 7 * chunks


def test_expiry_writes_one_entry_and_one_event_per_member_and_nothing_twice(clock, on_commit):
    program = ProgramFactory(expiry_policy=Program.Expiry.FIXED, expiry_months=12)
    ana, bo, cy = (MemberFactory(program=program) for _ in range(3))
    for member, points in ((ana, 100), (ana, 40), (bo, 25)):
        services.points_grant(member=member, points=points, reason="Gift")
    services.points_spend(member=ana, points=30, reason="Mug")  # ana's first lot: 70 left
    clock.shift(timedelta(days=60))
    services.points_grant(member=cy, points=5, reason="Later")  # not due yet
    clock.shift(timedelta(days=310))
    with on_commit():
        assert services.points_expire_due() == 135
    lots = list(ana.lots.order_by("id").values_list("id", flat=True))
    entry = LedgerEntry.objects.get(member=ana, kind=LedgerEntry.Kind.EXPIRE)
    assert (entry.points, entry.program_id) == (-110, program.pk)
    assert entry.breakdown == [{"lot": lots[0], "points": 70}, {"lot": lots[1], "points": 40}]
    assert entry.reason == "Points reached their expiry date" and entry.created_at is not None
    assert LedgerEntry.objects.get(member=bo, kind=LedgerEntry.Kind.EXPIRE).points == -25
    events = Event.objects.filter(type="points.expired").order_by("member_id")
    assert [e.payload for e in events] == [
        PointsExpired(member=ana.number, points=110).as_json(),
        PointsExpired(member=bo.number, points=25).as_json(),
    ]
    # Dispatched on commit like any recorded event.
    assert all(e.dispatched_at is not None for e in events)
    assert (assert_ledger_consistent(ana).points_available, assert_ledger_consistent(cy).points_available) == (0, 5)

    assert services.points_expire_due() == 0  # a second run changes nothing
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.EXPIRE).count() == 2
    assert Event.objects.filter(type="points.expired").count() == 2


def test_inactivity_expiry_spares_a_member_active_since_the_chunk_was_listed(clock, monkeypatch):
    program = ProgramFactory(expiry_policy=Program.Expiry.INACTIVITY, expiry_months=6)
    idle, busy = MemberFactory(program=program), MemberFactory(program=program)
    for member in (idle, busy):
        services.points_grant(member=member, points=50, reason="Gift")
    clock.shift(timedelta(days=200))
    listed = expiry._member_chunks

    def then_busy_spends(lot_filter):
        for ids in listed(lot_filter):
            # Between listing the chunk and locking it, `busy` spends: activity, so nothing expires.
            services.points_spend(member=busy, points=1, reason="Coffee")
            yield ids

    monkeypatch.setattr(expiry, "_member_chunks", then_busy_spends)
    assert services.points_expire_due() == 50
    assert assert_ledger_consistent(idle).points_available == 0
    assert assert_ledger_consistent(busy).points_available == 49


def test_tier_review_statements_per_chunk_do_not_grow_with_members(tier_program, chunk_of_3, clock):
    program, (_, silver, gold) = tier_program
    members = [MemberFactory(program=program) for _ in range(7)]
    for member in members:
        buy(member, 1600)
    assert {fresh(m).tier for m in members} == {gold}
    clock.shift(timedelta(days=370))
    counts, count = statements(services.tiers_review, rules_of=program)
    assert counts == {"warned": 7, "downgraded": 0, "upgraded": 0}
    # Programs with tiers (1); per chunk: its last id, who changes (2), then for those: savepoint,
    # lock, who changes again under the lock, warnings, events, release (6). The last chunk has
    # no next edge.
    assert count == 1 + 8 * 3
    # Nobody changes: two statements per chunk, nothing locked.
    counts, count = statements(services.tiers_review, rules_of=program)
    assert counts == {"warned": 0, "downgraded": 0, "upgraded": 0}
    assert count == 1 + 2 * 3
    clock.shift(timedelta(days=30))
    counts, count = statements(services.tiers_review, rules_of=program)
    assert counts == {"warned": 0, "downgraded": 7, "upgraded": 0}
    # Tier updates and TierChange rows instead of warnings.
    assert count == 1 + 9 * 3
    assert {fresh(m).tier for m in members} == {silver}
    events = Event.objects.filter(type="tier.changed", payload__reason="downgrade")
    assert sorted(e.payload["member"] for e in events) == sorted(m.number for m in members)
    assert (
        events.first().payload
        == TierChanged(member=events.first().member.number, from_="Gold", to="Silver", reason="downgrade").as_json()
    )


def test_tier_review_upgrades_warns_and_keeps_a_floor_with_the_same_events(tier_program, clock, admin_user):
    program, (_, silver, gold) = tier_program
    warned, floored, missed = (MemberFactory(program=program) for _ in range(3))
    buy(warned, 1600)
    buy(floored, 1600)
    services.tier_assign(
        member=floored, tier=gold, until=timezone.localdate() + timedelta(days=800), created_by=admin_user
    )
    clock.shift(timedelta(days=370))
    buy(missed, 1600)
    Member.objects.filter(pk=missed.pk).update(tier=silver)  # as if its upgrade had been missed
    assert services.tiers_review() == {"warned": 1, "downgraded": 0, "upgraded": 1}
    expiring = Event.objects.get(type="tier.expiring")
    downgrade_after = str(timezone.localdate() + timedelta(days=30))
    assert expiring.member_id == warned.pk
    assert (
        expiring.payload == TierExpiring(member=warned.number, tier="Gold", downgrade_after=downgrade_after).as_json()
    )
    change = TierChange.objects.get(member=missed, reason=TierChange.Reason.UPGRADE, from_tier=silver)
    assert change.to_tier == gold
    upgrade = Event.objects.filter(type="tier.changed", member=missed).order_by("-id").first()
    assert upgrade.payload == TierChanged(member=missed.number, from_="Silver", to="Gold", reason="upgrade").as_json()
    assert fresh(missed).tier == gold and fresh(warned).tier_downgrade_warned_at is not None
    assert fresh(floored).tier == gold and fresh(floored).tier_downgrade_warned_at is None
    assert services.tiers_review() == {"warned": 0, "downgraded": 0, "upgraded": 0}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_tier_review_locks_only_the_members_it_changes(tier_program, clock):
    program, (_, _, gold) = tier_program
    changing, steady = MemberFactory(program=program), MemberFactory(program=program)
    buy(changing, 1600)
    clock.shift(timedelta(days=370))
    buy(steady, 1600)  # recent: still gold
    held, release = threading.Event(), threading.Event()

    def hold_steady_row():
        try:
            with transaction.atomic():
                Member.objects.select_for_update().get(pk=steady.pk)
                held.set()
                release.wait(timeout=60)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_steady_row)
    holder.start()
    try:
        assert held.wait(timeout=60)
        # With the steady member's row locked elsewhere, the review still finishes (it would wait
        # for that lock if it locked every member it reads).
        assert services.tiers_review() == {"warned": 1, "downgraded": 0, "upgraded": 0}
        assert not release.is_set()
    finally:
        release.set()
        holder.join()
    assert fresh(changing).tier_downgrade_warned_at is not None and fresh(steady).tier == gold
