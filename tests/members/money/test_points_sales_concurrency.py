"""On PostgreSQL, parallel sales of points to one member never pass the member's daily limit
together, and the same payment reference sent twice at once sells once."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection

from core.errors import DomainError
from members import services
from members.models import Member, PointsPrice, PointsSale
from tests.conftest import MemberFactory, ProgramFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(calls) -> list[str]:
    start = threading.Barrier(len(calls))

    def run(call) -> str:
        try:
            start.wait()
            call()
            return "ok"
        except DomainError as refused:
            return refused.code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


@pytest.fixture
def member():
    program = ProgramFactory()
    PointsPrice.objects.create(program=program, price=Decimal("1.00"), block=100, max_points=1000, daily_limit=1000)
    return MemberFactory(program=program)


def test_parallel_sales_never_pass_the_daily_limit_together(member):
    calls = [
        (lambda ref=f"P-{i}": services.points_sell(member=member, points=400, payment_reference=ref)) for i in range(4)
    ]
    results = _race(calls)
    assert sorted(results) == ["daily_limit", "daily_limit", "ok", "ok"]
    assert Member.objects.get(pk=member.pk).points_available == 800
    assert PointsSale.objects.count() == 2


def test_the_same_payment_reference_at_once_sells_once(member):
    results = _race([lambda: services.points_sell(member=member, points=300, payment_reference="SAME")] * 3)
    assert results == ["ok", "ok", "ok"]  # the later ones answer the first sale
    assert PointsSale.objects.count() == 1
    assert Member.objects.get(pk=member.pk).points_available == 300
