"""Standard Webhooks secrets: the migration re-encodes existing secrets so that receivers keep
verifying X-Fidelis-Signature with the text they hold while a Standard Webhooks library verifies the
new headers with the re-encoded secret; the admin registers, rotates and tests through the services."""

import base64
import hashlib
import hmac

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from standardwebhooks import Webhook as StandardWebhook

from members.models import AuditEntry, WebhookDelivery, WebhookEndpoint
from members.partners.services import webhook_headers, webhook_secret_new, webhook_secret_problem
from tests.members.partners.test_webhooks import SECRET

OLD_SECRET = "whsec_Xq3-_zLhA8b0Nm2rK9pT4vW6yB1cD5eF7gH0jK2lM4n"  # token_urlsafe, as generated before


def _migration() -> tuple[tuple[str, str], tuple[str, str]]:
    loader = MigrationLoader(connection)
    target = next(
        key for key in loader.disk_migrations if key[0] == "members" and key[1].endswith("_webhook_standard_secrets")
    )
    before = next(dep for dep in loader.disk_migrations[target].dependencies if dep[0] == "members")
    return target, before


@pytest.mark.django_db(transaction=True)
def test_existing_secrets_are_re_encoded_keeping_their_key_bytes():
    target, before = _migration()
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    try:
        old = executor.loader.project_state([before]).apps
        Program, Partner = old.get_model("members", "Program"), old.get_model("members", "Partner")
        partner = Partner.objects.create(program=Program.objects.create(name="Shop", slug="shop"), name="Till")
        old.get_model("members", "WebhookEndpoint").objects.create(
            partner=partner, url="https://shop.example.com/h", secret=OLD_SECRET, events=["points.earned"]
        )
        executor = MigrationExecutor(connection)
        executor.migrate([target])

        endpoint = WebhookEndpoint.objects.get()
        assert endpoint.secret == "whsec_" + base64.b64encode(OLD_SECRET.encode()).decode()
        delivery = WebhookDelivery.objects.create(endpoint=endpoint, event_type="points.earned", body='{"id":1}')
        headers = webhook_headers(endpoint=endpoint, delivery=delivery, now=timezone.now())
        # A receiver still checking the older header with the text it was given keeps working...
        timestamp = headers["X-Fidelis-Timestamp"]
        legacy = hmac.new(OLD_SECRET.encode(), f"{timestamp}.{delivery.body}".encode(), hashlib.sha256).hexdigest()
        assert headers["X-Fidelis-Signature"] == f"sha256={legacy}"
        # ...and a Standard Webhooks library takes the re-encoded secret.
        assert StandardWebhook(endpoint.secret).verify(delivery.body, headers) == {"id": 1}

        executor = MigrationExecutor(connection)
        executor.migrate([before])  # and back: the text again
        assert old.get_model("members", "WebhookEndpoint").objects.get().secret == OLD_SECRET
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def test_generated_secrets_are_in_the_standard_form():
    secret = webhook_secret_new()
    assert webhook_secret_problem(secret) is None
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    assert secret != webhook_secret_new()


@pytest.mark.parametrize(
    "secret",
    [
        OLD_SECRET,  # url-safe alphabet: a Standard Webhooks library would derive other bytes
        "whsec_" + base64.b64encode(b"x" * 23).decode(),  # under the specification's 24 bytes
        base64.b64encode(b"x" * 32).decode(),  # no prefix
        "whsec_" + base64.b64encode(b"x" * 67).decode(),
    ],
)
def test_secrets_a_standard_library_cannot_use_are_refused(secret):
    assert webhook_secret_problem(secret)


def test_admin_registers_rotates_and_tests_through_the_services(admin_client, partner, on_commit):
    response = admin_client.post(
        "/admin/members/webhookendpoint/add/",
        {"partner": partner.pk, "url": "http://127.0.0.1:9/h", "events": ["points.earned"], "secret": SECRET},
    )
    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.secret, endpoint.is_active) == (SECRET, False)

    change = f"/admin/members/webhookendpoint/{endpoint.pk}/change/"
    assert admin_client.get(change).status_code == 200
    response = admin_client.post(
        change, {"url": "http://127.0.0.1:9/other", "events": ["points.reversed"], "is_active": "on"}
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.events, endpoint.is_active, endpoint.secret) == (
        "http://127.0.0.1:9/other",
        ["points.reversed"],
        True,
        SECRET,  # read-only on change: it changes by rotation
    )

    admin_client.post("/admin/members/webhookendpoint/", {"action": "rotate_secret", "_selected_action": [endpoint.pk]})
    endpoint.refresh_from_db()
    assert (endpoint.previous_secret, webhook_secret_problem(endpoint.secret)) == (SECRET, None)
    assert endpoint.previous_secret_expires_at > timezone.now()

    with on_commit():
        admin_client.post("/admin/members/webhookendpoint/", {"action": "send_test", "_selected_action": [endpoint.pk]})
    test = WebhookDelivery.objects.get()
    assert (test.event_type, test.attempts) == ("webhook.test", 1)  # nothing listens on port 9: retried later
    actions = set(AuditEntry.objects.filter(target_id=str(endpoint.pk)).values_list("action", flat=True))
    assert {"webhook.register", "webhook.change", "webhook.rotate_secret", "webhook.test"} <= actions


def test_the_admin_refuses_a_secret_a_standard_library_cannot_use(admin_client, partner):
    response = admin_client.post(
        "/admin/members/webhookendpoint/add/",
        {"partner": partner.pk, "url": "https://shop.example.com/h", "events": ["points.earned"], "secret": OLD_SECRET},
    )
    assert response.status_code == 200
    assert "secret" in response.context["adminform"].form.errors
    assert not WebhookEndpoint.objects.exists()
