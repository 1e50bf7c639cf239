"""Admin: staff open and answer tickets, send surveys, and read the metrics with their CSV export."""

import csv
import io
from datetime import timedelta

from django.core import mail
from django.urls import reverse
from django.utils import timezone

from feedback import services
from feedback.models import Invitation, Ticket, TicketMessage
from tests.conftest import MemberFactory, TierFactory, at, buy, enroll
from tests.feedback.conftest import SurveyFactory


def test_staff_open_a_ticket_for_a_member(admin_client, member, on_commit):
    with on_commit():
        page = admin_client.post(
            reverse("admin:feedback_ticket_add"),
            {
                "member": member.pk,
                "subject": "Called the hotline",
                "body": "Points missing from last visit.",
                "category": "points",
                "priority": "high",
                "assignee": "",
            },
        )
    assert page.status_code == 302, page.context["adminform"].form.errors if page.context else ""
    ticket = Ticket.objects.get()
    assert ticket.channel == Ticket.Channel.STAFF
    assert ticket.priority == "high"
    assert mail.outbox[0].to == [member.email]


def test_staff_reply_note_and_move_a_ticket_from_its_page(admin_client, admin_user, member, on_commit):
    ticket = services.ticket_open(member=member, subject="Lost card", body="Please help", channel="member_page")
    mail.outbox.clear()
    with on_commit():
        page = admin_client.post(
            reverse("admin:feedback_ticket_change", args=[ticket.pk]),
            {
                "category": "points",
                "priority": "normal",
                "assignee": admin_user.pk,
                "new_status": "in_progress",
                "reply": "A new card is on its way.",
                "note": "Checked the CRM.",
            },
        )
    assert page.status_code == 302, page.context["adminform"].form.errors if page.context else ""
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee, ticket.category) == ("in_progress", admin_user, "points")
    kinds = list(ticket.messages.values_list("kind", flat=True))
    assert TicketMessage.Kind.REPLY in kinds and TicketMessage.Kind.NOTE in kinds
    assert [m.to for m in mail.outbox] == [[member.email]]
    detail = admin_client.get(reverse("admin:feedback_ticket_change", args=[ticket.pk])).content.decode()
    assert "Checked the CRM." in detail


def test_ticket_list_flags_overdue_and_actions_call_services(admin_client, member):
    ticket = services.ticket_open(member=member, subject="Slow", body="Slow", channel="staff")
    Ticket.objects.filter(pk=ticket.pk).update(due_at=ticket.created_at.replace(year=2000))
    listing = admin_client.get(reverse("admin:feedback_ticket_changelist") + "?sla=overdue")
    assert "Slow" in listing.content.decode()
    admin_client.post(
        reverse("admin:feedback_ticket_changelist"),
        {"action": "mark_resolved", "_selected_action": [ticket.pk]},
    )
    ticket.refresh_from_db()
    assert ticket.status == "resolved"


def test_staff_send_a_survey_to_a_tier(admin_client, program):
    gold = TierFactory(program=program, level=2)
    survey = SurveyFactory(program=program)
    inside = MemberFactory(program=program, consent_email=True)
    from members import services as member_services

    member_services.tier_assign(member=inside, tier=gold, until=None, created_by=None)
    MemberFactory(program=program, consent_email=True)
    later = timezone.now() + timedelta(days=2)
    services.invitation_schedule(
        survey=survey, member=inside, trigger="manual", reference="another wave", send_at=later
    )
    page = admin_client.post(
        reverse("admin:feedback_survey_send", args=[survey.pk]), {"tier": gold.pk, "loyalty_type": "", "numbers": ""}
    )
    assert page.status_code == 302
    wave = Invitation.objects.exclude(reference="another wave")
    assert list(wave.values_list("member_id", "status")) == [(inside.pk, "sent")]
    listing = admin_client.get(page.url)
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 1


def test_sending_needs_a_choice_of_members(admin_client, program):
    survey = SurveyFactory(program=program)
    page = admin_client.post(reverse("admin:feedback_survey_send", args=[survey.pk]), {"numbers": ""})
    assert page.status_code == 200
    assert not Invitation.objects.exists()


def test_metrics_page_shows_the_trend_and_exports_it_as_csv(admin_client, program, consenting_member, send):
    survey = SurveyFactory(program=program)
    invitation = send(survey, consenting_member)
    services.response_score(invitation=invitation, scores={survey.questions.get(kind="score").pk: 10}, language="en")
    page = admin_client.get(reverse("admin:feedback_metrics") + f"?program={program.pk}")
    assert page.status_code == 200
    assert "Trend by month" in page.content.decode()
    export = admin_client.get(reverse("admin:feedback_metrics") + f"?program={program.pk}&export=csv")
    rows = list(csv.DictReader(io.StringIO(export.content.decode())))
    assert len(rows) == 12
    assert rows[-1]["nps"] == "100.0" and rows[-1]["responses"] == "1" and rows[-1]["response_rate"] == "100.0"
    assert rows[0]["nps"] == ""
    short = admin_client.get(reverse("admin:feedback_metrics") + "?months=3&export=csv")
    assert len(list(csv.DictReader(io.StringIO(short.content.decode())))) == 3
    everything = admin_client.get(reverse("admin:feedback_metrics") + "?months=6").content.decode()
    assert "By program" in everything and program.name in everything


def test_admin_pages_render(admin_client, program, survey):
    for name in ("survey", "invitation", "response", "ticket", "slapolicy"):
        assert admin_client.get(reverse(f"admin:feedback_{name}_changelist")).status_code == 200
    assert (
        reverse("admin:feedback_metrics")
        in admin_client.get(reverse("admin:feedback_survey_changelist")).content.decode()
    )
    assert admin_client.get(reverse("admin:feedback_survey_change", args=[survey.pk])).status_code == 200
    assert admin_client.get(reverse("admin:feedback_ticket_add")).status_code == 200


def test_a_relationship_survey_must_say_who_is_high_value(admin_client, program):
    page = admin_client.post(
        reverse("admin:feedback_survey_add"),
        {
            "program": program.pk,
            "name": "Relationship",
            "kind": "nps",
            "is_active": "on",
            "title_en": "Recommend us?",
            "trigger": "relationship",
            "channel": "email",
            "delay_hours": 0,
            "every_months": 6,
            "quarantine_days": 30,
            "reminder_days": 3,
            "expiry_days": 14,
            "questions-TOTAL_FORMS": "0",
            "questions-INITIAL_FORMS": "0",
        },
    )
    assert page.status_code == 200
    assert "minimum tier or a minimum spend" in page.content.decode()


def test_selected_answers_export_as_csv_with_their_comments(admin_client, program, consenting_member, send):
    survey = SurveyFactory(program=program)
    invitation = send(survey, consenting_member)
    services.response_score(invitation=invitation, scores={survey.questions.get(kind="score").pk: 4}, language="en")
    services.response_finish(
        invitation=invitation, answers={survey.questions.get(kind="text").pk: "Too slow"}, language="en"
    )
    response = admin_client.post(
        reverse("admin:feedback_response_changelist"),
        {"action": "export_csv", "_selected_action": [invitation.response.pk]},
    )
    [row] = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert (row["member"], row["score"], row["category"]) == (consenting_member.number, "4.00", "detractor")
    assert row["comments"] == "What went wrong?: Too slow"


def test_a_ticket_page_shows_the_members_context(admin_client, program):
    member = enroll(program, at(2026, 3, 1))
    buy(member, at(2026, 3, 10), "42.50", ["coffee"])
    earlier = services.ticket_open(member=member, subject="Lost card", body="Lost it", channel="staff")
    ticket = services.ticket_open(member=member, subject="Slow", body="Slow", channel="staff")

    page = admin_client.get(reverse("admin:feedback_ticket_change", args=[ticket.pk])).content.decode()

    context = page[page.index('class="ticket-context"') : page.index('class="ticket-thread"')]
    assert "42.50" in context and earlier.number in context and "Lost card" in context
    assert reverse("admin:member_360", args=[member.pk]) in context
    assert ticket.number not in context  # its own ticket is no "previous ticket"
    assert '<table class="ticket-thread">' in page  # a class, not an inline style the CSP would block
