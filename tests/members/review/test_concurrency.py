"""On PostgreSQL, many purchases of one member at once never pass the member's daily limit: the
member row is locked while a purchase earns, so each sees the ones before it."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection

from members import services
from members.models import LedgerEntry, Purchase, ReviewCase
from tests.conftest import MemberFactory, PartnerFactory, ProgramFactory

from .conftest import assert_ledger_consistent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 24


def _run_at_once(work) -> None:
    start = threading.Barrier(THREADS)

    def run(i: int) -> None:
        try:
            start.wait()
            work(i)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        list(pool.map(run, range(THREADS)))


def test_concurrent_purchases_never_pass_the_member_earn_limit():
    program = ProgramFactory(member_daily_earns=5)
    member = MemberFactory(program=program)
    partner = PartnerFactory(program=program)

    _run_at_once(
        lambda i: services.purchase_record(
            member=member, partner=partner, external_id=f"T-{i}", amount=Decimal("10"), currency="EUR"
        )
    )

    assert Purchase.objects.filter(member=member).count() == THREADS  # every purchase recorded
    assert LedgerEntry.objects.filter(member=member, kind="earn").count() == 5
    assert ReviewCase.objects.filter(member=member, kind="earn_limit").count() == THREADS - 5
    assert assert_ledger_consistent(member).points_available == 50


def test_concurrent_purchases_never_pass_the_member_points_limit():
    program = ProgramFactory(member_daily_points=95)
    member = MemberFactory(program=program)

    _run_at_once(
        lambda i: services.purchase_record(
            member=member, partner=None, external_id=f"T-{i}", amount=Decimal("10"), currency="EUR"
        )
    )

    assert assert_ledger_consistent(member).points_available == 90
    held = ReviewCase.objects.filter(member=member, kind="earn_limit")
    assert held.count() == THREADS - 9 and {c.points for c in held} == {10}
