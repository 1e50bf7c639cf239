"""Database connections lost under API load: every answer is a 2xx or a 503 JSON, nothing half-written,
and the same server recovers on its own."""

import threading
import time
from collections import Counter

import psycopg
import pytest
import requests
from django.db import connection

from members.models import LedgerEntry, Purchase
from members.partners.services import partner_key_create
from members.selectors import ledger_mismatches
from tests.conftest import MemberFactory, PartnerFactory
from tests.reliability.conftest import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CLIENTS = 4


def _cut_connections(allow: bool | None = None) -> int:
    """Kill every backend on the test database but this test's own; optionally refuse or allow new
    connections (ALTER DATABASE has to run from another database, hence the maintenance one)."""
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as admin:
        if allow is not None:
            name = connection.ops.quote_name(db["NAME"])
            admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS {'true' if allow else 'false'}")
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            mine = cursor.fetchone()[0]
        return admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s AND pid <> %s",
            (db["NAME"], mine),
        ).fetchone()[0]


def test_earns_during_lost_connections_are_2xx_or_503_and_nothing_is_half_written(processes):
    partner = PartnerFactory()
    members = [MemberFactory(program=partner.program) for _ in range(CLIENTS)]
    _, key = partner_key_create(partner=partner, name="till")
    # No broker: events are dispatched in the request, so that path meets the outage too.
    base = processes.server(REDIS_URL="", CONN_MAX_AGE="60")
    answers: list[tuple[str, int, dict | None]] = []
    stop = threading.Event()

    def earn(session, external_id, number):
        response = session.post(
            f"{base}/api/v1/transactions",
            json={"member": number, "external_id": external_id, "amount": "10.00", "currency": "EUR"},
            headers={"Idempotency-Key": external_id},
            timeout=60,
        )
        try:
            body = response.json()
        except ValueError:
            body = None
        return response.status_code, body

    def client(n):
        session = requests.Session()
        session.headers["Authorization"] = f"Api-Key {key}"
        i = 0
        while not stop.is_set():
            external_id = f"T{n}-{i}"
            answers.append((external_id, *earn(session, external_id, members[n].number)))
            i += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: sum(1 for a in answers if a[1] == 201) >= 20, message="earns before the outage")
        killed = _cut_connections()  # mid-request backends die
        wait_until(lambda: sum(1 for a in answers if a[1] == 201) >= 40, message="earns between the cuts")
        killed += _cut_connections(allow=False)  # and for a while no new connection is accepted
        wait_until(lambda: sum(1 for a in answers if a[1] == 503) >= 10, message="503s during the outage")
        _cut_connections(allow=True)
        outage_end = len(answers)
        wait_until(lambda: sum(1 for a in answers[outage_end:] if a[1] == 201) >= 20, message="recovery")
    finally:
        _cut_connections(allow=True)
        stop.set()
        for thread in threads:
            thread.join(timeout=120)

    statuses = Counter(status for _, status, _ in answers)
    print(f"{len(answers)} earns, {killed} backends terminated: {dict(statuses)}")
    assert set(statuses) <= {201, 503}, [a for a in answers if a[1] not in (201, 503)][:3]
    for _, status, body in answers:
        if status == 503:
            assert body["error"]["code"] == "service_unavailable"

    assert ledger_mismatches() == []
    ok = [external_id for external_id, status, _ in answers if status == 201]
    failed = [external_id for external_id, status, _ in answers if status == 503]
    stored = Counter(Purchase.objects.filter(partner=partner).values_list("external_id", flat=True))
    assert all(stored[external_id] == 1 for external_id in ok)
    assert not any(external_id in stored for external_id in failed), "a 503 left a purchase behind"
    assert set(stored) == set(ok)
    assert LedgerEntry.objects.filter(purchase__partner=partner).count() == len(ok)

    # The partner retries each failed request with its Idempotency-Key: now each earns exactly once.
    session = requests.Session()
    session.headers["Authorization"] = f"Api-Key {key}"
    by_id = {f"T{n}-": m.number for n, m in enumerate(members)}
    for external_id in failed:
        number = by_id[external_id.split("-")[0] + "-"]
        deadline = time.monotonic() + 90
        while (status := earn(session, external_id, number)[0]) == 409 and time.monotonic() < deadline:
            time.sleep(1)  # an idempotency key claimed by a request that died is free after its 60 s lease
        assert status == 201
    assert Purchase.objects.filter(partner=partner).count() == len(ok) + len(failed)
    assert ledger_mismatches() == []
