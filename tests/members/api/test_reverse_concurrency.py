"""On PostgreSQL, parallel partial refunds of one purchase each answer what they took back: the
answers add up to what the ledger holds, and no debt is reported where none exists."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from members.models import LedgerEntry, Purchase
from tests.conftest import MemberFactory, PartnerFactory, ProgramFactory, client_for, purchase_body

from ..conftest import assert_ledger_consistent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 10


def test_ten_parallel_partial_refunds_answer_what_they_took_back():
    program = ProgramFactory()
    partner = PartnerFactory(program=program)
    member = MemberFactory(program=program)
    clients = [client_for(partner) for _ in range(THREADS)]
    bought = clients[0].post("/api/v1/transactions", purchase_body(member), format="json")
    assert bought.status_code == 201 and bought.json()["points"] == 100
    url = f"/api/v1/transactions/{bought.json()['id']}/reverse"
    start = threading.Barrier(THREADS)

    def refund(i: int):
        try:
            start.wait()
            return clients[i].post(url, {"amount": "10.00"}, format="json", HTTP_IDEMPOTENCY_KEY=f"refund-{i}")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        answers = list(pool.map(refund, range(THREADS)))

    assert [a.status_code for a in answers] == [200] * THREADS
    bodies = [a.json() for a in answers]
    assert sum(b["points_reversed"] for b in bodies) == 100
    assert [b["debt"] for b in bodies] == [0] * THREADS
    assert sorted(float(b["refunded_amount"]) for b in bodies) == [10.0 * (i + 1) for i in range(THREADS)]
    taken = LedgerEntry.objects.filter(member=member, kind=LedgerEntry.Kind.REVERSE)
    assert sum(-e.points for e in taken) == 100
    purchase = Purchase.objects.get()
    assert (purchase.refunded_amount, purchase.points_reversed) == (100, 100)
    assert assert_ledger_consistent(member).points_available == 0

    # A replay repeats the stored answer and takes nothing more.
    again = clients[3].post(url, {"amount": "10.00"}, format="json", HTTP_IDEMPOTENCY_KEY="refund-3")
    assert (again.status_code, again.json()) == (200, bodies[3])
    assert LedgerEntry.objects.filter(member=member, kind=LedgerEntry.Kind.REVERSE).count() == taken.count()
