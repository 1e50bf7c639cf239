"""Invitations: triggers, fatigue rules (quarantine, consent), reminders once, expiry."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from core.sms import ConsoleSmsBackend
from feedback import services, tasks
from feedback.models import Invitation, Survey
from members import services as member_services
from members.models import EarningRule
from tests.conftest import MemberFactory, PartnerFactory, TierFactory
from tests.feedback.conftest import SurveyFactory


def test_a_survey_goes_out_by_email_with_a_signed_link_and_an_unsubscribe_header(survey, consenting_member, send):
    invitation = send(survey, consenting_member)
    assert invitation.status == Invitation.Status.SENT
    assert invitation.expires_at == invitation.sent_at + timedelta(days=14)
    [message] = mail.outbox
    assert message.to == [consenting_member.email]
    assert services.invitation_url(invitation) in message.body
    assert "List-Unsubscribe" in message.extra_headers


def test_sms_surveys_use_the_sms_backend(program, consenting_member, send):
    survey = SurveyFactory(program=program, channel=Survey.Channel.SMS)
    ConsoleSmsBackend.sent.clear()
    invitation = send(survey, consenting_member)
    assert invitation.status == Invitation.Status.SENT
    [(to, body)] = ConsoleSmsBackend.sent
    assert to == consenting_member.phone
    assert services.invitation_url(invitation) in body


@pytest.mark.parametrize(
    ("channel", "profile", "reason"),
    [
        ("email", {"consent_email": False}, "no_consent"),
        ("sms", {"consent_sms": False, "phone": "+40720000002"}, "no_consent"),
        ("sms", {"consent_sms": True, "phone": ""}, "no_contact"),
    ],
)
def test_no_invitation_without_consent_or_contact_for_the_channel(program, send, channel, profile, reason):
    member = MemberFactory(program=program, **{"consent_email": True, **profile})
    invitation = send(SurveyFactory(program=program, channel=channel), member)
    assert (invitation.status, invitation.skip_reason) == ("skipped", reason)
    assert not mail.outbox


def test_quarantine_spans_all_surveys_and_ends_after_its_days(program, consenting_member, send):
    nps = SurveyFactory(program=program, kind=Survey.Kind.NPS)
    csat = SurveyFactory(program=program, kind=Survey.Kind.CSAT)
    with time_machine.travel("2026-01-01 10:00Z", tick=False):
        assert send(nps, consenting_member).status == "sent"
    with time_machine.travel("2026-01-30 10:00Z", tick=False):
        skipped = send(csat, consenting_member, reference="r1")
    assert (skipped.status, skipped.skip_reason) == ("skipped", "quarantine")
    with time_machine.travel("2026-01-31 10:01Z", tick=False):
        assert send(csat, consenting_member, reference="r2").status == "sent"


def test_a_purchase_schedules_the_survey_after_its_delay(program, consenting_member, on_commit):
    SurveyFactory(program=program, trigger=Survey.Trigger.PURCHASE, delay_hours=48)
    partner = PartnerFactory(program=program)
    with time_machine.travel("2026-02-01 12:00Z", tick=False), on_commit():
        member_services.purchase_record(
            member=consenting_member, partner=partner, external_id="P-1", amount=Decimal("40"), currency="EUR"
        )
    invitation = Invitation.objects.get(member=consenting_member)
    assert invitation.partner == partner
    assert invitation.reference.startswith("purchase:")
    with time_machine.travel("2026-02-03 11:59Z", tick=False):
        assert tasks.invitations_send_due.delay().get() == {"sent": 0, "skipped": 0}
    with time_machine.travel("2026-02-03 12:00Z", tick=False):
        assert tasks.invitations_send_due.delay().get() == {"sent": 1, "skipped": 0}
    assert len([m for m in mail.outbox if m.to == [consenting_member.email]]) == 1


def test_a_resolved_ticket_schedules_the_ticket_survey(program, consenting_member, staff, on_commit):
    SurveyFactory(program=program, kind=Survey.Kind.CSAT, trigger=Survey.Trigger.TICKET, delay_hours=1)
    with on_commit():
        ticket = services.ticket_open(member=consenting_member, subject="Late", body="Late delivery", channel="staff")
    with on_commit():
        services.ticket_transition(ticket=ticket, status="resolved", by=staff)
    invitation = Invitation.objects.get(member=consenting_member)
    assert invitation.reference == f"ticket:{ticket.pk}"
    assert invitation.send_at > timezone.now() + timedelta(minutes=59)


def test_relationship_nps_invites_reachable_high_value_members_every_n_months(program, send):
    gold = TierFactory(program=program, level=2)
    vip = MemberFactory(program=program, consent_email=True)
    member_services.tier_assign(member=vip, tier=gold, until=None, created_by=None)
    spender = MemberFactory(program=program, consent_email=True)
    member_services.purchase_record(
        member=spender, partner=None, external_id="big", amount=Decimal("900"), currency="EUR"
    )
    MemberFactory(program=program, consent_email=True)  # neither: never invited
    unreachable = MemberFactory(program=program, consent_email=False)
    member_services.tier_assign(member=unreachable, tier=gold, until=None, created_by=None)
    survey = SurveyFactory(
        program=program, trigger=Survey.Trigger.RELATIONSHIP, min_tier=gold, min_spend=Decimal("500"), every_months=6
    )
    with time_machine.travel("2026-01-10 06:00Z", tick=False):
        assert tasks.surveys_relationship_schedule.delay().get() == 2
    with time_machine.travel("2026-05-10 06:00Z", tick=False):
        assert services.surveys_relationship_schedule() == 0
    with time_machine.travel("2026-07-11 06:00Z", tick=False):
        send(SurveyFactory(program=program), vip, reference="other survey")  # quarantines the VIP
        assert services.surveys_relationship_schedule() == 1
    with time_machine.travel("2026-08-11 06:00Z", tick=False):
        assert services.surveys_relationship_schedule() == 1
    assert set(Invitation.objects.filter(survey=survey).values_list("member_id", flat=True)) == {vip.pk, spender.pk}


def test_staff_send_manually_and_skipped_members_are_logged(program, survey):
    willing = MemberFactory(program=program, consent_email=True)
    unwilling = MemberFactory(program=program, consent_email=False)
    result = tasks.survey_send_manual.delay(survey.pk, [willing.pk, unwilling.pk], "manual:wave").get()
    assert result == {"sent": 1, "skipped": 1}
    skipped = Invitation.objects.get(member=unwilling)
    assert skipped.skip_reason == Invitation.Skip.NO_CONSENT


def test_one_reminder_to_non_responders_after_n_days(program, survey, send):
    waiting = MemberFactory(program=program, consent_email=True)
    answered = MemberFactory(program=program, consent_email=True)
    with time_machine.travel("2026-03-01 09:00Z", tick=False):
        send(survey, waiting)
        done = send(survey, answered)
        question = survey.questions.get(kind="score")
        services.response_score(invitation=done, scores={question.pk: 10}, language="en")
    mail.outbox.clear()
    with time_machine.travel("2026-03-03 09:00Z", tick=False):
        assert services.invitations_remind_due() == 0
    with time_machine.travel("2026-03-04 09:00Z", tick=False):
        assert tasks.invitations_remind_due.delay().get() == 1
    with time_machine.travel("2026-03-05 09:00Z", tick=False):
        assert services.invitations_remind_due() == 0
    [reminder] = mail.outbox
    assert reminder.to == [waiting.email]
    assert reminder.subject.startswith("Reminder")


def test_no_reminder_once_the_link_has_expired(program, send):
    survey = SurveyFactory(program=program, reminder_days=5, expiry_days=3)
    member = MemberFactory(program=program, consent_email=True)
    with time_machine.travel("2026-03-01 09:00Z", tick=False):
        send(survey, member)
    mail.outbox.clear()
    with time_machine.travel("2026-03-07 09:00Z", tick=False):
        assert services.invitations_remind_due() == 0


def test_answering_earns_survey_points_and_reports_the_nps_to_the_member(program, survey, consenting_member, send):
    EarningRule.objects.create(
        program=program, name="Survey", kind=EarningRule.Kind.ENGAGEMENT, action="survey_completed", points=25
    )
    invitation = send(survey, consenting_member)
    question = survey.questions.get(kind="score")
    services.response_score(invitation=invitation, scores={question.pk: 9}, language="en")
    consenting_member.refresh_from_db()
    assert consenting_member.last_nps == 9
    assert consenting_member.points_available == 25


def test_invitations_of_a_switched_off_survey_or_an_inactive_member_are_skipped(program, consenting_member, send):
    survey = SurveyFactory(program=program)
    invitation = services.invitation_schedule(survey=survey, member=consenting_member, trigger="manual", reference="x")
    survey.is_active = False
    survey.save()
    services.invitation_send(invitation=invitation)
    invitation.refresh_from_db()
    assert invitation.skip_reason == Invitation.Skip.SURVEY_OFF
    member_services.member_set_status(member=consenting_member, status="suspended")
    other = send(SurveyFactory(program=program), consenting_member, reference="y")
    assert other.skip_reason == Invitation.Skip.INACTIVE
