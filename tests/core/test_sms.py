"""The Twilio SMS backend: the real `twilio` client against a loopback server speaking Twilio's Messages
API (the remote cannot be reached from tests)."""

import pytest
from twilio.base.exceptions import TwilioRestException

from core.sms import send_sms
from tests.twilio_sink import INVALID_TO, TwilioSink


@pytest.fixture
def twilio(settings):
    sink = TwilioSink().start()
    settings.SMS_BACKEND = "core.sms.TwilioSmsBackend"
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = sink.account_sid, sink.auth_token
    settings.TWILIO_FROM, settings.TWILIO_API_BASE = "+40700000000", sink.url
    settings.TWILIO_STATUS_CALLBACK_URL = "https://loyalty.example.com/campaigns/sms/status/"
    yield sink
    sink.stop()


def test_an_sms_goes_to_twilios_messages_api_and_returns_its_sid(twilio):
    sid = send_sms(to="+40721000111", body="Hello")
    (message,) = twilio.messages
    assert sid == message["sid"] and sid.startswith("SM")
    assert message["To"] == "+40721000111" and message["From"] == "+40700000000" and message["Body"] == "Hello"
    assert message["StatusCallback"] == "https://loyalty.example.com/campaigns/sms/status/"


def test_a_messaging_service_sender_is_sent_as_such(twilio, settings):
    settings.TWILIO_FROM = "MG" + "2" * 32
    send_sms(to="+40721000111", body="Hi")
    assert twilio.messages[0]["MessagingServiceSid"] == settings.TWILIO_FROM and "From" not in twilio.messages[0]


def test_a_refusal_raises_twilios_error(twilio, settings):
    with pytest.raises(TwilioRestException) as refused:
        send_sms(to="0721", body="Hi")
    assert refused.value.code == INVALID_TO and refused.value.status == 400
    settings.TWILIO_AUTH_TOKEN = "wrong"
    with pytest.raises(TwilioRestException) as unauthorised:
        send_sms(to="+40721000111", body="Hi")
    assert unauthorised.value.status == 401
    assert twilio.messages == []
