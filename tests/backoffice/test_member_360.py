"""The member 360° page: one admin page per member, assembled from each app's selectors, with the
actions staff take from there; its query count does not grow with the member's history."""

import re
from html import unescape

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from feedback import services as feedback_services
from members import services as member_services
from members.models import Tier
from rewards import services as reward_services
from tests.conftest import TierFactory, at, buy, enroll
from tests.feedback.conftest import SurveyFactory
from tests.rewards.conftest import RewardFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("boss", "boss@example.com", "pw")


def _history(member, *, rounds: int, staff) -> None:
    """Purchases, a redemption, a ticket, a survey answer, an adjustment and a tier change, `rounds` times;
    then the top tier."""
    program = member.program
    reward = RewardFactory(program=program, points_cost=10)
    survey = SurveyFactory(program=program)
    score_question = survey.questions.get(kind="score")
    for i in range(rounds):
        buy(member, at(2026, 3, 1 + i), "80", ["coffee"])
        member_services.points_adjust(member=member, points=50, reason=f"Goodwill {i}", created_by=staff)
        member.refresh_from_db()
        reward_services.reward_redeem(member=member, reward=reward)
        feedback_services.ticket_open(member=member, subject=f"Question {i}", body="Hello", channel="staff")
        invitation = feedback_services.invitation_schedule(
            survey=survey, member=member, trigger="manual", reference=f"wave {i}"
        )
        feedback_services.invitation_send(invitation=invitation)
        feedback_services.response_score(invitation=invitation, scores={score_question.pk: 9}, language="en")
        tier = Tier.objects.filter(program=program, level=10 + i).first() or TierFactory(program=program, level=10 + i)
        member_services.tier_assign(member=member, tier=tier, until=None, created_by=staff)
    # Every member ends in the same tier, so the tier progress reads the same way.
    top = Tier.objects.filter(program=program, level=99).first() or TierFactory(program=program, level=99)
    member_services.tier_assign(member=member, tier=top, until=None, created_by=staff)


def _get(client, member):
    return client.get(reverse("admin:member_360", args=[member.pk]))


def test_the_page_shows_every_section_with_the_members_history(client, program, superuser):
    member = enroll(program, at(2026, 1, 5), consent_email=True)
    _history(member, rounds=2, staff=superuser)
    client.force_login(superuser)

    response = _get(client, member)

    assert response.status_code == 200
    page = unescape(response.content.decode())
    for heading in (
        "Profile and consents",
        "Tier history",
        "Points ledger",
        "Purchases",
        "Redemptions and vouchers",
        "Referrals",
        "Paid plans",
        "Survey answers",
        "Tickets",
        "Campaigns received",
        "Offers",
        "Badges and challenges",
        "Review cases",
        "Audit trail",
    ):
        assert f">{heading}" in page, heading
    assert "Goodwill 1" in page and "Question 1" in page and member.number in page
    assert 'name="action" value="adjust_points"' in page  # posts the member to the existing action


def test_every_link_and_action_on_the_page_opens(client, program, superuser):
    member = enroll(program, at(2026, 1, 5), consent_email=True)
    _history(member, rounds=1, staff=superuser)
    client.force_login(superuser)
    page = _get(client, member).content.decode()

    links = {unescape(href) for href in re.findall(r'href="(/admin/[^"]+)"', page)}
    assert len(links) > 15
    for link in links:
        assert client.get(link).status_code == 200, link
    changelist = reverse("admin:members_member_changelist")
    for action in re.findall(r'name="action" value="([a-z_]+)"', page):
        answer = client.post(changelist, {"action": action, "_selected_action": [member.pk], "index": 0})
        assert answer.status_code in (200, 302), action
    member.refresh_from_db()
    assert member.status == "suspended"  # "Suspend" asks nothing more; the others show their form first


def test_the_query_count_does_not_grow_with_the_history(client, program, superuser):
    small, large = (enroll(program, at(2026, 1, 5), consent_email=True) for _ in range(2))
    _history(small, rounds=1, staff=superuser)
    _history(large, rounds=4, staff=superuser)
    client.force_login(superuser)
    _get(client, small)  # warm caches (content types, sessions)

    with CaptureQueriesContext(connection) as few:
        assert _get(client, small).status_code == 200
    with CaptureQueriesContext(connection) as many:
        assert _get(client, large).status_code == 200

    assert len(many.captured_queries) == len(few.captured_queries) <= 30


def test_staff_without_the_view_permission_get_403_and_unknown_members_404(client, program):
    member = enroll(program, at(2026, 1, 5))
    clerk = User.objects.create_user("clerk", "c@example.com", "pw", is_staff=True)
    client.force_login(clerk)
    assert _get(client, member).status_code == 403

    clerk.user_permissions.add(Permission.objects.get(codename="view_member"))
    client.force_login(User.objects.get(pk=clerk.pk))
    page = _get(client, member).content.decode()
    assert 'value="adjust_points"' not in page and 'value="suspend"' not in page  # view only: no actions
    assert client.get(reverse("admin:member_360", args=[999999])).status_code == 404


def test_the_member_change_page_links_to_the_360_view(client, program, superuser):
    member = enroll(program, at(2026, 1, 5))
    client.force_login(superuser)

    page = client.get(reverse("admin:members_member_change", args=[member.pk])).content.decode()

    assert reverse("admin:member_360", args=[member.pk]) in page
