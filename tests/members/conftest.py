"""Helpers for members tests: a clock, purchases, the ledger invariant and a webhook receiver."""

import threading
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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


class Receiver:
    """Answers with the scripted statuses in turn (the last one repeats) and records each request."""

    def __init__(self, statuses: list[int]):
        self.statuses = statuses
        self.requests: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                status = receiver.statuses[min(len(receiver.requests), len(receiver.statuses)) - 1]
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"try later")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver_factory():
    started = []

    def start(statuses):
        receiver = Receiver(statuses).__enter__()
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.__exit__()
