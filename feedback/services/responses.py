"""Answers: the score step, the follow-up questions, and what completing a response sets off (the
member's NPS, engagement points, a follow-up ticket for detractors and unhappy customers, the
`survey.answered` event)."""

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, DomainError
from feedback import scoring, selectors
from feedback.events import SurveyAnswered
from feedback.models import Answer, Invitation, Question, Response, Survey, Ticket
from feedback.services.tickets import ticket_open
from members.models import Member
from members.outbox import event_record
from members.services import member_nps_set, points_engage


def _response_for(invitation: Invitation, language: str, now: datetime) -> Response:
    response, _ = Response.objects.select_for_update().get_or_create(
        invitation=invitation,
        defaults={
            "survey": invitation.survey,
            "member": invitation.member,
            "language": language,
            "started_at": now,
        },
    )
    if response.completed_at is not None:
        raise Conflict("already_answered", "This survey was already answered. Thank you!")
    return response


@transaction.atomic
def response_score(*, invitation: Invitation, scores: dict[int, int], language: str) -> Response:
    """Store the score answers (a partial response the member can come back to). Completes the response
    at once when no follow-up question applies to the score."""
    survey = invitation.survey
    low, high = scoring.SCALES[survey.kind]
    questions = list(survey.questions.filter(kind=Question.Kind.SCORE))
    errors = {}
    for question in questions:
        value = scores.get(question.pk)
        if value is None or not low <= value <= high:
            errors[f"q{question.pk}"] = [f"Choose a value from {low} to {high}."]
    if errors or not questions:
        raise DomainError("invalid_answer", "Please answer every question.", fields=errors)
    now = timezone.now()
    response = _response_for(invitation, language, now)
    for question in questions:
        Answer.objects.update_or_create(response=response, question=question, defaults={"score": scores[question.pk]})
    response.score = scoring.response_score([scores[q.pk] for q in questions])
    response.category = scoring.nps_category(int(response.score)) if survey.kind == Survey.Kind.NPS else ""
    response.language = language
    response.save(update_fields=["score", "category", "language"])
    if not selectors.follow_ups_for(survey=survey, score=response.score):
        _complete(response, now)
    return response


@transaction.atomic
def response_finish(*, invitation: Invitation, answers: dict[int, str], language: str) -> Response:
    """Store the follow-up answers and complete the response."""
    now = timezone.now()
    response = _response_for(invitation, language, now)
    if response.score is None:
        raise DomainError("score_missing", "Please give a score first.")
    errors = {}
    for question in selectors.follow_ups_for(survey=invitation.survey, score=response.score):
        value = (answers.get(question.pk) or "").strip()
        if question.kind == Question.Kind.CHOICE and value and value not in question.options:
            errors[f"q{question.pk}"] = ["Choose one of the options."]
        elif question.required and not value:
            errors[f"q{question.pk}"] = ["This answer is required."]
        elif value:
            Answer.objects.update_or_create(response=response, question=question, defaults={"text": value})
    if errors:
        raise DomainError("invalid_answer", "Please check your answers.", fields=errors)
    response.language = language
    response.save(update_fields=["language"])
    _complete(response, now)
    return response


def follow_up_subject(survey: Survey, score: Decimal) -> str:
    return f"{survey.kind.upper()} {score:g}: {survey.name}"


def _complete(response: Response, now: datetime) -> None:
    survey, member = response.survey, response.member
    response.completed_at = now
    response.save(update_fields=["completed_at"])
    Invitation.objects.filter(pk=response.invitation_id).update(status=Invitation.Status.ANSWERED)
    if survey.kind == Survey.Kind.NPS:
        member_nps_set(member=member, score=int(response.score))
    if member.status == Member.Status.ACTIVE:
        points_engage(member=member, action="survey_completed", reference=f"feedback.response:{response.pk}")
    if scoring.needs_follow_up(survey.kind, response.score):
        comments = "\n".join(
            f"{a.question.text}: {a.text}" for a in response.answers.select_related("question") if a.text
        )
        response.ticket = ticket_open(
            member=member,
            subject=follow_up_subject(survey, response.score),
            body=comments or "(no comment)",
            category=Ticket.Category.SURVEY,
            priority=Ticket.Priority.HIGH,
            channel=Ticket.Channel.SURVEY,
            language=response.language,
        )
        response.save(update_fields=["ticket"])
    event_record(
        SurveyAnswered(
            member=member.number,
            survey=survey.pk,
            kind=survey.kind,
            score=str(response.score),
            category=response.category,
            response=response.pk,
        ),
        program=member.program,
        member=member,
    )
