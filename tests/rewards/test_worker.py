"""End to end on Redis with a real worker: a purchase reaches the rewards handlers through the outbox."""

import time
from decimal import Decimal

import pytest

from rewards.models import ChallengeProgress, Redemption
from tests.conftest import MemberFactory, ProgramFactory
from tests.rewards.conftest import ChallengeFactory, RewardFactory, SurpriseRuleFactory, buy

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _wait_for(check, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def test_first_purchase_fires_the_surprise_and_moves_the_challenge(celery_worker):
    program = ProgramFactory()
    rule = SurpriseRuleFactory(reward=RewardFactory(program=program, stock=5), n=1)
    challenge = ChallengeFactory(program=program, target=Decimal(2))
    member = MemberFactory(program=program)

    buy(member, 25)  # commits; the worker dispatches purchase.recorded to the rewards handlers

    assert _wait_for(lambda: Redemption.objects.filter(rule=rule, member=member).exists())
    assert _wait_for(lambda: ChallengeProgress.objects.filter(challenge=challenge, member=member, value=1).exists())
