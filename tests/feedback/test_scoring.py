"""Scoring and classification: boundaries, empty periods, only passives, each type's direction."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from feedback import scoring, selectors, services
from feedback.models import Survey
from tests.conftest import MemberFactory, TierFactory
from tests.feedback.conftest import SurveyFactory


@pytest.mark.parametrize(
    ("score", "category"),
    [(0, "detractor"), (6, "detractor"), (7, "passive"), (8, "passive"), (9, "promoter"), (10, "promoter")],
)
def test_nps_categories_at_their_boundaries(score, category):
    assert scoring.nps_category(score) == category


@pytest.mark.parametrize(
    ("kind", "score", "opens_ticket"),
    [("nps", 6, True), ("nps", 7, False), ("csat", 2, True), ("csat", 3, False), ("ces", 1, False), ("cli", 6, False)],
)
def test_detractors_and_unhappy_csat_need_a_follow_up(kind, score, opens_ticket):
    assert scoring.needs_follow_up(kind, Decimal(score)) is opens_ticket


def answer(survey, member, scores, follow=None):
    """Send the survey to the member and answer it through the services, as the page does."""
    invitation = services.invitation_schedule(
        survey=survey, member=member, trigger=survey.trigger, reference=f"test:{survey.pk}"
    )
    services.invitation_send(invitation=invitation)
    invitation.refresh_from_db()
    questions = list(survey.questions.filter(kind="score"))
    response = services.response_score(
        invitation=invitation, scores=dict(zip([q.pk for q in questions], scores, strict=True)), language="en"
    )
    if response.completed_at is None:
        response = services.response_finish(invitation=invitation, answers=follow or {}, language="en")
    return response


@pytest.fixture
def members(program):
    return [MemberFactory(program=program, consent_email=True) for _ in range(10)]


def test_an_empty_period_has_no_scores_rather_than_zero(program):
    figures = selectors.feedback_scores(program=program)
    assert figures["responses"] == 0
    assert figures["nps"] is None
    assert figures["csat"] is None
    assert figures["ces"] is None
    assert figures["cli"] is None
    assert figures["response_rate"] is None


def test_only_passives_give_an_nps_of_zero(program, members):
    survey = SurveyFactory(program=program, kind=Survey.Kind.NPS)
    for member, score in zip(members[:3], [7, 8, 7], strict=True):
        answer(survey, member, [score])
    figures = selectors.feedback_scores(program=program)
    assert (figures["promoters"], figures["passives"], figures["detractors"]) == (0, 3, 0)
    assert figures["nps"] == Decimal("0.0")


def test_nps_is_percent_promoters_minus_percent_detractors(program, members):
    survey = SurveyFactory(program=program, kind=Survey.Kind.NPS)
    for member, score in zip(members[:4], [10, 9, 8, 2], strict=True):
        answer(survey, member, [score], follow={})
    figures = selectors.feedback_scores(program=program)
    assert figures["nps"] == Decimal("25.0")  # 50% promoters - 25% detractors


def test_csat_is_the_share_of_4_and_5_ces_the_mean_and_cli_the_mean_of_three(program, members):
    csat = SurveyFactory(program=program, kind=Survey.Kind.CSAT)
    ces = SurveyFactory(program=program, kind=Survey.Kind.CES)
    cli = SurveyFactory(program=program, kind=Survey.Kind.CLI)
    for member, score in zip(members[:3], [5, 4, 3], strict=True):
        answer(csat, member, [score])
    for member, score in zip(members[3:5], [7, 4], strict=True):
        answer(ces, member, [score])
    first = answer(cli, members[5], [1, 2, 2])
    answer(cli, members[6], [2, 2, 1])
    assert first.score == Decimal("1.67")
    figures = selectors.feedback_scores(program=program)
    assert figures["csat"] == Decimal("66.7")
    assert figures["ces"] == Decimal("5.50")
    assert figures["cli"] == Decimal("1.67")  # 1 = definitely yes: lower is better
    assert figures["response_rate"] == Decimal("100.0")


def test_scores_by_tier_and_the_monthly_trend(program, members):
    gold = TierFactory(program=program, level=3, name="Gold")
    survey = SurveyFactory(program=program, kind=Survey.Kind.NPS)
    answer(survey, members[0], [10])
    answer(survey, members[1], [3], follow={})
    by_tier = {row["key"]: row for row in selectors.feedback_scores_by(dimension="tier", program=program)}
    assert by_tier[None]["nps"] == Decimal("0.0")
    assert gold.name not in by_tier
    trend = selectors.feedback_trend(program=program, months=3)
    assert [row["responses"] for row in trend] == [0, 0, 2]
    assert trend[-1]["month"] == timezone.localdate().replace(day=1)
    assert trend[0]["nps"] is None
    previous = selectors.feedback_scores(program=program, end=timezone.now() - timedelta(days=40))
    assert previous["responses"] == 0
