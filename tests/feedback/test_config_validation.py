"""A survey members could not finish (no score question) cannot be switched on or sent; questions
and SLA policies keep sensible numbers."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from core.errors import DomainError
from feedback import services
from feedback.models import Invitation, Question, SlaPolicy, Survey
from tests.config_forms import admin_add_form, errors_text
from tests.conftest import MemberFactory

from .conftest import SurveyFactory

pytestmark = pytest.mark.django_db


def _survey_form(program, *questions, active=True, kind="nps") -> dict:
    data = {
        "program": program.pk,
        "name": "After purchase",
        "kind": kind,
        "title_en": "Recommend us?",
        "trigger": "manual",
        "channel": "email",
        "delay_hours": 0,
        "every_months": 6,
        "quarantine_days": 30,
        "reminder_days": 3,
        "expiry_days": 14,
        "questions-TOTAL_FORMS": str(len(questions)),
        "questions-INITIAL_FORMS": "0",
    }
    if active:
        data["is_active"] = "on"
    for i, (kind_, text) in enumerate(questions):
        data.update({f"questions-{i}-position": i, f"questions-{i}-kind": kind_, f"questions-{i}-text_en": text})
    return data


def test_an_active_survey_without_a_score_question_is_a_form_error_and_stores_nothing(admin_client, program):
    page = admin_client.post(reverse("admin:feedback_survey_add"), _survey_form(program))
    assert page.status_code == 200
    assert "Add a score question first" in page.content.decode()
    page = admin_client.post(reverse("admin:feedback_survey_add"), _survey_form(program, ("text", "Anything else?")))
    assert page.status_code == 200 and "Add a score question first" in page.content.decode()
    assert not Survey.objects.exists()


def test_a_survey_is_saved_off_without_questions_and_on_with_its_score_question(admin_client, program):
    page = admin_client.post(reverse("admin:feedback_survey_add"), _survey_form(program, active=False))
    assert page.status_code == 302
    page = admin_client.post(reverse("admin:feedback_survey_add"), _survey_form(program, ("score", "How likely…?")))
    assert page.status_code == 302
    assert Survey.objects.filter(is_active=True).get().questions.count() == 1


def test_a_cli_survey_needs_its_three_score_questions(admin_client, program):
    page = admin_client.post(
        reverse("admin:feedback_survey_add"), _survey_form(program, ("score", "Recommend?"), kind="cli")
    )
    assert page.status_code == 200 and "exactly 3 score questions" in page.content.decode()


def test_a_survey_without_questions_cannot_be_sent(admin_client, program):
    survey = SurveyFactory(program=program, questions=False)  # switched on before this rule existed
    member = MemberFactory(program=program, consent_email=True)

    page = admin_client.post(reverse("admin:feedback_survey_send", args=[survey.pk]), {"numbers": member.number})
    assert page.status_code == 200 and "Add a score question first" in page.content.decode()
    with pytest.raises(DomainError) as refused:
        services.survey_send_manual(survey=survey, member_ids=[member.pk])
    assert refused.value.code == "survey_unanswerable"
    survey.trigger = Survey.Trigger.PURCHASE
    survey.save(update_fields=["trigger"])
    services.surveys_schedule_after(trigger=Survey.Trigger.PURCHASE, member=member, reference="purchase:1")
    assert not Invitation.objects.exists()


def test_questions_and_sla_policies_keep_sensible_numbers(admin_user, program):
    survey = SurveyFactory(program=program)
    question = Question(survey=survey, kind="text", text="Why?", min_score=8, max_score=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        question.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        Question.objects.create(survey=survey, kind="choice", text="Which?", choices="")
    form = admin_add_form(
        admin_user, SlaPolicy(program=program, priority="high", acknowledge_hours=48, resolve_hours=8)
    )
    assert not form.is_valid() and "no less than acknowledging" in errors_text(form)
