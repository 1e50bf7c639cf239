"""No personal data in logs: the redaction filter sits on every handler settings.LOGGING defines, and
a session of real traffic logged at DEBUG (SQL with its parameters included) shows no email, phone
number, API key or signed link."""

import io
import logging
import re

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.urls import reverse

from core.redaction import RedactFilter, redact
from feedback import services as feedback_services
from members import links
from members.models import Member
from tests.conftest import MemberFactory, PartnerFactory, client_for, purchase_body
from tests.feedback.conftest import SurveyFactory

pytestmark = pytest.mark.django_db

EMAIL = "ana.pop+loyal@example.com"
PHONE = "+40721234567"
LOUD = ["", "django", "django.request", "django.server", "django.db.backends", "members", "feedback", "celery"]


def test_every_configured_handler_has_the_redaction_filter():
    assert settings.LOGGING["handlers"]
    for name, handler in settings.LOGGING["handlers"].items():
        assert "redact" in handler.get("filters", []), name
    assert settings.LOGGING["filters"]["redact"]["()"] == "core.redaction.RedactFilter"


@pytest.fixture
def log_lines():
    """The real handler settings.LOGGING put on the root logger, writing into a buffer, with every
    logger at DEBUG and SQL logged with its parameters."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "stdout")
    assert any(isinstance(f, RedactFilter) for f in handler.filters)
    buffer = io.StringIO()
    previous_stream = handler.setStream(buffer)
    levels = {name: logging.getLogger(name).level for name in LOUD}
    for name in LOUD:
        logging.getLogger(name).setLevel(logging.DEBUG)
    handler.setLevel(logging.DEBUG)
    connection.force_debug_cursor = True
    cache.clear()
    try:
        yield buffer
    finally:
        connection.force_debug_cursor = False
        handler.setStream(previous_stream)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def test_a_session_of_traffic_logs_no_personal_data(client, program, log_lines, mailoutbox):
    secrets_seen: list[str] = [EMAIL, PHONE, "ana.pop"]
    # Enrol, with email and phone.
    member = MemberFactory(program=program, email=EMAIL, phone=PHONE, consent_email=True, consent_sms=True)
    # A sign-in link by email.
    client.post(reverse("members:signin"), {"email": EMAIL})
    assert mailoutbox
    secrets_seen += re.findall(r"/signin/link/([^/\s]+)/", mailoutbox[-1].body)
    # Earn through the partner API.
    api = client_for(PartnerFactory(program=program))
    secrets_seen.append(api.key)
    assert api.post("/api/v1/transactions", purchase_body(member), format="json").status_code == 201
    # Answer a survey through its signed link.
    survey = SurveyFactory(program=program)
    invitation = feedback_services.invitation_schedule(
        survey=survey, member=member, trigger=survey.trigger, reference="logs"
    )
    feedback_services.invitation_send(invitation=invitation)
    invitation.refresh_from_db()
    token = feedback_services.invitation_token(invitation)
    secrets_seen.append(token)
    score = f"q{survey.questions.get(kind='score').pk}"
    client.post(reverse("feedback:answer", args=[token]), {"step": "score", score: "10"})
    # Refused requests are logged with their path (django.request): a tampered unsubscribe link.
    unsubscribe = links.unsubscribe_token(member, "email")
    secrets_seen.append(unsubscribe)
    client.get(reverse("members:unsubscribe", args=[unsubscribe[:-1] + "x"]))
    # A handler that logs a value it should not have.
    logging.getLogger("members").warning("member %s (%s) asked with key %s", EMAIL, PHONE, api.key)

    output = log_lines.getvalue()
    assert "SELECT" in output and "[email]" in output  # the capture really saw the traffic
    assert Member.objects.filter(email=EMAIL).exists()
    leaked = [value for value in secrets_seen if value and value in output]
    assert leaked == [], [line for line in output.splitlines() if any(v in line for v in leaked)][:5]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail to ana.pop+x@mail.example.co.uk failed", "mail to [email] failed"),
        ("SMS to +40 721 234 567 queued", "SMS to [phone] queued"),
        ("call 0721 234 567", "call [phone]"),
        ("Authorization: Api-Key AbCdEf12.abcdefghijklmnopqrstuvwxyz012345", "Authorization: Api-Key [redacted]"),
        ("key AbCdEf12.abcdefghijklmnopqrstuvwxyz012345 used", "key [api-key] used"),
        (
            "GET /signin/link/eyJ1IjoxfQ:1xVbmu:Hue3K_DIPASB4AyLqZ1hgwuuh6hMqH6hA6bXd1NBzIs/ 200",
            "GET /signin/link/[token]/ 200",
        ),
        ("secret whsec_abcDEF123", "secret [secret]"),
        ("/api?password=hunter2&x=1", "/api?password=[redacted]&x=1"),
        # What support needs stays: member numbers, amounts, dates, times, ids.
        ("member 123456789012 earned 100.00 EUR at 2026-11-23 21:30:05", None),
        ("delivery 42 failed after 3 attempts (HTTP 503)", None),
    ],
)
def test_redaction_patterns(text, expected):
    assert redact(text) == (text if expected is None else expected)
