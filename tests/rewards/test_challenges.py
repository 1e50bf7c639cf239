"""Challenges: progress from members' events, completion once with points and a badge."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from members import services as members_services
from members.models import LedgerEntry, Program
from rewards import selectors
from rewards.models import Challenge, ChallengeProgress, MemberBadge
from tests.conftest import MemberFactory
from tests.rewards.conftest import BadgeFactory, ChallengeFactory, buy, fresh


def test_purchases_move_the_challenge_and_complete_it_once(member, program, on_commit):
    badge = BadgeFactory(program=program, name="Regular")
    challenge = ChallengeFactory(program=program, target=Decimal(3), points=50, badge=badge)
    for _ in range(2):
        with on_commit():
            buy(member, 10)
    [standing] = selectors.member_challenges(member=member)
    assert (standing.value, standing.percent, standing.completed_at) == (2, 66, None)

    for _ in range(2):
        with on_commit():
            buy(member, 10)

    progress = ChallengeProgress.objects.get(challenge=challenge, member=member)
    assert progress.completed_at is not None and progress.value == 3
    prize = LedgerEntry.objects.filter(member=member, reference=f"rewards.challenge:{challenge.pk}")
    assert list(prize.values_list("points", flat=True)) == [50]
    assert [b.badge for b in selectors.member_badges(member=member)] == [badge]
    [standing] = selectors.member_challenges(member=member)
    assert standing.percent == 100


def test_spend_counts_amounts(member, program, on_commit):
    ChallengeFactory(program=program, metric=Challenge.Metric.SPEND, target=Decimal("100"))
    with on_commit():
        buy(member, "60.50")
    with on_commit():
        buy(member, "39.49")
    [standing] = selectors.member_challenges(member=member)
    assert standing.value == Decimal("99.99") and standing.completed_at is None
    with on_commit():
        buy(member, "0.01")
    assert selectors.member_challenges(member=member)[0].completed_at is not None


def test_distinct_categories_are_counted_once(member, program, on_commit):
    ChallengeFactory(program=program, metric=Challenge.Metric.CATEGORIES, target=Decimal(3))
    for categories in (["shoes", "coffee"], ["coffee"], ["shoes"]):
        with on_commit():
            price = 30 / len(categories)
            buy(member, 30, items=[{"sku": "X", "category": c, "quantity": 1, "unit_price": price} for c in categories])
    [standing] = selectors.member_challenges(member=member)
    assert (standing.value, standing.categories, standing.completed_at) == (2, ["coffee", "shoes"], None)
    with on_commit():
        buy(member, 30, items=[{"sku": "B", "category": "books", "quantity": 1, "unit_price": "30"}])
    assert selectors.member_challenges(member=member)[0].completed_at is not None


def test_reviews_and_shares_come_from_engagement(member, program, on_commit):
    reviews = ChallengeFactory(program=program, metric=Challenge.Metric.REVIEWS, target=Decimal(2))
    shares = ChallengeFactory(program=program, metric=Challenge.Metric.SHARES, target=Decimal(5))
    with on_commit():
        members_services.points_engage(member=member, action="review", reference="sku-1")
    with on_commit():
        members_services.points_engage(member=member, action="review", reference="sku-1")  # same review: once
    with on_commit():
        members_services.points_engage(member=member, action="review", reference="sku-2")
    with on_commit():
        members_services.points_engage(member=member, action="social_share", reference="post-1")

    assert ChallengeProgress.objects.get(challenge=reviews, member=member).completed_at is not None
    assert ChallengeProgress.objects.get(challenge=shares, member=member).value == 1


def test_referrals_count_for_the_referrer(program, on_commit):
    program.referral_mode = Program.Referral.SINGLE
    program.referral_referrer_points = 100
    program.save()
    challenge = ChallengeFactory(program=program, metric=Challenge.Metric.REFERRALS, target=Decimal(2), points=300)
    referrer = MemberFactory(program=program)
    for _ in range(2):
        friend = MemberFactory(program=program, referral_code=referrer.referral_code)
        with on_commit():
            buy(friend, 25)
    assert ChallengeProgress.objects.get(challenge=challenge, member=referrer).completed_at is not None
    assert fresh(referrer).points_balance == 100 + 100 + 300


def test_events_outside_the_period_do_not_count(clock, member, program, on_commit):
    challenge = ChallengeFactory(
        program=program,
        target=Decimal(2),
        starts_at=timezone.now() + timedelta(days=1),
        ends_at=timezone.now() + timedelta(days=3),
    )
    with on_commit():
        buy(member, 10)  # before it starts
    clock.shift(timedelta(days=2))
    with on_commit():
        buy(member, 10)
    clock.shift(timedelta(days=2))
    with on_commit():
        buy(member, 10)  # after it ended
    assert ChallengeProgress.objects.get(challenge=challenge, member=member).value == 1
    assert selectors.member_challenges(member=member) == []


def test_a_completed_challenge_stays_on_the_page_after_it_ends(clock, member, program, on_commit):
    badge = BadgeFactory(program=program)
    ChallengeFactory(program=program, target=Decimal(1), points=0, badge=badge)
    with on_commit():
        buy(member, 10)
    clock.shift(timedelta(days=60))
    [standing] = selectors.member_challenges(member=member)
    assert standing.completed_at is not None
    assert MemberBadge.objects.filter(member=member, badge=badge).count() == 1
