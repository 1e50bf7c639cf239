"""Bounces and complaints posted by the provider to anymail's real webhook view (Brevo's payloads, HTTP
basic auth): the delivery is marked, the member's email consent withdrawn; soft bounces keep it."""

import base64
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns import services
from campaigns.models import Delivery
from members.models import Member
from tests.campaigns.conftest import CampaignFactory

URL = "/anymail/brevo/tracking/"


@pytest.fixture(autouse=True)
def _webhook_secret(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:s3cret", "BREVO_API_KEY": "unused"}


def _post(client, payload, secret="hook:s3cret"):  # noqa: S107 (the test's own webhook secret)
    auth = "Basic " + base64.b64encode(secret.encode()).decode()
    return client.post(URL, json.dumps(payload), content_type="application/json", HTTP_AUTHORIZATION=auth)


@pytest.fixture
def sent(program, consenting):
    member = consenting()
    campaign = CampaignFactory(program=program)
    row = {"pk": member.pk, "consent_email": True, "consent_sms": False, "phone": ""}
    services.deliveries_queue(campaign=campaign, rows=[(row, "")], now=timezone.now())
    delivery = Delivery.objects.get(campaign=campaign)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.SENT, provider_id="<abc@smtp-relay.mailin.fr>"
    )
    return delivery


def _event(kind, delivery, **extra):
    return {
        "event": kind,
        "email": delivery.member.email,
        "message-id": "<abc@smtp-relay.mailin.fr>",
        "ts_epoch": 1765000000000,
        "reason": "550 5.1.1 mailbox unknown",
        **extra,
    }


def test_the_webhook_url_is_anymails_own_view():
    assert reverse("anymail:brevo_tracking_webhook") == URL


def test_a_hard_bounce_marks_the_delivery_and_withdraws_email_consent(client, sent):
    assert _post(client, _event("hard_bounce", sent)).status_code == 200
    sent.refresh_from_db()
    assert sent.status == Delivery.Status.BOUNCED and "mailbox unknown" in sent.error
    assert Member.objects.get(pk=sent.member_id).consent_email is False
    assert _post(client, _event("hard_bounce", sent)).status_code == 200  # the provider retries: harmless


def test_a_complaint_found_by_the_metadata_marks_it_spam(client, sent):
    Delivery.objects.filter(pk=sent.pk).update(provider_id="")
    payload = _event(
        "spam", sent, **{"message-id": "<other@x>", "X-Mailin-custom": json.dumps({"delivery": str(sent.pk)})}
    )
    assert _post(client, payload).status_code == 200
    sent.refresh_from_db()
    assert sent.status == Delivery.Status.COMPLAINED
    assert Member.objects.get(pk=sent.member_id).consent_email is False


def test_a_soft_bounce_keeps_the_consent_and_opens_change_nothing(client, sent):
    assert _post(client, _event("opened", sent)).status_code == 200
    sent.refresh_from_db()
    assert sent.status == Delivery.Status.SENT
    assert _post(client, _event("soft_bounce", sent)).status_code == 200
    sent.refresh_from_db()
    assert sent.status == Delivery.Status.BOUNCED
    assert Member.objects.get(pk=sent.member_id).consent_email is True


def test_a_webhook_without_the_secret_is_refused(client, sent):
    assert _post(client, _event("hard_bounce", sent), secret="hook:wrong").status_code == 400
    assert Member.objects.get(pk=sent.member_id).consent_email is True
