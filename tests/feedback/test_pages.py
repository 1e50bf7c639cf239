"""Member pages: survey links without login (tampered, expired, reused, resumed, each language) and tickets."""

import re

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from feedback import services
from feedback.models import Invitation, Response, Ticket
from tests.conftest import MemberFactory
from tests.feedback.conftest import SurveyFactory


def _url(invitation) -> str:
    return reverse("feedback:answer", args=[services.invitation_token(invitation)])


def _score_field(survey) -> str:
    return f"q{survey.questions.get(kind='score').pk}"


def _comment_field(survey) -> str:
    return f"q{survey.questions.get(kind='text').pk}"


def test_a_member_answers_without_logging_in(client, survey, consenting_member, send):
    invitation = send(survey, consenting_member)
    page = client.get(_url(invitation))
    assert page.status_code == 200
    assert survey.title in page.content.decode()
    done = client.post(_url(invitation), {"step": "score", _score_field(survey): "10"})
    assert done.status_code == 200
    assert "Thank you" in done.content.decode()
    response = Response.objects.get(invitation=invitation)
    assert response.completed_at is not None and response.category == "promoter"


def test_a_tampered_link_is_refused(client, survey, consenting_member, send):
    invitation = send(survey, consenting_member)
    token = services.invitation_token(invitation)
    page = client.get(reverse("feedback:answer", args=[token[:-2] + ("AA" if token[-2:] != "AA" else "BB")]))
    assert page.status_code == 404
    assert "not valid" in page.content.decode()


def test_a_link_voided_by_a_new_nonce_is_refused(client, survey, consenting_member, send):
    invitation = send(survey, consenting_member)
    url = _url(invitation)
    Invitation.objects.filter(pk=invitation.pk).update(nonce="other")
    assert client.get(url).status_code == 404


def test_an_expired_link_is_refused(client, survey, consenting_member, send):
    with time_machine.travel("2026-03-01 09:00Z", tick=False):
        invitation = send(survey, consenting_member)
    with time_machine.travel("2026-03-15 09:00Z", tick=False):
        page = client.get(_url(invitation))
    assert page.status_code == 410
    assert "expired" in page.content.decode()


def test_a_completed_link_cannot_be_used_again(client, survey, consenting_member, send):
    invitation = send(survey, consenting_member)
    client.post(_url(invitation), {"step": "score", _score_field(survey): "9"})
    again = client.post(_url(invitation), {"step": "score", _score_field(survey): "0"})
    assert again.status_code == 409
    assert "already answered" in again.content.decode()
    assert Response.objects.get(invitation=invitation).score == 9


def test_a_detractor_can_leave_after_the_score_and_resume_with_the_follow_up(client, survey, consenting_member, send):
    invitation = send(survey, consenting_member)
    first = client.post(_url(invitation), {"step": "score", _score_field(survey): "3"})
    assert first.status_code == 302
    partial = Response.objects.get(invitation=invitation)
    assert partial.completed_at is None and partial.score == 3
    resumed = client.get(_url(invitation))
    assert "What went wrong?" in resumed.content.decode()
    change = client.get(_url(invitation) + "?step=score")
    assert re.search(r'value="3"[^>]*checked', change.content.decode())
    done = client.post(_url(invitation), {"step": "follow", _comment_field(survey): "Rude staff at the till."})
    assert "contact you" in done.content.decode()
    partial.refresh_from_db()
    assert partial.completed_at is not None
    assert partial.ticket.channel == Ticket.Channel.SURVEY
    assert "Rude staff at the till." in partial.ticket.messages.get().body


def test_an_invalid_score_shows_an_error_and_stores_nothing(client, survey, consenting_member, send):
    invitation = send(survey, consenting_member)
    page = client.post(_url(invitation), {"step": "score", _score_field(survey): "11"})
    assert page.status_code == 200
    assert not Response.objects.exists()


@pytest.mark.parametrize(
    ("language", "title", "follow_up"),
    [
        ("en", "How likely are you to recommend us?", "What went wrong?"),
        ("ro", "Cât de probabil este să ne recomandați?", "Ce nu a mers bine?"),
        ("it", "Quanto è probabile che ci consigli?", "Cosa non ha funzionato?"),
        ("ru", "Насколько вероятно, что вы порекомендуете нас?", "Что пошло не так?"),
    ],
)
def test_members_answer_in_their_language_and_the_answer_keeps_it(client, program, send, language, title, follow_up):
    survey = SurveyFactory(program=program)
    member = MemberFactory(program=program, consent_email=True, language=language)
    invitation = send(survey, member)
    assert title in mail.outbox[0].subject
    assert title in client.get(_url(invitation)).content.decode()
    client.post(_url(invitation), {"step": "score", _score_field(survey): "5"})
    assert follow_up in client.get(_url(invitation)).content.decode()
    client.post(_url(invitation), {"step": "follow", _comment_field(survey): "..."})
    assert Response.objects.get(invitation=invitation).language == language


def test_the_answer_keeps_the_language_the_member_switched_to(client, survey, program, send):
    member = MemberFactory(program=program, consent_email=True, language="ro")
    invitation = send(survey, member)
    client.cookies["django_language"] = "it"
    client.post(_url(invitation), {"step": "score", _score_field(survey): "10"})
    assert Response.objects.get(invitation=invitation).language == "it"


@pytest.fixture
def signed_in(client, program):
    user = get_user_model().objects.create_user("ana", "ana@example.com", "pw")
    member = MemberFactory(program=program, user=user)
    client.force_login(user)
    return member


def test_a_member_writes_a_complaint_and_follows_the_thread(client, signed_in, staff, on_commit):
    with on_commit():
        page = client.post(
            reverse("feedback:tickets"), {"category": "delivery", "subject": "Parcel lost", "body": "Never arrived."}
        )
    ticket = Ticket.objects.get(member=signed_in)
    assert page.url == reverse("feedback:ticket", args=[ticket.pk])
    assert ticket.channel == Ticket.Channel.MEMBER_PAGE
    assert [m.to for m in mail.outbox] == [[signed_in.email]]
    services.ticket_reply(ticket=ticket, author=staff, body="A new parcel left today.")
    services.ticket_reply(ticket=ticket, author=staff, body="Carrier is slow", internal=True)
    detail = client.get(page.url).content.decode()
    assert "A new parcel left today." in detail
    assert "Carrier is slow" not in detail
    assert "Parcel lost" in client.get(reverse("feedback:tickets")).content.decode()


def test_an_empty_complaint_shows_errors(client, signed_in):
    page = client.post(reverse("feedback:tickets"), {"category": "delivery", "subject": "", "body": ""})
    assert page.status_code == 200
    assert not Ticket.objects.exists()


def test_members_only_see_their_own_tickets(client, signed_in, program):
    other = MemberFactory(program=program)
    ticket = services.ticket_open(member=other, subject="Mine", body="Private", channel="staff")
    assert client.get(reverse("feedback:ticket", args=[ticket.pk])).status_code == 404


def test_ticket_pages_need_a_member(client, db):
    assert client.get(reverse("feedback:tickets")).status_code == 302
    client.force_login(get_user_model().objects.create_user("staffonly", "s@example.com", "pw"))
    assert client.get(reverse("feedback:tickets")).status_code == 403


def test_the_dashboard_shows_open_tickets(client, signed_in):
    ticket = services.ticket_open(member=signed_in, subject="Wrong size", body="Sent an M", channel="member_page")
    page = client.get(reverse("members:home")).content.decode()
    assert "Wrong size" in page
    assert reverse("feedback:ticket", args=[ticket.pk]) in page


def test_follow_up_answers_before_a_score_ask_for_the_score(client, survey, consenting_member, send):
    invitation = send(survey, consenting_member)
    page = client.post(_url(invitation), {"step": "follow", _comment_field(survey): "Skipping ahead"})
    assert page.status_code == 200
    assert 'name="step" value="score"' in page.content.decode()
    assert not Response.objects.exists()


def test_the_email_scale_preselects_the_clicked_score_without_storing_it(client, survey, consenting_member, send):
    invitation = send(survey, consenting_member)
    html = mail.outbox[0].alternatives[0][0]
    assert f"{_url(invitation)}?score=7" in html
    page = client.get(_url(invitation) + "?score=7").content.decode()
    assert re.search(r'value="7"[^>]*checked', page)
    assert not Response.objects.exists()


def test_pending_surveys_are_listed_with_their_link_until_answered_or_expired(client, signed_in, survey, send):
    signed_in.consent_email = True
    signed_in.save(update_fields=["consent_email"])
    invitation = send(survey, signed_in)
    link = _url(invitation)
    assert link in client.get(reverse("feedback:tickets")).content.decode()
    assert link in client.get(reverse("members:home")).content.decode()
    assert client.get(link).status_code == 200  # the listed link is the member's working survey link

    client.post(link, {"step": "score", _score_field(survey): "9"})
    assert link not in client.get(reverse("feedback:tickets")).content.decode()


def test_expired_surveys_are_not_listed(client, signed_in, survey, send):
    signed_in.consent_email = True
    signed_in.save(update_fields=["consent_email"])
    invitation = send(survey, signed_in)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=invitation.sent_at)
    assert survey.title not in client.get(reverse("feedback:tickets")).content.decode()
