"""The data export (/profile/my-data.json and the admin's GDPR export) holds what every app keeps
about the member, through each app's section in members.exports, and nothing about anyone else."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Delivery, OfferGrant, SegmentMember
from feedback import services as feedback_services
from members import auth, services
from rewards import services as rewards_services
from rewards.models import Badge, MemberBadge
from tests.campaigns.conftest import CampaignFactory, OfferFactory, SegmentFactory
from tests.feedback.conftest import SurveyFactory
from tests.rewards.conftest import RewardFactory

pytestmark = pytest.mark.django_db


def _everything_about(member, tag: str, staff) -> None:
    """Rows in every app for `member`, each carrying `tag` so the export can be searched for it."""
    program = member.program
    services.points_grant(member=member, points=500, reason="Start")
    reward = RewardFactory(program=program, title=f"Reward {tag}", points_cost=100)
    rewards_services.reward_redeem(member=member, reward=reward)
    badge = Badge.objects.create(program=program, name=f"Badge {tag}")
    MemberBadge.objects.create(member=member, badge=badge, awarded_at=timezone.now())

    ticket = feedback_services.ticket_open(
        member=member, subject=f"Ticket {tag}", body=f"Customer words {tag}", channel="member_page"
    )
    feedback_services.ticket_reply(ticket=ticket, author=staff, body=f"Reply {tag}")
    feedback_services.ticket_reply(ticket=ticket, author=staff, body=f"Internal note {tag}", internal=True)
    survey = SurveyFactory(program=program, title=f"Survey {tag}")
    invitation = feedback_services.invitation_schedule(
        survey=survey, member=member, trigger="manual", reference=f"manual:{tag}"
    )
    feedback_services.response_score(
        invitation=invitation, scores={survey.questions.get(kind="score").pk: 3}, language="en"
    )
    feedback_services.response_finish(
        invitation=invitation, answers={survey.questions.get(kind="text").pk: f"Comment {tag}"}, language="en"
    )

    campaign = CampaignFactory(program=program, name=f"Campaign {tag}")
    offer = OfferFactory(program=program, title=f"Offer {tag}")
    delivery = Delivery.objects.create(campaign=campaign, member=member, status="sent", channel="email")
    OfferGrant.objects.create(
        offer=offer,
        campaign=campaign,
        delivery=delivery,
        member=member,
        code=f"CODE-{tag}",
        valid_until=timezone.now(),
    )
    SegmentMember.objects.create(segment=SegmentFactory(program=program, name=f"Segment {tag}"), member=member)


def test_the_export_holds_every_apps_data_about_the_member_and_no_one_elses(client, program):
    staff = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")
    ana = auth.member_signup(program=program, email="ana@example.com", first_name="Ana")
    bob = auth.member_signup(program=program, email="bob@example.com", first_name="Bob")
    _everything_about(ana, "ANA", staff)
    _everything_about(bob, "BOB", staff)
    client.force_login(ana.user)

    data = json.loads(client.get(reverse("members:profile_export")).content)

    rewards, feedback, campaigns = data["rewards"], data["feedback"], data["campaigns"]
    assert [r["reward__title"] for r in rewards["redemptions"]] == ["Reward ANA"]
    assert [v["reward__title"] for v in rewards["vouchers"]] == ["Reward ANA"] and rewards["vouchers"][0]["code"]
    assert [b["badge__name"] for b in rewards["badges"]] == ["Badge ANA"]
    [ticket] = [t for t in feedback["tickets"] if t["subject"] == "Ticket ANA"]
    assert ticket["subject"] == "Ticket ANA"
    assert [m["body"] for m in ticket["messages"]] == ["Customer words ANA", "Reply ANA"]  # no internal note
    [response] = feedback["survey_responses"]
    assert response["survey__title"] == "Survey ANA" and response["score"] == "3.00"
    assert "Comment ANA" in [a["text"] for a in response["answers"]]
    assert [d["campaign__name"] for d in campaigns["deliveries"]] == ["Campaign ANA"]
    assert [(o["offer__title"], o["code"]) for o in campaigns["offers"]] == [("Offer ANA", "CODE-ANA")]
    assert campaigns["segments"] == ["Segment ANA"]
    text = json.dumps(data)
    assert "BOB" not in text and "Internal note" not in text
