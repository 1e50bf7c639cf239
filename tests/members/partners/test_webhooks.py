"""Webhooks against a real HTTP server on 127.0.0.1: signature, retry with backoff, scoping,
giving up, and re-sending from admin."""

import base64
import hashlib
import hmac
import json
import time
from datetime import timedelta
from itertools import pairwise

import pytest
import time_machine
from django.utils import timezone
from standardwebhooks import Webhook as StandardWebhook

from members.models import WebhookDelivery, WebhookEndpoint
from members.partners import tasks
from members.partners.services import WEBHOOK_MAX_ATTEMPTS
from tests.conftest import purchase_body

# A secret as Fidelis generates it: whsec_ and the base64 of 32 bytes.
SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()


def _endpoint(partner, url, events=("points.earned",)):
    return WebhookEndpoint.objects.create(partner=partner, url=url, secret=SECRET, events=list(events))


def _earn(api, member, on_commit, external_id="ORD-1"):
    with on_commit():
        response = api.post("/api/v1/transactions", purchase_body(member, external_id=external_id), format="json")
    assert response.status_code == 201
    return response.json()


def test_delivery_is_signed_and_retried_with_backoff_until_it_succeeds(
    api, partner, member, on_commit, receiver_factory
):
    receiver = receiver_factory([500, 200])
    _endpoint(partner, receiver.url)
    purchase = _earn(api, member, on_commit)

    tasks.webhooks_retry_due.delay()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert timedelta(seconds=50) < delivery.next_attempt_at - timezone.now() <= timedelta(minutes=1)

    tasks.webhooks_retry_due.delay()  # not due yet: nothing is sent
    assert len(receiver.requests) == 1

    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        tasks.webhooks_retry_due.delay()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 2, 200)
    assert [attempt["status_code"] for attempt in delivery.log] == [500, 200]

    headers, body = receiver.requests[-1]
    assert receiver.requests[0][1] == body  # every attempt sends the same bytes
    timestamp = headers["X-Fidelis-Timestamp"]
    # The older header, as README tells receivers to check it (key: the bytes after whsec_, decoded).
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    expected = hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Fidelis-Signature"], f"sha256={expected}")
    # And the Standard Webhooks headers, checked by the specification's own library.
    assert StandardWebhook(SECRET).verify(body, headers)["id"] == json.loads(body)["id"]
    ids = [{k.lower(): v for k, v in sent.items()}["webhook-id"] for sent, _ in receiver.requests]
    assert ids == [headers["X-Fidelis-Delivery"], str(delivery.pk)]  # the same on every attempt
    assert headers["X-Fidelis-Event"] == "points.earned"
    event = json.loads(body)
    assert event["type"] == "points.earned"
    assert event["data"]["purchase"] == purchase["id"]
    assert event["data"]["points"] == purchase["points"]


def test_the_backoff_grows_and_the_delivery_gives_up(partner, member, api, on_commit, receiver_factory):
    receiver = receiver_factory([503])
    _endpoint(partner, receiver.url)
    _earn(api, member, on_commit)
    now = timezone.now()
    gaps = []
    for _ in range(WEBHOOK_MAX_ATTEMPTS):
        with time_machine.travel(now):
            tasks.webhooks_retry_due.delay()
        delivery = WebhookDelivery.objects.get()
        if delivery.next_attempt_at:
            gaps.append(delivery.next_attempt_at - now)
            now = delivery.next_attempt_at
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.attempts == WEBHOOK_MAX_ATTEMPTS == len(receiver.requests)
    assert all(later > 2 * earlier for earlier, later in pairwise(gaps))


def test_an_unreachable_endpoint_is_logged_and_retried(api, partner, member, on_commit):
    _endpoint(partner, "http://127.0.0.1:9/nothing-listens-here")
    _earn(api, member, on_commit)
    tasks.webhooks_retry_due.delay()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending"
    assert delivery.last_status_code is None
    assert delivery.log[0]["response"]


def test_partners_hear_only_about_their_own_transactions_and_chosen_events(
    api, other_api, partner, other_partner, member, on_commit, receiver_factory
):
    mine = _endpoint(partner, receiver_factory([200]).url, events=("points.earned", "member.enrolled"))
    theirs = _endpoint(other_partner, receiver_factory([200]).url, events=("points.earned", "member.enrolled"))
    reversals_only = _endpoint(partner, receiver_factory([200]).url, events=("points.reversed",))
    _earn(api, member, on_commit)
    with on_commit():
        api.post("/api/v1/members", {"email": "new@example.com"}, format="json")

    def types(endpoint):
        return sorted(WebhookDelivery.objects.filter(endpoint=endpoint).values_list("event_type", flat=True))

    assert types(mine) == ["member.enrolled", "points.earned"]
    assert types(theirs) == ["member.enrolled"]  # a member of the program, but not their purchase
    assert types(reversals_only) == []


def test_inactive_endpoints_get_nothing(api, partner, member, on_commit, receiver_factory):
    endpoint = _endpoint(partner, receiver_factory([200]).url)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    _earn(api, member, on_commit)
    assert not WebhookDelivery.objects.exists()


def test_staff_resend_a_delivery_from_admin(admin_client, api, partner, member, on_commit, receiver_factory):
    receiver = receiver_factory([200])
    _endpoint(partner, receiver.url)
    _earn(api, member, on_commit)
    tasks.webhooks_retry_due.delay()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "succeeded"

    with on_commit():
        response = admin_client.post(
            "/admin/members/webhookdelivery/", {"action": "resend", "_selected_action": [delivery.pk]}
        )
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    assert len(delivery.log) == 2
    assert len(receiver.requests) == 2
    assert admin_client.get(f"/admin/members/webhookdelivery/{delivery.pk}/change/").status_code == 200


@pytest.mark.redis
@pytest.mark.postgres
def test_with_a_broker_a_worker_delivers_right_after_the_purchase(celery_worker, receiver_factory):
    from tests.conftest import MemberFactory, PartnerFactory, client_for

    partner = PartnerFactory()
    member = MemberFactory(program=partner.program)
    receiver = receiver_factory([200])
    _endpoint(partner, receiver.url)
    response = client_for(partner).post("/api/v1/transactions", purchase_body(member), format="json")
    assert response.status_code == 201
    # The worker dispatches the event and sends the delivery; wait (bounded) for it to arrive.
    deadline = time.monotonic() + 30
    while not receiver.requests and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(receiver.requests) == 1
    assert json.loads(receiver.requests[0][1])["data"]["purchase"] == response.json()["id"]
    while WebhookDelivery.objects.filter(status="succeeded").count() < 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert WebhookDelivery.objects.get().status == "succeeded"
