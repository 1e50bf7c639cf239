"""Helpers for members tests: a clock, purchases and the ledger invariant."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db.models import Sum

from members import services
from members.models import LedgerEntry, Member, PointLot
from members.selectors import ledger_mismatches


@pytest.fixture
def clock():
    """A travelling clock that starts on a Wednesday at noon UTC; `clock.shift(days=...)` moves it."""
    with time_machine.travel(datetime(2026, 3, 4, 12, 0, tzinfo=UTC), tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _ledger_stays_exact(request):
    """Every members test that touches the database ends with a clean `ledger_check`."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        yield
        return
    request.getfixturevalue("transactional_db" if marker.kwargs.get("transaction") else "db")
    yield
    assert ledger_mismatches() == []


def buy(member, amount, *, partner=None, external_id=None, items=None, **kwargs):
    buy.counter = getattr(buy, "counter", 0) + 1
    purchase, _ = services.purchase_record(
        member=member,
        partner=partner,
        external_id=external_id or f"T-{buy.counter}",
        amount=Decimal(str(amount)),
        currency=member.program.currency,
        items=items,
        **kwargs,
    )
    return purchase


def fresh(member) -> Member:
    return Member.objects.get(pk=member.pk)


def assert_ledger_consistent(member) -> Member:
    m = fresh(member)
    ledger = LedgerEntry.objects.filter(member=m).aggregate(s=Sum("points"))["s"] or 0
    lots = PointLot.objects.filter(member=m).aggregate(s=Sum("remaining"))["s"] or 0
    pending = PointLot.objects.filter(member=m, pending=True).aggregate(s=Sum("remaining"))["s"] or 0
    assert m.points_available >= 0 and m.points_pending >= 0 and m.points_debt >= 0
    assert m.points_available + m.points_pending == ledger == lots
    assert m.points_pending == pending
    return m
