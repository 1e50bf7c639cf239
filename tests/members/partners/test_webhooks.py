"""Webhooks against a real HTTP server on 127.0.0.1: signature, retry with backoff, scoping,
giving up, and re-sending from admin."""

import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise

import pytest
import time_machine
from django.utils import timezone

from members.models import WebhookDelivery, WebhookEndpoint
from members.partners import tasks
from members.partners.services import WEBHOOK_MAX_ATTEMPTS
from tests.conftest import purchase_body

SECRET = "whsec_test"


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
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Fidelis-Signature"], f"sha256={expected}")
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
