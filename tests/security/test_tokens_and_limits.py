"""Signed links (survey, unsubscribe) expire, are bound to their purpose and member, and fail cleanly
when tampered; sign-up and survey answers are rate limited with a clear message, never a 500."""

from datetime import timedelta

import pytest
import time_machine
from django.core import signing
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from feedback import services as feedback_services
from feedback.models import Response
from members import auth, links
from members.models import Member
from tests.conftest import MemberFactory
from tests.feedback.conftest import SurveyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def ana(program):
    return MemberFactory(program=program, email="ana@example.com", consent_email=True)


@pytest.fixture
def bob(program):
    return MemberFactory(program=program, email="bob@example.com", consent_email=True)


def _sent(program, member):
    survey = SurveyFactory(program=program, expiry_days=400)  # the row's own expiry out of the way
    invitation = feedback_services.invitation_schedule(
        survey=survey, member=member, trigger=survey.trigger, reference=f"t:{member.pk}"
    )
    feedback_services.invitation_send(invitation=invitation)
    invitation.refresh_from_db()
    return invitation


def _answer_path(token: str) -> str:
    return reverse("feedback:answer", args=[token])


def _tamper(token: str) -> str:
    return token[:-2] + ("AA" if token[-2:] != "AA" else "BB")


# --- survey links --------------------------------------------------------------------------------


def test_a_survey_link_expires_after_survey_link_max_age(client, program, ana, settings):
    settings.SURVEY_LINK_MAX_AGE = 7 * 24 * 3600
    invitation = _sent(program, ana)
    path = _answer_path(feedback_services.invitation_token(invitation))
    assert client.get(path).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        page = client.get(path)
    assert page.status_code == 410
    assert "expired" in page.content.decode()


def test_a_survey_link_is_the_same_in_the_email_and_on_the_page_and_counts_from_sending(program, ana):
    invitation = _sent(program, ana)
    first = feedback_services.invitation_token(invitation)
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        assert feedback_services.invitation_token(invitation) == first


def test_a_tampered_survey_link_is_refused_cleanly(client, program, ana):
    invitation = _sent(program, ana)
    page = client.get(_answer_path(_tamper(feedback_services.invitation_token(invitation))))
    assert page.status_code == 404
    assert "not valid" in page.content.decode()


def test_a_token_signed_for_another_purpose_does_not_open_a_survey(client, program, ana):
    invitation = _sent(program, ana)
    # Same payload, signed as an unsubscribe link or a sign-in link: another salt, refused.
    for salt in ("members.unsubscribe", "members.signin-link"):
        forged = signing.TimestampSigner(salt=salt).sign_object({"i": invitation.pk, "n": invitation.nonce})
        assert client.get(_answer_path(forged)).status_code == 404
    unsubscribe = links.unsubscribe_token(ana, "email")
    assert client.get(_answer_path(unsubscribe)).status_code == 404


def test_a_survey_link_opens_only_its_own_members_invitation(client, program, ana, bob):
    mine, theirs = _sent(program, ana), _sent(program, bob)
    token = feedback_services.invitation_token(mine)
    # Pointing the signed payload at Bob's invitation breaks the signature.
    _, _, rest = token.partition(":")
    forged_payload = signing.b64_encode(signing.JSONSerializer().dumps({"i": theirs.pk, "n": mine.nonce})).decode()
    assert client.get(_answer_path(f"{forged_payload}:{rest}")).status_code == 404
    # Bob's id with Ana's nonce, properly signed (a leaked key aside): the nonce does not match.
    signed = signing.TimestampSigner(salt=feedback_services.TOKEN_SALT).sign_object({"i": theirs.pk, "n": mine.nonce})
    assert client.get(_answer_path(signed)).status_code == 404
    client.post(_answer_path(token), {"step": "score", f"q{mine.survey.questions.get(kind='score').pk}": "9"})
    assert Response.objects.get(invitation=mine).member == ana
    assert not Response.objects.filter(invitation=theirs).exists()


# --- unsubscribe links ---------------------------------------------------------------------------


def test_an_unsubscribe_link_works_then_expires_after_unsubscribe_link_max_age(client, ana, settings):
    settings.UNSUBSCRIBE_LINK_MAX_AGE = 30 * 24 * 3600
    path = reverse("members:unsubscribe", args=[links.unsubscribe_token(ana, "email")])
    assert client.get(path).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        page = client.post(path)
    assert page.status_code == 410
    assert "expired" in page.content.decode()
    ana.refresh_from_db()
    assert ana.consent_email is True


@pytest.mark.parametrize("script_prefix", ["/", "/stand-in/"])
def test_the_unsubscribe_url_is_the_one_reverse_gives_under_any_script_prefix(ana, settings, script_prefix):
    # The path is resolved once per script prefix with a stand-in token (a bulk send asks once per member)
    from django.urls import get_script_prefix, set_script_prefix

    before = get_script_prefix()
    set_script_prefix(script_prefix)
    try:
        for channel in links.CHANNELS:
            url = links.unsubscribe_url(ana, channel)
            token = url.rstrip("/").rsplit("/", 1)[1]
            assert url == settings.SITE_URL + reverse("members:unsubscribe", args=[token])
            assert url.startswith(settings.SITE_URL + script_prefix)
            assert links.unsubscribe_token_read(token) == (ana, channel)
    finally:
        set_script_prefix(before)


def test_unsubscribe_links_default_to_a_year(settings):
    assert settings.UNSUBSCRIBE_LINK_MAX_AGE >= 30 * 24 * 3600  # CAN-SPAM: at least 30 days


def test_a_tampered_or_wrong_purpose_unsubscribe_link_changes_nothing(client, program, ana, bob):
    token = links.unsubscribe_token(ana, "email")
    forged_sms = signing.dumps({"m": bob.pk, "c": "email"}, salt="feedback.invitation")
    sign_in = auth.signin_token(auth._account_for(bob))
    for bad in (_tamper(token), forged_sms, sign_in, "garbage"):
        page = client.post(reverse("members:unsubscribe", args=[bad]))
        assert page.status_code == 404
        assert "not valid" in page.content.decode()
    assert Member.objects.filter(consent_email=True).count() == 2


def test_an_unsubscribe_link_is_bound_to_its_member_and_channel(client, ana, bob):
    client.post(reverse("members:unsubscribe", args=[links.unsubscribe_token(ana, "sms")]))
    ana.refresh_from_db()
    bob.refresh_from_db()
    assert ana.consent_email is True and bob.consent_email is True  # only Ana's SMS consent went
    client.post(reverse("members:unsubscribe", args=[links.unsubscribe_token(ana, "email")]))
    ana.refresh_from_db()
    bob.refresh_from_db()
    assert ana.consent_email is False and bob.consent_email is True


# --- rate limits ---------------------------------------------------------------------------------


def _signup_data(n: int) -> dict:
    return {"first_name": "Ana", "email": f"new{n}@example.com", "accept_terms": "on"}


def test_sign_ups_are_rate_limited_per_client_with_a_clear_message(client, program, settings):
    settings.SIGNUP_ATTEMPTS_PER_WINDOW = 3
    program.is_default = True
    program.save(update_fields=["is_default"])
    for n in range(3):
        assert client.post("/signup/", _signup_data(n), REMOTE_ADDR="203.0.113.7").status_code == 302
        client.logout()
    refused = client.post("/signup/", _signup_data(9), REMOTE_ADDR="203.0.113.7")
    assert refused.status_code == 429
    assert "Too many sign-ups" in refused.content.decode()
    assert not Member.objects.filter(email="new9@example.com").exists()
    # Another client is not affected.
    assert client.post("/signup/", _signup_data(10), REMOTE_ADDR="198.51.100.1").status_code == 302


def test_behind_a_proxy_the_limit_counts_the_forwarded_client(client, program, settings):
    settings.SIGNUP_ATTEMPTS_PER_WINDOW = 1
    settings.RATE_LIMIT_CLIENT_HEADER = "HTTP_X_REAL_IP"
    program.is_default = True
    program.save(update_fields=["is_default"])
    assert client.post("/signup/", _signup_data(1), HTTP_X_REAL_IP="203.0.113.1").status_code == 302
    client.logout()
    assert client.post("/signup/", _signup_data(2), HTTP_X_REAL_IP="203.0.113.2").status_code == 302
    client.logout()
    assert client.post("/signup/", _signup_data(3), HTTP_X_REAL_IP="203.0.113.1").status_code == 429


def test_survey_answers_are_rate_limited_with_a_clear_message(client, program, ana, settings):
    settings.SURVEY_SUBMISSIONS_PER_WINDOW = 2
    invitation = _sent(program, ana)
    path = _answer_path(feedback_services.invitation_token(invitation))
    field = f"q{invitation.survey.questions.get(kind='score').pk}"
    for _ in range(2):
        assert client.post(path, {"step": "score", field: "99"}).status_code == 200  # invalid, re-shown
    refused = client.post(path, {"step": "score", field: "10"})
    assert refused.status_code == 429
    assert "Too many answers" in refused.content.decode()
    assert not Response.objects.filter(invitation=invitation, completed_at__isnull=False).exists()


def test_sign_in_link_requests_are_rate_limited(client, ana, mailoutbox):
    for _ in range(auth.LINK_REQUESTS_PER_WINDOW + 2):
        client.post("/signin/", {"email": "ana@example.com"})
    assert len(mailoutbox) == auth.LINK_REQUESTS_PER_WINDOW


def test_a_survey_link_sent_before_links_carried_a_time_still_opens_until_the_invitation_expires(client, program, ana):
    invitation = _sent(program, ana)
    legacy = signing.Signer(salt=feedback_services.TOKEN_SALT).sign_object(
        {"i": invitation.pk, "n": invitation.nonce}, compress=True
    )
    assert client.get(_answer_path(legacy)).status_code == 200
    with time_machine.travel(invitation.expires_at + timedelta(minutes=1)):
        assert client.get(_answer_path(legacy)).status_code == 410
