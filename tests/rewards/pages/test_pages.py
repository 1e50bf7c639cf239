"""Rewards pages: catalog with reasons, confirmation step, vouchers with QR codes, dashboard panel."""

from decimal import Decimal

import pytest
from django.urls import reverse

from members import services
from members.models import Event, MembershipPlan, Subscription, Tier
from rewards import services as services_rewards
from rewards.models import Redemption, Reward, Voucher
from tests.conftest import ProgramFactory
from tests.members.pages.conftest import buy, signup
from tests.rewards.conftest import BadgeFactory, CauseFactory, ChallengeFactory, RewardFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rewards(program):
    silver = Tier.objects.get(program=program, level=1)
    gold_only = RewardFactory(program=program, title="Silver lounge", points_cost=10)
    gold_only.tiers.add(silver)
    return {
        "coffee": RewardFactory(
            program=program,
            title="Free coffee",
            points_cost=150,
            is_featured=True,
            kind=Reward.Kind.FREE_PRODUCT,
            min_order_value=Decimal("10"),
        ),
        "bag": RewardFactory(program=program, title="Tote bag", points_cost=1000),
        "lounge": gold_only,
        "plus": RewardFactory(program=program, title="Plus night", points_cost=5, members_only=True),
    }


def test_catalog_shows_what_can_be_redeemed_and_why_not(member_client, rewards):
    page = member_client.get(reverse("rewards:catalog"))
    assert [o.reward.title for o in page.context["available"]] == ["Free coffee"]
    text = page.text
    assert "800\u00a0points still needed" in text  # 1000 - 200 welcome points
    assert "Reserved for Silver" in text
    assert "reserved for paid members" in text


def test_catalog_queries_are_constant(member_client, program, django_assert_max_num_queries):
    for i in range(10):
        RewardFactory(program=program, title=f"R{i}").tiers.add(Tier.objects.get(program=program, level=1))
    with django_assert_max_num_queries(9):
        member_client.get(reverse("rewards:catalog"))


def test_redeem_asks_for_confirmation_then_issues_a_voucher_with_a_qr_code(member_client, member, rewards):
    url = reverse("rewards:redeem", args=[rewards["coffee"].pk])
    confirm = member_client.get(url)
    assert "Spend 150\u00a0points" in confirm.text and confirm.context["balance_after"] == 50
    assert not Redemption.objects.exists()  # GET changes nothing
    response = member_client.post(url)
    voucher = Voucher.objects.get(member=member)
    assert response.status_code == 302 and response.url == reverse("rewards:voucher", args=[voucher.pk])
    page = member_client.get(response.url)
    text = page.text
    assert "Ready to use" in text and "<svg" in text and 'role="img"' in text
    code = services_rewards.voucher_code_display(voucher.code)
    assert f'aria-label="QR code of voucher {code}"' in text and f'aria-label="Barcode of voucher {code}"' in text
    assert page.context["row"]["codes"].value == voucher.code  # the bare code, as the validate API takes it
    assert "on orders from 10.00 EUR" in text
    member.refresh_from_db()
    assert member.points_available == 50
    listing = member_client.get(reverse("rewards:vouchers"))
    assert "Free coffee" in listing.text and listing.context["rows"][0]["voucher"] == voucher


def test_viewing_a_reward_out_of_reach_is_recorded_for_the_abandoned_redemption_journey(member_client, member, rewards):
    member_client.get(reverse("rewards:redeem", args=[rewards["bag"].pk]))  # 1000 points, member has 200
    member_client.get(reverse("rewards:redeem", args=[rewards["coffee"].pk]))  # affordable: nothing recorded
    viewed = Event.objects.filter(member=member, type="reward.viewed")
    assert [e.payload for e in viewed] == [{"reward": rewards["bag"].pk, "points": 1000}]


def test_redeem_refusal_is_shown_not_a_500(member_client, member, rewards):
    page = member_client.get(reverse("rewards:redeem", args=[rewards["bag"].pk]))
    assert "800\u00a0points still needed." in page.text and "Spend" not in page.text
    response = member_client.post(reverse("rewards:redeem", args=[rewards["bag"].pk]), follow=True)
    assert "Not enough points" in response.text
    assert not Redemption.objects.exists()


def test_rewards_of_another_program_are_404(member_client):
    foreign = RewardFactory(program=ProgramFactory(), points_cost=1)
    assert member_client.get(reverse("rewards:redeem", args=[foreign.pk])).status_code == 404
    assert member_client.post(reverse("rewards:redeem", args=[foreign.pk])).status_code == 404


def test_another_members_voucher_is_404(member_client, program, rewards):
    other = signup(program, email="other@example.com")
    from rewards.services import reward_redeem

    redemption = reward_redeem(member=other, reward=rewards["coffee"])
    assert member_client.get(reverse("rewards:voucher", args=[redemption.voucher.pk])).status_code == 404
    assert redemption.voucher.code not in member_client.get(reverse("rewards:vouchers")).text


def test_voucher_states_and_donations(member_client, member, program):
    from rewards.services import reward_redeem

    cause = CauseFactory(program=program, name="Food bank")
    donation = RewardFactory(program=program, kind=Reward.Kind.CHARITY, cause=cause, points_cost=20, title="Donate")
    member_client.post(reverse("rewards:redeem", args=[donation.pk]))
    used = reward_redeem(member=member, reward=RewardFactory(program=program, title="Used one", points_cost=10))
    Voucher.objects.filter(pk=used.voucher.pk).update(status=Voucher.Status.CONSUMED)
    page = member_client.get(reverse("rewards:vouchers"))
    assert "Food bank" in page.text and "Used" in page.text
    assert page.context["rows"][0]["codes"] is None  # no QR code or barcode for a used voucher


def test_vouchers_page_queries_are_constant(member_client, member, program, django_assert_max_num_queries):
    from rewards.services import reward_redeem

    services.points_grant(member=member, points=1000, reason="test")
    for i in range(6):
        reward_redeem(member=member, reward=RewardFactory(program=program, points_cost=10, title=f"V{i}"))
    with django_assert_max_num_queries(9):
        member_client.get(reverse("rewards:vouchers"))


def test_dashboard_shows_featured_rewards_challenges_and_badges(
    member_client, member, program, rewards, on_commit, django_assert_max_num_queries
):
    badge = BadgeFactory(program=program, name="Regular", icon="☕")
    ChallengeFactory(program=program, title="Three visits", target=Decimal("3"), badge=badge)
    with on_commit():  # challenge progress follows the purchase event
        buy(member, 10)
    with django_assert_max_num_queries(16):
        page = member_client.get("/")
    text = page.text
    assert "Free coffee" in text and "Three visits" in text and "1 of 3" in text
    assert "Complete a challenge to earn your first badge." in text
    with on_commit():
        buy(member, 10)
    with on_commit():
        buy(member, 10)
    page = member_client.get("/")
    assert "☕</span> Regular" in page.text
    assert page.context["panels"][0].context["challenges"] == []  # completed: a badge, no longer a challenge


def test_members_only_reward_opens_with_a_plan(member_client, member, program, rewards):
    plan = MembershipPlan.objects.create(program=program, name="Plus", fee=10)
    member_client.post(reverse("members:membership_subscribe", args=[plan.pk]))
    page = member_client.get(reverse("rewards:catalog"))
    assert "Plus night" not in [o.reward.title for o in page.context["available"]]  # not paid yet
    services.plan_payment_record(
        subscription=Subscription.objects.get(member=member), reference="desk-1", paid_by="staff"
    )
    page = member_client.get(reverse("rewards:catalog"))
    assert "Plus night" in [o.reward.title for o in page.context["available"]]
