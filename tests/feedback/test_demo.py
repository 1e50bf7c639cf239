"""The feedback demo: each survey type, a year of answers with a rising NPS, tickets in every state; once."""

import pytest
from django.utils import timezone

from feedback import demo, selectors
from feedback.models import Response, Survey, Ticket
from members import demo as members_demo


@pytest.mark.django_db
def test_seed_builds_a_year_of_feedback_once():
    members_demo.seed()
    lines = demo.seed()
    program = members_demo.demo_program()

    assert set(Survey.objects.filter(program=program).values_list("kind", flat=True)) == set(Survey.Kind.values)
    assert Survey.objects.get(program=program, kind="nps").title_ro.startswith("Cât de probabil")
    assert Response.objects.filter(survey__program=program).count() >= 250
    trend = selectors.feedback_trend(program=program, months=12)
    assert all(row["responses"] for row in trend[:-1])
    first_half = sum(row["nps"] for row in trend[:6]) / 6
    second_half = sum(row["nps"] for row in trend[6:] if row["nps"] is not None) / len(
        [row for row in trend[6:] if row["nps"] is not None]
    )
    assert second_half > first_half + 10
    assert set(Ticket.objects.filter(program=program).values_list("status", flat=True)) == set(Ticket.Status.values)
    assert selectors.tickets_overdue(program=program, now=timezone.now()).exists()
    assert selectors.detractors_contacted(program=program)["share"] is not None
    assert lines[0].startswith("Feedback: 4 surveys")

    answers = Response.objects.count()
    assert demo.seed()[0].startswith("Feedback: demo surveys already present")
    assert Response.objects.count() == answers
