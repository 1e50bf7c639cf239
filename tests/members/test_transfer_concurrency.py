"""On PostgreSQL, transfers racing for the same balance never overdraw, and transfers in opposite
directions between two members never deadlock (both lock the two rows in id order)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from core.errors import DomainError
from members import services
from members.models import PointsTransfer, Program
from tests.conftest import MemberFactory, ProgramFactory

from .conftest import assert_ledger_consistent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _program() -> Program:
    program = ProgramFactory()
    Program.objects.filter(pk=program.pk).update(transfer_max_points=1000)
    program.refresh_from_db()
    return program


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


def test_two_transfers_racing_for_the_same_balance_move_it_once():
    program = _program()
    ana, ion, eva = (MemberFactory(program=program) for _ in range(3))
    services.points_grant(member=ana, points=100, reason="Start")
    results = _race(
        [
            lambda: services.points_transfer(sender=ana, recipient=ion, points=80, reference="A"),
            lambda: services.points_transfer(sender=ana, recipient=eva, points=80, reference="B"),
        ]
    )
    assert sorted(results) == ["insufficient_points", "ok"]
    assert assert_ledger_consistent(ana).points_available == 20
    assert assert_ledger_consistent(ion).points_available + assert_ledger_consistent(eva).points_available == 80
    assert PointsTransfer.objects.count() == 1


def test_transfers_both_ways_at_once_never_deadlock():
    program = _program()
    ana, ion = MemberFactory(program=program), MemberFactory(program=program)
    services.points_grant(member=ana, points=500, reason="Start")
    services.points_grant(member=ion, points=500, reason="Start")
    calls = [
        (lambda i=i: services.points_transfer(sender=ana, recipient=ion, points=10, reference=f"a{i}"))
        if i % 2
        else (lambda i=i: services.points_transfer(sender=ion, recipient=ana, points=10, reference=f"i{i}"))
        for i in range(20)
    ]
    assert _race(calls) == ["ok"] * 20
    assert assert_ledger_consistent(ana).points_available == 500
    assert assert_ledger_consistent(ion).points_available == 500


def test_the_same_reference_sent_twice_at_once_moves_the_points_once():
    program = _program()
    ana, ion = MemberFactory(program=program), MemberFactory(program=program)
    services.points_grant(member=ana, points=500, reason="Start")
    transfer = lambda: services.points_transfer(sender=ana, recipient=ion, points=50, reference="same")  # noqa: E731
    assert _race([transfer] * 4) == ["ok"] * 4
    assert assert_ledger_consistent(ion).points_available == 50
