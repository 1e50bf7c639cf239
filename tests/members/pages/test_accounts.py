"""Sign-up, sign-in by one-time link or password, sign-out, language, unsubscribe."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from members import auth, links, services
from members.models import LedgerEntry, Member
from tests.conftest import MemberFactory, ProgramFactory
from tests.members.pages.conftest import buy, signup

pytestmark = pytest.mark.django_db


def _link_from_mail(message) -> str:
    return re.search(r"https?://\S+/signin/link/\S+/", message.body).group(0)


def _path(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def test_signup_enrols_in_the_default_program_with_welcome_gift_and_signs_in(client, program):
    response = client.post(
        reverse("members:signup"),
        {"first_name": "Ion", "email": "Ion@Example.com", "consent_email": "on", "accept_terms": "on"},
    )
    assert response.status_code == 302
    member = Member.objects.get(email="ion@example.com")
    assert member.program == program and member.consent_email and not member.consent_sms
    assert member.points_available == 200
    page = client.get(reverse("members:home"))
    assert "Ion" in page.text and "200" in page.text


def test_signup_by_program_slug_and_referral_link(client, program):
    other = ProgramFactory(slug="coffee")
    referrer = MemberFactory(program=other)
    url = reverse("members:signup_program", args=["coffee"]) + f"?ref={referrer.referral_code}"
    assert referrer.referral_code in client.get(url).text  # the code is prefilled
    client.post(
        url,
        {
            "first_name": "Eva",
            "email": "eva@example.com",
            "referral_code": referrer.referral_code.lower(),
            "accept_terms": "on",
        },
    )
    eva = Member.objects.get(email="eva@example.com")
    assert eva.program == other and eva.referred_by == referrer


def test_signup_refusals_show_on_the_form_and_store_nothing(client, program, member):
    taken = client.post(reverse("members:signup"), {"first_name": "A", "email": member.email, "accept_terms": "on"})
    assert taken.status_code == 200 and "already registered" in taken.text
    bad_code = client.post(
        reverse("members:signup"),
        {"first_name": "B", "email": "b@example.com", "referral_code": "NOPE", "accept_terms": "on"},
    )
    assert "referral code does not exist" in bad_code.text
    weak = client.post(
        reverse("members:signup"),
        {"first_name": "C", "email": "c@example.com", "password": "123", "accept_terms": "on"},
    )
    assert "too short" in weak.text
    no_terms = client.post(reverse("members:signup"), {"first_name": "D", "email": "d@example.com"})
    assert no_terms.status_code == 200
    assert not Member.objects.filter(email__in=["b@example.com", "c@example.com", "d@example.com"]).exists()


def test_signup_without_a_default_program_is_404(client, db):
    assert client.get(reverse("members:signup")).status_code == 404
    assert client.get(reverse("members:signup_program", args=["nope"])).status_code == 404


def test_signin_link_is_emailed_works_once(client, member):
    response = client.post(reverse("members:signin"), {"email": "ANA@example.com"})
    assert response.status_code == 302 and response.url == reverse("members:signin_sent")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ana@example.com"]
    path = _path(_link_from_mail(mail.outbox[0]))
    assert "Sign me in" in client.get(path).text  # GET only asks: mail scanners do not spend the link
    assert client.post(path).status_code == 302
    assert client.get(reverse("members:home")).context["member"] == member
    client.post(reverse("members:signout"))
    assert client.get(reverse("members:history")).status_code == 302  # signed out
    assert client.post(path).status_code == 400  # used once: spent


def test_signin_link_expires_after_15_minutes(client, member):
    client.post(reverse("members:signin"), {"email": member.email})
    path = _path(_link_from_mail(mail.outbox[0]))
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert client.post(path).status_code == 400
    assert client.get("/signin/link/garbage/").status_code == 400


def test_signin_for_unknown_email_says_the_same_and_sends_nothing(client, member):
    response = client.post(reverse("members:signin"), {"email": "nobody@example.com"})
    assert response.url == reverse("members:signin_sent") and mail.outbox == []


def test_member_enrolled_elsewhere_gets_an_account_with_the_first_link(client, program):
    imported = MemberFactory(program=program, email="imported@example.com")
    assert imported.user is None
    client.post(reverse("members:signin"), {"email": "imported@example.com"})
    client.post(_path(_link_from_mail(mail.outbox[0])))
    imported.refresh_from_db()
    assert imported.user is not None and client.get("/").context["member"] == imported


def test_sign_in_links_are_rate_limited_per_address(client, member):
    for _ in range(auth.LINK_REQUESTS_PER_WINDOW + 3):
        client.post(reverse("members:signin"), {"email": member.email})
    assert len(mail.outbox) == auth.LINK_REQUESTS_PER_WINDOW


def test_password_signin_and_wrong_password(client, program):
    signup(program, email="pw@example.com", password="correct horse battery")
    wrong = client.post(reverse("members:signin"), {"email": "pw@example.com", "password": "nope nope nope"})
    assert wrong.status_code == 200 and "do not match" in wrong.text
    ok = client.post(
        reverse("members:signin"),
        {"email": "pw@example.com", "password": "correct horse battery", "next": "/history/"},
    )
    assert ok.status_code == 302 and ok.url == "/history/"
    evil = client.post(
        reverse("members:signin"),
        {"email": "pw@example.com", "password": "correct horse battery", "next": "https://evil.example/"},
    )
    assert evil.url == "/"


def test_signin_sets_the_members_language(client, program):
    signup(program, email="ro@example.com", password="correct horse battery", language="ro")
    client.post(reverse("members:signin"), {"email": "ro@example.com", "password": "correct horse battery"})
    assert client.cookies["django_language"].value == "ro"
    assert 'lang="ro"' in client.get(reverse("members:history")).text


def test_language_switch_is_stored_on_the_member(member_client, member):
    response = member_client.post(reverse("members:language"), {"language": "it", "next": "/history/"})
    assert response.status_code == 302 and response.url == "/history/"
    member.refresh_from_db()
    assert member.language == "it"
    assert 'lang="it"' in member_client.get("/history/").text


def test_pages_need_a_signed_in_member(client, admin_user):
    for name in ("history", "referrals", "membership", "profile", "profile_delete", "history_csv"):
        response = client.get(reverse(f"members:{name}"))
        assert response.status_code == 302 and response.url.startswith("/signin/?next=")
    client.force_login(admin_user)  # staff, not a member
    assert client.get(reverse("members:history")).status_code == 403
    assert client.get("/").status_code == 200  # the landing page


def test_signout_needs_post(member_client):
    assert member_client.get(reverse("members:signout")).status_code == 405


def test_unsubscribe_link_asks_then_unsubscribes_without_login(client, program):
    member = signup(program, email="u@example.com", consent_email=True, consent_sms=True)
    url = links.unsubscribe_url(member, "email")
    path = _path(url)
    assert "u@example.com" in client.get(path).text
    member.refresh_from_db()
    assert member.consent_email
    client.post(path)
    member.refresh_from_db()
    assert not member.consent_email and member.consent_sms


def test_one_click_unsubscribe_rfc8058_needs_no_csrf_token(program):
    from django.test import Client

    member = signup(program, email="one@example.com", consent_email=True)
    csrf_client = Client(enforce_csrf_checks=True)
    response = csrf_client.post(_path(links.unsubscribe_url(member)), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    member.refresh_from_db()
    assert not member.consent_email
    assert csrf_client.get("/unsubscribe/forged/").status_code == 404


def test_referral_rewards_reach_both_members(program):
    referrer = signup(program)
    friend = signup(program, email="friend@example.com", referral_code=referrer.referral_code)
    buy(friend, 30)
    assert LedgerEntry.objects.filter(member=referrer, kind="referral").get().points == 150


def test_demo_member_gets_a_password_once(client, program):
    assert auth.demo_member_login(program=program) == "Member login: no demo member."
    signup(program, email=auth.DEMO_MEMBER_EMAIL)
    line = auth.demo_member_login(program=program)
    assert line.startswith(f"Member login: {auth.DEMO_MEMBER_EMAIL} / {auth.DEMO_MEMBER_PASSWORD}")
    assert auth.demo_member_login(program=program) == line  # idempotent
    response = client.post(
        reverse("members:signin"), {"email": auth.DEMO_MEMBER_EMAIL, "password": auth.DEMO_MEMBER_PASSWORD}
    )
    assert response.status_code == 302 and response.url == "/"


def test_sms_unsubscribe_link_only_stops_sms(client, program):
    member = signup(program, email="sms@example.com", consent_email=True, consent_sms=True)
    page = client.get(_path(links.unsubscribe_url(member, "sms")))
    assert "by SMS" in page.text
    client.post(_path(links.unsubscribe_url(member, "sms")))
    member.refresh_from_db()
    assert not member.consent_sms and member.consent_email


def test_a_suspended_member_cannot_use_a_link_or_the_pages(client, member):
    client.post(reverse("members:signin"), {"email": member.email})
    path = _path(_link_from_mail(mail.outbox[0]))
    services.member_set_status(member=member, status=Member.Status.SUSPENDED)
    assert client.post(path).status_code == 400
    client.force_login(member.user)
    assert client.get(reverse("members:history")).status_code == 403


def test_password_guessing_is_cut_off_per_address(client, program):
    signup(program, email="guess@example.com", password="correct horse battery")
    for i in range(auth.PASSWORD_TRIES_PER_WINDOW):
        client.post(reverse("members:signin"), {"email": "guess@example.com", "password": f"wrong guess {i}"})
    right = client.post(reverse("members:signin"), {"email": "guess@example.com", "password": "correct horse battery"})
    assert right.status_code == 200 and "Too many attempts" in right.text  # even the right one waits


def test_successful_password_signins_do_not_lock_the_member_out(client, program):
    signup(program, email="daily@example.com", password="correct horse battery")
    for _ in range(auth.PASSWORD_TRIES_PER_WINDOW + 5):
        ok = client.post(reverse("members:signin"), {"email": "daily@example.com", "password": "correct horse battery"})
        assert ok.status_code == 302
        client.post(reverse("members:signout"))


def test_a_success_clears_the_failures_of_that_email(client, program):
    signup(program, email="typo@example.com", password="correct horse battery")
    for round_ in range(3):
        for i in range(auth.PASSWORD_TRIES_PER_WINDOW - 1):
            client.post(reverse("members:signin"), {"email": "typo@example.com", "password": f"typo {round_} {i}"})
        ok = client.post(reverse("members:signin"), {"email": "typo@example.com", "password": "correct horse battery"})
        assert ok.status_code == 302
        client.post(reverse("members:signout"))


def test_password_guessing_across_many_emails_is_cut_off_per_client_address(client, program, settings):
    settings.RATE_LIMIT_CLIENT_HEADER = "HTTP_X_REAL_IP"
    signup(program, email="victim@example.com", password="correct horse battery")
    guesser = {"HTTP_X_REAL_IP": "203.0.113.9"}
    for i in range(auth.PASSWORD_TRIES_PER_CLIENT):
        client.post(reverse("members:signin"), {"email": f"nobody{i}@example.com", "password": "guess"}, **guesser)
    refused = client.post(
        reverse("members:signin"), {"email": "victim@example.com", "password": "correct horse battery"}, **guesser
    )
    assert refused.status_code == 200 and "Too many attempts" in refused.text
    # Another client behind the same proxy is not blocked, and the victim's own count is untouched.
    ok = client.post(
        reverse("members:signin"),
        {"email": "victim@example.com", "password": "correct horse battery"},
        HTTP_X_REAL_IP="198.51.100.7",
    )
    assert ok.status_code == 302
