"""Stock under real concurrency: the reward row lock lets exactly `stock` redemptions through."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.db import connection

from core.errors import DomainError
from members.models import Member
from rewards import services
from rewards.models import Redemption, Reward, Voucher
from tests.conftest import MemberFactory
from tests.rewards.conftest import RewardFactory, assert_ledger_consistent, give

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _run_together(n: int, work) -> list[str]:
    barrier = Barrier(n)

    def one(i: int) -> str:
        barrier.wait()
        try:
            work(i)
            return "ok"
        except DomainError as exc:
            return exc.code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(one, range(n)))


def test_30_concurrent_redemptions_of_a_stock_of_10_give_exactly_10(program):
    reward = RewardFactory(program=program, points_cost=100, stock=10)
    members = [give(MemberFactory(program=program), 100) for _ in range(30)]

    outcomes = _run_together(30, lambda i: services.reward_redeem(member=members[i], reward=reward))

    assert outcomes.count("ok") == 10
    assert outcomes.count("out_of_stock") == 20
    assert Reward.objects.get(pk=reward.pk).stock == 0
    assert Redemption.objects.filter(reward=reward).count() == 10
    assert Voucher.objects.filter(reward=reward, status="issued").count() == 10
    spent = Member.objects.filter(pk__in=[m.pk for m in members], points_available=0).count()
    assert spent == 10
    assert_ledger_consistent()


def test_concurrent_redemptions_of_imported_codes_never_share_a_code(program):
    reward = RewardFactory(program=program, points_cost=10)
    services.voucher_codes_import(reward=reward, data="\n".join(f"CARD{i:06d}" for i in range(5)))
    members = [give(MemberFactory(program=program), 10) for _ in range(12)]

    outcomes = _run_together(12, lambda i: services.reward_redeem(member=members[i], reward=reward))

    assert outcomes.count("ok") == 5
    handed_out = list(Voucher.objects.filter(reward=reward).exclude(member=None).values_list("member", flat=True))
    assert len(handed_out) == len(set(handed_out)) == 5
    assert_ledger_consistent()


def test_one_member_racing_for_a_once_only_reward_gets_it_once(program):
    reward = RewardFactory(program=program, points_cost=10, limit_per_member=1)
    member = give(MemberFactory(program=program), 1000)

    outcomes = _run_together(8, lambda i: services.reward_redeem(member=member, reward=reward))

    assert outcomes.count("ok") == 1 and outcomes.count("limit_reached") == 7
    assert Member.objects.get(pk=member.pk).points_available == 990


def test_one_member_racing_for_an_unlimited_reward_is_never_overdrawn(program):
    """An unlimited reward is not locked; the member row lock alone keeps the balance whole."""
    reward = RewardFactory(program=program, points_cost=100, stock=None)
    member = give(MemberFactory(program=program), 300)

    outcomes = _run_together(8, lambda i: services.reward_redeem(member=member, reward=reward))

    assert outcomes.count("ok") == 3 and outcomes.count("insufficient_points") == 5
    assert Member.objects.get(pk=member.pk).points_available == 0
    assert Redemption.objects.filter(reward=reward).count() == 3
    assert_ledger_consistent()
