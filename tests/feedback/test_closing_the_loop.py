"""A detractor's answer becomes a ticket with an SLA; overdue, it escalates; the 48 h contact share is measured."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail

from feedback import selectors, services
from feedback.models import Ticket
from members import services as member_services
from members.auth import member_account_delete
from tests.conftest import MemberFactory
from tests.feedback.conftest import SurveyFactory


def _answer(survey, member, score, comment=""):
    invitation = services.invitation_schedule(survey=survey, member=member, trigger="manual", reference="loop")
    services.invitation_send(invitation=invitation)
    invitation.refresh_from_db()
    score_q = survey.questions.get(kind="score")
    response = services.response_score(invitation=invitation, scores={score_q.pk: score}, language=member.language)
    if response.completed_at is None:
        text_q = survey.questions.get(kind="text")
        response = services.response_finish(
            invitation=invitation, answers={text_q.pk: comment}, language=member.language
        )
    return response


def test_detractor_to_ticket_to_escalation_with_a_frozen_clock(program, staff, on_commit):
    survey = SurveyFactory(program=program)
    member = MemberFactory(program=program, consent_email=True)
    with time_machine.travel("2026-05-04 10:00Z", tick=False), on_commit():
        response = _answer(survey, member, 2, "Waited 40 minutes.")
    ticket = response.ticket
    assert ticket.category == Ticket.Category.SURVEY
    assert ticket.priority == Ticket.Priority.HIGH
    assert ticket.due_at.isoformat().startswith("2026-05-05T10:00")
    assert any(ticket.number in m.subject for m in mail.outbox)  # the confirmation
    with time_machine.travel("2026-05-04 11:01Z", tick=False):
        assert services.tickets_escalate_overdue() == 1  # nobody acknowledged it within the hour
    with time_machine.travel("2026-05-05 09:59Z", tick=False):
        assert services.tickets_escalate_overdue() == 0
    with time_machine.travel("2026-05-05 10:15Z", tick=False):
        assert services.tickets_escalate_overdue() == 1
    ticket.refresh_from_db()
    assert ticket.escalations == 2
    assert ticket.due_at.isoformat().startswith("2026-05-06T10:15")
    followup = [m for m in mail.outbox if m.to == [member.email] and "taking longer" in m.body]
    assert len(followup) == 1


def test_csat_of_two_or_less_opens_a_ticket_but_three_does_not(program):
    survey = SurveyFactory(program=program, kind="csat")
    unhappy = _answer(survey, MemberFactory(program=program, consent_email=True), 2, "Cold food")
    neutral = _answer(survey, MemberFactory(program=program, consent_email=True), 3)
    assert unhappy.ticket is not None
    assert neutral.ticket is None


def test_share_of_detractors_contacted_within_48_hours(program, staff):
    survey = SurveyFactory(program=program)
    with time_machine.travel("2026-05-04 10:00Z", tick=False):
        quick = _answer(survey, MemberFactory(program=program, consent_email=True), 1, "a")
        slow = _answer(survey, MemberFactory(program=program, consent_email=True), 4, "b")
        _answer(survey, MemberFactory(program=program, consent_email=True), 5, "c")  # never contacted
        _answer(survey, MemberFactory(program=program, consent_email=True), 10)  # a promoter: not counted
    with time_machine.travel("2026-05-06 09:00Z", tick=False):
        services.ticket_reply(ticket=quick.ticket, author=staff, body="Sorry, we called the store.")
        services.ticket_reply(ticket=slow.ticket, author=staff, body="Internal only", internal=True)
    with time_machine.travel("2026-05-06 11:00Z", tick=False):
        services.ticket_reply(ticket=slow.ticket, author=staff, body="Sorry for the late answer.")
    loop = selectors.detractors_contacted(program=program)
    assert (loop["detractors"], loop["contacted"]) == (3, 1)
    assert loop["share"] == Decimal("33.3")


def test_no_detractors_means_no_share(program):
    assert selectors.detractors_contacted(program=program)["share"] is None


def test_a_ticket_from_a_survey_is_in_the_language_the_member_answered_in(program):
    survey = SurveyFactory(program=program)
    member = MemberFactory(program=program, consent_email=True, language="ru")
    response = _answer(survey, member, 0, "Плохо")
    assert response.ticket.language == "ru"
    assert response.ticket.messages.get().body.endswith("Плохо")
    assert response.ticket.due_at - response.ticket.created_at == timedelta(hours=24)


@pytest.mark.parametrize(
    "erase",
    [member_account_delete, member_services.member_anonymize],
    ids=["member's own request", "staff erasure in admin"],
)
def test_erasing_a_member_removes_their_words_but_keeps_scores(program, on_commit, erase):
    survey = SurveyFactory(program=program)
    member = MemberFactory(program=program, consent_email=True)
    response = _answer(survey, member, 1, "My neighbour Ion Popescu saw it")
    scheduled = services.invitation_schedule(
        survey=SurveyFactory(program=program), member=member, trigger="manual", reference="later"
    )
    with on_commit():
        erase(member=member)
    response.refresh_from_db()
    assert response.score == 1
    assert not response.answers.filter(text__contains="Popescu").exists()
    assert not response.ticket.messages.filter(body__contains="Popescu").exists()
    scheduled.refresh_from_db()
    assert scheduled.status == "skipped"
