"""Factories for feedback: surveys with their questions, staff users, and a helper to send an invitation."""

import factory
import pytest
from django.contrib.auth import get_user_model
from django.core.mail.backends.base import BaseEmailBackend

from feedback import services
from feedback.models import Question, Survey


class SurveyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Survey
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Survey {n}")
    kind = Survey.Kind.NPS
    trigger = Survey.Trigger.MANUAL
    channel = Survey.Channel.EMAIL
    title = "How likely are you to recommend us?"
    title_ro = "Cât de probabil este să ne recomandați?"
    title_it = "Quanto è probabile che ci consigli?"
    title_ru = "Насколько вероятно, что вы порекомендуете нас?"
    reminder_days = 3
    expiry_days = 14

    @factory.post_generation
    def questions(survey, create, extracted, **kwargs):
        """A score question per the kind (three for CLI) and a follow-up for unhappy answers."""
        if not create or extracted is False:
            return
        count = 3 if survey.kind == Survey.Kind.CLI else 1
        for position in range(count):
            Question.objects.create(
                survey=survey, position=position, kind=Question.Kind.SCORE, text=f"Score question {position}"
            )
        low_max = {"nps": 6, "csat": 2, "ces": 3, "cli": 6}[survey.kind]
        Question.objects.create(
            survey=survey,
            position=10,
            kind=Question.Kind.TEXT,
            text="What went wrong?",
            text_ro="Ce nu a mers bine?",
            text_it="Cosa non ha funzionato?",
            text_ru="Что пошло не так?",
            max_score=low_max,
        )


@pytest.fixture
def survey(program):
    return SurveyFactory(program=program)


@pytest.fixture
def consenting_member(program):
    from tests.conftest import MemberFactory

    return MemberFactory(program=program, consent_email=True, consent_sms=True, phone="+40720000001")


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_user("agent", "agent@example.com", "pw", is_staff=True)


@pytest.fixture
def send():
    """Schedule the survey for the member now and send it; returns the fresh invitation."""

    def _send(survey, member, reference="manual:test"):
        invitation = services.invitation_schedule(
            survey=survey, member=member, trigger=survey.trigger, reference=reference
        )
        services.invitation_send(invitation=invitation)
        invitation.refresh_from_db()
        return invitation

    return _send


class DownMailBackend(BaseEmailBackend):
    """A mail server that refuses connections."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("mail server down")


@pytest.fixture
def mail_down(settings):
    settings.EMAIL_BACKEND = "tests.feedback.conftest.DownMailBackend"

    def restore():
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    return restore
