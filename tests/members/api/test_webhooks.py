"""Webhooks by API: a partner registers, lists, changes, rotates, tests and redelivers its own
endpoints, against a real receiver on 127.0.0.1; deliveries verify with the Standard Webhooks library."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from standardwebhooks import Webhook as StandardWebhook
from standardwebhooks import WebhookVerificationError

from members.models import AuditEntry, WebhookDelivery, WebhookEndpoint
from members.partners import tasks
from tests.conftest import purchase_body
from tests.members.partners.test_webhooks import SECRET

URL = "/api/v1/webhooks"


def _register(api, url, events=("points.earned",), **extra):
    response = api.post(URL, {"url": url, "events": list(events), **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _lower(headers: dict) -> dict:
    # urllib sends "Webhook-id"; header names are case-insensitive.
    return {name.lower(): value for name, value in headers.items()}


def _send_test(api, on_commit, endpoint):
    with on_commit():
        response = api.post(f"{URL}/{endpoint['id']}/test")
    assert response.status_code == 202
    return response


def test_a_partner_registers_an_endpoint_and_verifies_a_real_delivery(api, member, on_commit, receiver_factory):
    receiver = receiver_factory([200])
    endpoint = _register(api, receiver.url)
    assert endpoint["secret"].startswith("whsec_")
    assert endpoint["events"] == ["points.earned"] and endpoint["is_active"] is True

    with on_commit():
        assert (
            api.post(URL.replace("webhooks", "transactions"), purchase_body(member), format="json").status_code == 201
        )
    tasks.webhooks_retry_due.delay()

    headers, body = receiver.requests[0]
    payload = StandardWebhook(endpoint["secret"]).verify(body, headers)
    assert payload["type"] == "points.earned"
    with pytest.raises(WebhookVerificationError):
        StandardWebhook(SECRET).verify(body, headers)  # another secret does not verify

    listed = api.get(URL).json()
    assert [e["id"] for e in listed["results"]] == [endpoint["id"]]
    assert "secret" not in listed["results"][0]  # shown at registration and rotation only
    deliveries = api.get(f"{URL}/{endpoint['id']}/deliveries").json()["results"]
    assert [(d["event_type"], d["status"], d["attempts"]) for d in deliveries] == [("points.earned", "succeeded", 1)]
    assert deliveries[0]["log"][0]["status_code"] == 200
    assert AuditEntry.objects.filter(action="webhook.register").count() == 1


def test_a_partner_may_bring_its_own_secret_in_the_standard_form(api):
    assert _register(api, "https://shop.example.com/hooks", secret=SECRET)["secret"] == SECRET
    bad = api.post(
        URL, {"url": "https://shop.example.com/h", "events": ["points.earned"], "secret": "whsec_x"}, format="json"
    )
    assert bad.status_code == 400
    assert "secret" in bad.json()["error"]["fields"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://shop.example.com/h", "events": ["points.earned"]}, "url"),
        ({"url": "https://shop.example.com/h", "events": []}, "events"),
        ({"url": "https://shop.example.com/h", "events": ["points.stolen"]}, "events"),
        ({"url": "https://shop.example.com/h", "events": ["points.earned"], "partner": 2}, "partner"),
    ],
)
def test_bad_endpoints_are_a_400_naming_the_field(api, body, field):
    response = api.post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not WebhookEndpoint.objects.exists()


def test_private_targets_are_refused_as_in_admin(api, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    response = api.post(URL, {"url": "http://127.0.0.1:8000/h", "events": ["points.earned"]}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_webhook"
    assert "private or local address" in response.json()["error"]["fields"]["url"][0]


def test_update_changes_only_what_is_sent(api):
    endpoint = _register(api, "https://shop.example.com/hooks")
    response = api.patch(f"{URL}/{endpoint['id']}", {"is_active": False}, format="json")
    assert response.status_code == 200
    assert (response.json()["is_active"], response.json()["url"]) == (False, "https://shop.example.com/hooks")
    response = api.patch(f"{URL}/{endpoint['id']}", {"events": ["points.reversed", "points.earned"]}, format="json")
    assert response.json()["events"] == ["points.earned", "points.reversed"]  # the registry's order
    assert api.get(f"{URL}/{endpoint['id']}").json()["is_active"] is False
    assert api.patch(f"{URL}/{endpoint['id']}", {"events": []}, format="json").status_code == 400


def test_rotation_signs_with_both_secrets_during_the_overlap_only(api, member, on_commit, receiver_factory):
    receiver = receiver_factory([200])
    endpoint = _register(api, receiver.url, events=("points.earned", "member.enrolled"))
    old_secret = endpoint["secret"]
    rotated = api.post(f"{URL}/{endpoint['id']}/rotate-secret", {"overlap_hours": 1}, format="json").json()
    new_secret = rotated["secret"]
    assert new_secret != old_secret and rotated["previous_secret_expires_at"]

    _send_test(api, on_commit, endpoint)
    headers, body = receiver.requests[-1]
    assert len(_lower(headers)["webhook-signature"].split(" ")) == 2
    StandardWebhook(new_secret).verify(body, headers)
    StandardWebhook(old_secret).verify(body, headers)  # a receiver that has not switched yet

    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=1)):
        _send_test(api, on_commit, endpoint)
    headers, body = receiver.requests[-1]
    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=1)):
        StandardWebhook(new_secret).verify(body, headers)
        with pytest.raises(WebhookVerificationError):
            StandardWebhook(old_secret).verify(body, headers)

    at_once = api.post(f"{URL}/{endpoint['id']}/rotate-secret", {"overlap_hours": 0}, format="json").json()
    assert at_once["previous_secret_expires_at"] is None
    _send_test(api, on_commit, endpoint)
    headers, body = receiver.requests[-1]
    with pytest.raises(WebhookVerificationError):
        StandardWebhook(new_secret).verify(body, headers)
    assert api.post(f"{URL}/{endpoint['id']}/rotate-secret", {"overlap_hours": 169}, format="json").status_code == 400


def test_a_test_event_reaches_even_an_inactive_endpoint_and_can_be_redelivered(api, on_commit, receiver_factory):
    receiver = receiver_factory([500, 200])
    endpoint = _register(api, receiver.url, is_active=False)
    response = _send_test(api, on_commit, endpoint)
    assert response.status_code == 202
    delivery = response.json()
    assert (delivery["event"], delivery["event_type"]) == (None, "webhook.test")
    assert delivery["status"] == "pending"
    tried = api.get(f"{URL}/{endpoint['id']}/deliveries/{delivery['id']}").json()
    assert (tried["status"], tried["attempts"], tried["last_status_code"]) == ("pending", 1, 500)  # retried later
    body = json.loads(receiver.requests[0][1])
    assert body == {"id": None, "type": "webhook.test", "created": body["created"], "data": body["data"]}

    with on_commit():
        again = api.post(f"{URL}/{endpoint['id']}/deliveries/{delivery['id']}/redeliver")
    assert again.status_code == 202
    assert again.json()["status"] == "pending"
    redelivered = api.get(f"{URL}/{endpoint['id']}/deliveries/{delivery['id']}").json()
    assert (redelivered["status"], redelivered["attempts"]) == ("succeeded", 1)  # a fresh budget
    assert receiver.requests[0][1] == receiver.requests[1][1]
    ids = [_lower(headers)["webhook-id"] for headers, _ in receiver.requests]
    assert ids == [str(delivery["id"])] * 2
    assert [attempt["status_code"] for attempt in redelivered["log"]] == [500, 200]
    failed = api.get(f"{URL}/{endpoint['id']}/deliveries?status=failed").json()
    assert failed["results"] == []
    assert api.get(f"{URL}/{endpoint['id']}/deliveries?status=lost").status_code == 400


def test_another_partners_endpoints_and_deliveries_are_not_found(api, other_api, receiver_factory):
    endpoint = _register(api, receiver_factory([200]).url)
    delivery = api.post(f"{URL}/{endpoint['id']}/test").json()
    assert other_api.get(URL).json()["results"] == []
    for path in ("", "/deliveries", f"/deliveries/{delivery['id']}"):
        assert other_api.get(f"{URL}/{endpoint['id']}{path}").status_code == 404
    for path in ("/rotate-secret", "/test", f"/deliveries/{delivery['id']}/redeliver"):
        assert other_api.post(f"{URL}/{endpoint['id']}{path}", {}, format="json").status_code == 404
    assert other_api.patch(f"{URL}/{endpoint['id']}", {"is_active": False}, format="json").status_code == 404
    assert api.get(f"{URL}/99999999999999999999").status_code == 404
    assert WebhookEndpoint.objects.get().is_active is True
    assert WebhookDelivery.objects.count() == 1


def test_registering_is_idempotent_with_a_key(api):
    body = {"url": "https://shop.example.com/hooks", "events": ["points.earned"]}
    first = api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="reg-1")
    again = api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="reg-1")
    assert first.content == again.content and again["Idempotent-Replayed"] == "true"
    assert WebhookEndpoint.objects.count() == 1
