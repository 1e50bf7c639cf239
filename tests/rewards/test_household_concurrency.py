"""On PostgreSQL, two members of one household redeeming from its pool at once never overdraw it and
never deadlock: both take the household row lock, then all its members in id order."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.db import connection

from core.errors import DomainError
from members import services as members_services
from members.models import Program
from members.selectors import ledger_mismatches
from rewards import services
from rewards.models import Redemption
from tests.conftest import MemberFactory, ProgramFactory
from tests.members.conftest import assert_ledger_consistent
from tests.rewards.conftest import RewardFactory, fresh, give

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _together(calls) -> list[str]:
    barrier = Barrier(len(calls))

    def one(call) -> str:
        barrier.wait()
        try:
            call()
            return "ok"
        except DomainError as exc:
            return exc.code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(one, calls))


def _household():
    program = ProgramFactory()
    Program.objects.filter(pk=program.pk).update(household_max_members=2)
    ana, ion = MemberFactory(program=program), MemberFactory(program=program)
    members_services.household_create(member=ana)
    invitation = members_services.household_invite(member=fresh(ana), invitee=ion.number)
    members_services.household_invitation_accept(invitation=invitation, member=fresh(ion))
    return program, fresh(ana), fresh(ion)


def test_two_members_redeeming_from_the_pool_at_once_never_overdraw_it():
    program, ana, ion = _household()
    give(ana, 200)
    give(ion, 200)
    reward = RewardFactory(program=program, points_cost=300)
    results = _together(
        [
            lambda: services.reward_redeem(member=ana, reward=reward, from_household=True),
            lambda: services.reward_redeem(member=ion, reward=reward, from_household=True),
        ]
    )
    assert sorted(results) == ["insufficient_points", "ok"]
    assert assert_ledger_consistent(ana).points_available + assert_ledger_consistent(ion).points_available == 100
    assert Redemption.objects.count() == 1
    assert ledger_mismatches() == []


def test_many_pooled_redemptions_both_ways_never_deadlock_and_spend_exactly():
    program, ana, ion = _household()
    give(ana, 500)
    give(ion, 500)
    reward = RewardFactory(program=program, points_cost=70)
    calls = [
        (lambda: services.reward_redeem(member=ana, reward=reward, from_household=True))
        if i % 2
        else (lambda: services.reward_redeem(member=ion, reward=reward, from_household=True))
        for i in range(16)
    ]
    results = _together(calls)
    # 1,000 points pay 14 redemptions of 70; the last two find 20 left.
    assert sorted(results) == ["insufficient_points"] * 2 + ["ok"] * 14
    assert assert_ledger_consistent(ana).points_available + assert_ledger_consistent(ion).points_available == 20
    assert ledger_mismatches() == []
