"""OWASP API7 (SSRF): in production a partner's webhook URL cannot make Fidelis post into its own
network. The check is on the address the socket reached, so DNS names are covered too."""

import pytest

from members.admin.partners import WebhookEndpointForm
from members.models import WebhookDelivery, WebhookEndpoint
from members.partners import outbound, tasks
from tests.conftest import client_for, purchase_body
from tests.members.conftest import Receiver
from tests.members.partners.test_webhooks import SECRET

pytestmark = pytest.mark.django_db

PRIVATE_URLS = [
    "http://127.0.0.1:8000/admin/",
    "http://localhost/hooks",
    "http://10.1.2.3/hooks",
    "http://192.168.1.1/hooks",
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "http://[::1]/hooks",
    "http://[::ffff:127.0.0.1]/hooks",
    "http://100.64.0.1/hooks",  # carrier-grade NAT
    "http://0.0.0.0/hooks",
]


@pytest.fixture
def production_egress(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_the_admin_refuses_private_webhook_urls_in_production(production_egress, partner, url):
    form = WebhookEndpointForm(
        data={"partner": partner.pk, "url": url, "events": ["points.earned"], "secret": SECRET, "is_active": "on"}
    )
    assert not form.is_valid()
    assert "private or local address" in str(form.errors["url"])


def test_a_public_address_is_accepted(production_egress):
    assert outbound.url_problem("https://93.184.215.14/hooks") is None  # a literal: no DNS needed


def test_a_delivery_to_a_private_address_is_refused_at_connection_time(production_egress, partner, member, on_commit):
    """Saved before the rule (or a name that later resolves to a private address): nothing is sent."""
    with Receiver([200]) as receiver:
        WebhookEndpoint.objects.create(partner=partner, url=receiver.url, secret=SECRET, events=["points.earned"])
        api = client_for(partner)
        with on_commit():
            assert api.post("/api/v1/transactions", purchase_body(member), format="json").status_code == 201
        tasks.webhooks_retry_due.delay()
        assert receiver.requests == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.PENDING and delivery.last_status_code is None
    assert "not a public address" in delivery.log[0]["response"]


def test_development_may_post_to_local_receivers(settings, partner, member, on_commit):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    with Receiver([200]) as receiver:
        WebhookEndpoint.objects.create(partner=partner, url=receiver.url, secret=SECRET, events=["points.earned"])
        with on_commit():
            client_for(partner).post("/api/v1/transactions", purchase_body(member), format="json")
        tasks.webhooks_retry_due.delay()
        assert len(receiver.requests) == 1


def test_a_redirecting_receiver_is_not_followed_and_its_answer_is_only_stored(settings, partner, member, on_commit):
    """API10: a receiver's answer is data, never instructions: redirects are not followed (they
    could point inside the network), the body is kept as a 500-character text excerpt."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    with Receiver([302]) as receiver:
        WebhookEndpoint.objects.create(partner=partner, url=receiver.url, secret=SECRET, events=["points.earned"])
        with on_commit():
            client_for(partner).post("/api/v1/transactions", purchase_body(member), format="json")
        tasks.webhooks_retry_due.delay()
        assert len(receiver.requests) == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.PENDING and delivery.last_status_code == 302
    assert len(delivery.log[0]["response"]) <= 500
