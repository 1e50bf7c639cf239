"""Campaign SMS through the Twilio backend (the real client against tests/twilio_sink.py), and Twilio's
delivery-status callbacks, signed as Twilio signs them and checked with twilio's RequestValidator."""

import pytest
from django.urls import reverse
from twilio.request_validator import RequestValidator

from campaigns import services
from campaigns.models import Delivery
from members.models import Member
from tests.campaigns.conftest import CampaignFactory
from tests.twilio_sink import TwilioSink

CALLBACK = "https://loyalty.example.com/campaigns/sms/status/"


@pytest.fixture
def twilio(settings):
    sink = TwilioSink().start()
    settings.SMS_BACKEND = "core.sms.TwilioSmsBackend"
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = sink.account_sid, sink.auth_token
    settings.TWILIO_FROM, settings.TWILIO_API_BASE = "+40700000000", sink.url
    settings.TWILIO_STATUS_CALLBACK_URL = CALLBACK
    yield sink
    sink.stop()


@pytest.fixture
def texted(program, consenting, twilio):
    member = consenting(consent_email=False, consent_sms=True, phone="+40721000111", first_name="Ana")
    campaign = CampaignFactory(program=program, channel_email=False, channel_sms=True)
    services.campaign_chunk(campaign=campaign, occurrence="", low=member.pk, high=member.pk + 1)
    return Delivery.objects.get(campaign=campaign)


def _callback(client, auth_token, **fields):
    signature = RequestValidator(auth_token).compute_signature(CALLBACK, fields)
    return client.post(reverse("campaigns:sms_status"), fields, HTTP_X_TWILIO_SIGNATURE=signature)


def test_a_campaign_sms_leaves_through_twilio_and_keeps_its_sid(texted, twilio):
    (message,) = twilio.messages
    assert texted.status == Delivery.Status.SENT and texted.channel == Delivery.Channel.SMS
    assert texted.provider_id == message["sid"]
    assert message["To"] == "+40721000111" and message["Body"].startswith("Hi Ana")
    assert message["StatusCallback"] == CALLBACK


def test_an_undelivered_status_marks_the_delivery_failed_with_twilios_code(client, texted, twilio):
    ok = _callback(client, twilio.auth_token, MessageSid=texted.provider_id, MessageStatus="delivered")
    assert ok.status_code == 204
    texted.refresh_from_db()
    assert texted.status == Delivery.Status.SENT
    failed = _callback(
        client, twilio.auth_token, MessageSid=texted.provider_id, MessageStatus="undelivered", ErrorCode="30003"
    )
    assert failed.status_code == 204
    texted.refresh_from_db()
    assert texted.status == Delivery.Status.FAILED and "30003" in texted.error
    assert Member.objects.get(pk=texted.member_id).consent_sms is True


def test_a_member_who_replied_stop_loses_the_sms_consent(client, texted, twilio):
    _callback(client, twilio.auth_token, MessageSid=texted.provider_id, MessageStatus="failed", ErrorCode="21610")
    assert Member.objects.get(pk=texted.member_id).consent_sms is False


def test_a_callback_with_a_wrong_signature_is_refused_and_changes_nothing(client, texted):
    forged = _callback(client, "not-the-token", MessageSid=texted.provider_id, MessageStatus="failed")
    assert forged.status_code == 403
    texted.refresh_from_db()
    assert texted.status == Delivery.Status.SENT
    assert client.get(reverse("campaigns:sms_status")).status_code == 405
