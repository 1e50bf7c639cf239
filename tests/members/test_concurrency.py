"""On PostgreSQL, concurrent spending from one member never overdraws and never loses an entry."""

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from core.errors import DomainError
from members import services
from members.models import LedgerEntry
from tests.conftest import MemberFactory, ProgramFactory

from .conftest import assert_ledger_consistent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 50


def test_fifty_threads_spending_at_once_never_overdraw():
    member = MemberFactory(program=ProgramFactory())
    services.points_grant(member=member, points=1000, reason="Start")
    services.points_grant(member=member, points=10, reason="Second lot")
    start = threading.Barrier(THREADS)

    def spend(i: int) -> bool:
        try:
            start.wait()
            services.points_spend(member=member, points=30, reason=f"thread {i}", reference=f"t:{i}")
            return True
        except DomainError as refused:
            assert refused.code == "insufficient_points"
            return False
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = list(pool.map(spend, range(THREADS)))

    assert sum(results) == 1010 // 30
    member = assert_ledger_consistent(member)
    assert member.points_available == 1010 - 33 * 30
    spent = LedgerEntry.objects.filter(member=member, kind=LedgerEntry.Kind.REDEEM)
    assert sorted(spent.values_list("reference", flat=True)) == sorted(f"t:{i}" for i, ok in enumerate(results) if ok)


def test_concurrent_earning_and_spending_keep_the_ledger_exact():
    member = MemberFactory(program=ProgramFactory())
    services.points_grant(member=member, points=500, reason="Start")
    start = threading.Barrier(THREADS)

    def work(i: int) -> None:
        try:
            start.wait()
            if i % 2:
                services.points_grant(member=member, points=7, reason=f"grant {i}")
            else:
                with contextlib.suppress(DomainError):
                    services.points_spend(member=member, points=40, reason=f"spend {i}")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        list(pool.map(work, range(THREADS)))
    member = assert_ledger_consistent(member)
    grants = LedgerEntry.objects.filter(member=member, kind=LedgerEntry.Kind.GRANT).count()
    spends = LedgerEntry.objects.filter(member=member, kind=LedgerEntry.Kind.REDEEM).count()
    assert grants == 1 + THREADS // 2
    assert member.points_available == 500 + 7 * (grants - 1) - 40 * spends
