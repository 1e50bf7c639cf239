"""Idempotency-Key: replay, reuse with another body, in-flight retries, expiry; and the concurrent
case on PostgreSQL."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from core.partitions import is_partitioned
from members.models import IdempotencyKey, LedgerEntry, Purchase
from members.partners.services import IDEMPOTENCY_LOCK, idempotency_purge, request_fingerprint
from tests.conftest import MemberFactory, PartnerFactory, ProgramFactory, client_for, purchase_body


def test_a_retry_replays_the_first_response_byte_for_byte(api, member):
    first = api.post("/api/v1/transactions", purchase_body(member), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        again = api.post("/api/v1/transactions", purchase_body(member), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert again["Content-Type"] == first["Content-Type"]
    assert LedgerEntry.objects.filter(member=member, kind=LedgerEntry.Kind.EARN).count() == 1


def test_a_replayed_refund_takes_points_back_once(api, member):
    purchase = api.post("/api/v1/transactions", purchase_body(member), format="json").json()
    url = f"/api/v1/transactions/{purchase['id']}/reverse"
    for _ in range(3):
        response = api.post(url, {"amount": "10.00"}, format="json", HTTP_IDEMPOTENCY_KEY="refund-1")
        assert response.status_code == 200
    assert Purchase.objects.get(pk=purchase["id"]).refunded_amount == 10


def test_the_same_key_with_another_body_is_422(api, member):
    api.post("/api/v1/transactions", purchase_body(member), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    response = api.post(
        "/api/v1/transactions", purchase_body(member, amount="7.00"), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert Purchase.objects.count() == 1


def test_the_same_key_on_another_endpoint_is_422(api, member):
    api.post("/api/v1/transactions/simulate", purchase_body(member), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    response = api.post("/api/v1/transactions", purchase_body(member), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert response.status_code == 422


def test_errors_are_replayed_too(api, member):
    body = purchase_body(member, currency="USD")
    first = api.post("/api/v1/transactions", body, format="json", HTTP_IDEMPOTENCY_KEY="bad")
    again = api.post("/api/v1/transactions", body, format="json", HTTP_IDEMPOTENCY_KEY="bad")
    assert first.status_code == again.status_code == 400
    assert again.content == first.content


def _in_flight(partner, key: str, body: dict, locked_until) -> IdempotencyKey:
    # The bytes APIClient sends for format="json".
    fingerprint = request_fingerprint(method="POST", path="/api/v1/transactions", body=JSONRenderer().render(body))
    return IdempotencyKey.objects.create(
        partner=partner, key=key, request_hash=fingerprint, locked_until=locked_until, created_at=timezone.now()
    )


def test_a_retry_while_the_first_is_in_flight_is_409(api, partner, member):
    body = purchase_body(member)
    _in_flight(partner, "busy", body, timezone.now() + IDEMPOTENCY_LOCK)
    response = api.post("/api/v1/transactions", body, format="json", HTTP_IDEMPOTENCY_KEY="busy")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_in_use"
    assert response["Retry-After"] == "1"
    assert not Purchase.objects.exists()


def test_a_key_left_by_a_crashed_request_is_taken_over(api, partner, member):
    body = purchase_body(member)
    _in_flight(partner, "crashed", body, timezone.now() - timedelta(seconds=1))
    response = api.post("/api/v1/transactions", body, format="json", HTTP_IDEMPOTENCY_KEY="crashed")
    assert response.status_code == 201
    assert IdempotencyKey.objects.get(key="crashed").status_code == 201


def test_keys_are_per_partner(api, other_api, member):
    a = api.post("/api/v1/transactions", purchase_body(member), format="json", HTTP_IDEMPOTENCY_KEY="same")
    b = other_api.post("/api/v1/transactions", purchase_body(member), format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["id"] != b.json()["id"]


def test_a_key_longer_than_255_characters_is_refused(api, member):
    response = api.post("/api/v1/transactions", purchase_body(member), format="json", HTTP_IDEMPOTENCY_KEY="k" * 256)
    assert response.status_code == 400
    assert not Purchase.objects.exists()


def test_keys_are_kept_a_day_then_purged(api, member):
    api.post("/api/v1/transactions", purchase_body(member), format="json", HTTP_IDEMPOTENCY_KEY="old")
    assert idempotency_purge(now=timezone.now() + timedelta(hours=23)) == 0
    if is_partitioned(IdempotencyKey._meta.db_table):
        # PostgreSQL: the expired key no longer counts (test_partitions) and its month is dropped whole.
        assert idempotency_purge(now=timezone.now() + timedelta(hours=25)) == 0
        return
    assert idempotency_purge(now=timezone.now() + timedelta(hours=25)) == 1
    assert not IdempotencyKey.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_earn_once():
    partner = PartnerFactory(program=ProgramFactory())
    member = MemberFactory(program=partner.program)
    body = purchase_body(member)
    start = threading.Barrier(6)
    statuses = []

    def send():
        client = client_for(partner)
        start.wait()
        try:
            response = client.post("/api/v1/transactions", body, format="json", HTTP_IDEMPOTENCY_KEY="race")
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(set(statuses)) <= [201, 409]
    assert 201 in statuses
    assert LedgerEntry.objects.filter(member=member, kind=LedgerEntry.Kind.EARN).count() == 1
    assert Purchase.objects.count() == 1
