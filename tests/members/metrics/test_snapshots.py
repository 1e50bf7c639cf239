"""Monthly snapshots: the 12-month charts read closed months from them, with the same figures."""

from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.cache import cache

from members import metrics, tasks
from members.models import Member, MetricSnapshot
from tests.conftest import ProgramFactory, TierFactory, at, buy, enroll

NOW = at(2026, 4, 1, 10)  # a few hours after March closed


@pytest.fixture
def history(program):
    bronze = TierFactory(program=program, name="Bronze", level=0)
    a, b = enroll(program, at(2026, 1, 5)), enroll(program, at(2026, 2, 5))
    buy(a, at(2026, 1, 10), "100", ["grocery"])
    buy(a, at(2026, 2, 10), "40", ["coffee"])
    buy(b, at(2026, 3, 10), "60", ["coffee"])
    Member.objects.filter(pk=b.pk).update(loyalty_type=Member.LoyaltyType.PRICE)
    return program, bronze, a, b


def figures(scope):
    return (
        [(r.month, r.active, r.new, r.orders, r.revenue) for r in metrics.monthly_activity(scope=scope)],
        [(r.month, r.issued, r.redeemed, r.expired) for r in metrics.monthly_points(scope=scope)],
        metrics.tier_distribution_monthly(scope=scope),
        [(r.month, r.up, r.down) for r in metrics.tier_movements_monthly(scope=scope)],
    )


def test_snapshots_hold_the_same_figures_as_the_live_queries(history, scope_of):
    program = history[0]
    ProgramFactory()  # every program gets its own snapshots
    with time_machine.travel(NOW, tick=False):
        scope = scope_of(program, at(2025, 5, 1, 0), NOW)
        live = figures(scope)

        written = tasks.metric_snapshots_refresh.delay().get()

        assert written == 24  # two programs without snapshots: their last 12 closed months each
        assert MetricSnapshot.objects.filter(program=program).count() == 12
        assert figures(scope) == live
    march = MetricSnapshot.objects.get(program=program, month=at(2026, 3, 1).date())
    assert march.data["activity"] == {"active": 1, "new": 0, "orders": 1, "revenue": "60.00"}
    assert march.data["tiers"] == {str(history[1].pk): 2}


def test_closed_months_come_from_the_snapshot_until_the_next_refresh(history, scope_of):
    program, bronze, a, _b = history
    with time_machine.travel(NOW, tick=False):
        metrics.metric_snapshots_refresh()
    buy(a, at(2026, 2, 20), "10")  # back-dated: February is already snapshotted

    with time_machine.travel(NOW, tick=False):
        whole = scope_of(program, at(2026, 1, 1, 0), NOW)
        february = {r.month.month: r.orders for r in metrics.monthly_activity(scope=whole)}[2]
        filtered = {
            r.month.month: r.orders
            for r in metrics.monthly_activity(scope=scope_of(program, at(2026, 1, 1, 0), NOW, tier=bronze))
        }[2]
        assert (february, filtered) == (1, 2)  # the snapshot until refreshed; filtered views are always live

        assert metrics.metric_snapshots_refresh() == 2  # the last two closed months
        assert {r.month.month: r.orders for r in metrics.monthly_activity(scope=whole)}[2] == 2


def test_loyalty_types_are_recorded_when_the_month_closes(history, scope_of):
    program = history[0]
    with time_machine.travel(NOW, tick=False):
        metrics.metric_snapshots_refresh()
        months = dict(metrics.loyalty_distribution_monthly(scope=scope_of(program, at(2026, 2, 1, 0), NOW)))

    assert months[at(2026, 2, 1).date()] is None  # backfilled: the types of February are not known
    assert months[at(2026, 3, 1).date()]["price"] == 1  # recorded as March closed
    assert months[at(2026, 4, 1).date()] == {
        "": 1,
        **dict.fromkeys(["satisfied", "program", "convenience", "freebie", "advocate"], 0),
        "price": 1,
    }  # the current month, live


def test_a_snapshot_of_a_quiet_month_is_all_zeros(program):
    snapshot = metrics.metric_snapshot_month(program=program, month=at(2025, 1, 1).date(), now=NOW)

    assert snapshot.data["activity"] == {"active": 0, "new": 0, "orders": 0, "revenue": "0.00"}
    assert snapshot.data["points"] == {"issued": 0, "redeemed": 0, "expired": 0, "adjusted": 0}
    assert (snapshot.data["tiers"], snapshot.data["movements"]) == ({}, {"up": 0, "down": 0})
    assert Decimal(snapshot.data["activity"]["revenue"]) == 0


def test_the_first_dashboard_view_queues_the_snapshots_once(client, history, django_capture_on_commit_callbacks):
    program = history[0]
    cache.clear()  # other tests' views of a program with the same id may have set the once-an-hour mark
    client.force_login(User.objects.create_superuser("boss", "boss@example.com", "pw"))

    with django_capture_on_commit_callbacks(execute=True) as queued:
        assert client.get(f"/admin/?program={program.pk}").status_code == 200
    with django_capture_on_commit_callbacks(execute=True) as again:
        client.get(f"/admin/?program={program.pk}")

    assert (len(queued), len(again)) == (1, 0)
    assert MetricSnapshot.objects.filter(program=program).count() == 12
    assert not metrics.snapshot_missing(program=program)
