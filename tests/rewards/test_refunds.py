"""A refunded purchase takes back the challenge prize it completed and the automatic surprise it set
off, and its challenge progress goes back down."""

from decimal import Decimal

import pytest

from members import services as members_services
from members.models import LedgerEntry
from rewards.models import Challenge, ChallengeProgress, MemberBadge, Redemption, Voucher
from tests.rewards.conftest import BadgeFactory, ChallengeFactory, SurpriseRuleFactory, buy, fresh

pytestmark = pytest.mark.django_db


def _refund(purchase, on_commit, amount=None):
    with on_commit():
        return members_services.purchase_reverse(purchase=purchase, amount=amount)


def test_a_full_refund_takes_back_the_challenge_prize_and_reopens_the_challenge(member, program, on_commit):
    badge = BadgeFactory(program=program, name="Regular")
    challenge = ChallengeFactory(program=program, target=Decimal(2), points=50, badge=badge)
    with on_commit():
        buy(member, 10)
    with on_commit():
        completing = buy(member, 10)
    assert fresh(member).points_available == 10 + 10 + 50
    assert MemberBadge.objects.filter(member=member, badge=badge).exists()

    reversal = _refund(completing, on_commit)

    assert (reversal.points, reversal.debt) == (60, 0)
    assert fresh(member).points_available == 10
    prize_back = LedgerEntry.objects.get(member=member, kind=LedgerEntry.Kind.REVERSE, points=-50)
    assert prize_back.reason == f"Challenge completed: {challenge.title}"
    progress = ChallengeProgress.objects.get(challenge=challenge, member=member)
    assert (progress.value, progress.completed_at) == (1, None)
    assert not MemberBadge.objects.filter(member=member, badge=badge).exists()

    # The next purchase completes it again, and pays the prize again.
    with on_commit():
        buy(member, 10)
    assert fresh(member).points_available == 10 + 10 + 50


def test_a_partial_refund_takes_back_a_share_of_the_prize_and_lowers_spend(member, program, on_commit):
    spend = ChallengeFactory(program=program, metric=Challenge.Metric.SPEND, target=Decimal("500"), points=5)
    prize = ChallengeFactory(program=program, target=Decimal(1), points=50)
    with on_commit():
        purchase = buy(member, 100)
    assert fresh(member).points_available == 150

    reversal = _refund(purchase, on_commit, amount=Decimal("40"))

    assert (reversal.points, reversal.debt) == (40 + 20, 0)
    assert fresh(member).points_available == 90
    assert ChallengeProgress.objects.get(challenge=spend, member=member).value == Decimal("60")
    # Partly refunded, the purchase still counts: its challenge stays completed.
    assert ChallengeProgress.objects.get(challenge=prize, member=member).completed_at is not None


def test_a_full_refund_withdraws_the_surprise_the_purchase_set_off(member, program, on_commit):
    rule = SurpriseRuleFactory(reward__program=program, n=2)
    with on_commit():
        buy(member, 10)
    with on_commit():
        second = buy(member, 10)
    surprise = Redemption.objects.get(rule=rule, member=member)
    assert surprise.voucher.status == Voucher.Status.ISSUED

    _refund(second, on_commit, amount=Decimal("5"))  # partly refunded: still the second purchase
    assert Redemption.objects.get(pk=surprise.pk).status == Redemption.Status.COMPLETED

    _refund(second, on_commit)

    surprise = Redemption.objects.get(pk=surprise.pk)
    assert surprise.status == Redemption.Status.CANCELLED
    assert Voucher.objects.get(redemption=surprise).status == Voucher.Status.CANCELLED
