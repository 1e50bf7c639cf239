"""Redeeming from a household's pool: the redeemer's own points first, then the other members' oldest
lots; each debit on its owner's ledger naming the household and the redeemer; a cancellation gives
each member back their share; the ledger check holds throughout."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from core.errors import DomainError
from members import services as members_services
from members.models import LedgerEntry, Member, PointLot, Program
from members.reconciliation import reconciliation_run
from members.selectors import ledger_mismatches
from rewards import services
from tests.conftest import MemberFactory
from tests.members.conftest import assert_ledger_consistent
from tests.rewards.conftest import RewardFactory, fresh, give

pytestmark = pytest.mark.django_db


@pytest.fixture
def household_program(program) -> Program:
    Program.objects.filter(pk=program.pk).update(household_max_members=4)
    program.refresh_from_db()
    return program


def household_of(*members: Member):
    founder, *others = members
    household = members_services.household_create(member=founder, name="Pop family")
    for other in others:
        invitation = members_services.household_invite(member=fresh(founder), invitee=other.number)
        members_services.household_invitation_accept(invitation=invitation, member=fresh(other))
    return household


def test_a_pooled_redemption_takes_own_points_first_then_the_others_oldest_lots(household_program):
    ana, ion, eva = (MemberFactory(program=household_program) for _ in range(3))
    household = household_of(ana, ion, eva)
    give(ana, 100)
    give(eva, 150)  # Eva's lot is older than Ion's
    give(ion, 200)
    later = timezone.now() + timedelta(seconds=1)
    PointLot.objects.filter(member=ion).update(available_at=later)
    reward = RewardFactory(program=household_program, points_cost=300, title="Weekend for two")

    redemption = services.reward_redeem(member=fresh(ana), reward=reward, from_household=True)

    assert redemption.household_id == household.pk
    assert [assert_ledger_consistent(m).points_available for m in (ana, eva, ion)] == [0, 0, 150]
    entries = LedgerEntry.objects.filter(reference=f"rewards.redemption:{redemption.pk}").order_by("pk")
    assert [(e.member_id, e.points, e.kind) for e in entries] == [
        (ana.pk, -100, "redeem"),
        (eva.pk, -150, "redeem"),
        (ion.pk, -50, "redeem"),
    ]
    for entry in entries:
        assert "Pop family" in entry.member_reason and ana.first_name in entry.member_reason
        assert "Weekend for two" in entry.member_reason
    assert ledger_mismatches() == []
    with translation.override("ro"):  # the reason reads in the reader's language
        assert "gospodăria Pop family" in entries[1].member_reason
    assert reconciliation_run().ok  # the ledger check and the rewards' own checks (vouchers, stock)


def test_own_points_alone_pay_when_they_cover_the_cost(household_program):
    ana, ion = (MemberFactory(program=household_program) for _ in range(2))
    household_of(ana, ion)
    give(ana, 500)
    give(ion, 500)
    reward = RewardFactory(program=household_program, points_cost=300)
    redemption = services.reward_redeem(member=fresh(ana), reward=reward, from_household=True)
    assert LedgerEntry.objects.filter(reference=f"rewards.redemption:{redemption.pk}").count() == 1
    assert fresh(ion).points_available == 500


def test_without_from_household_only_own_points_count(household_program):
    ana, ion = (MemberFactory(program=household_program) for _ in range(2))
    household_of(ana, ion)
    give(ana, 100)
    give(ion, 500)
    reward = RewardFactory(program=household_program, points_cost=300)
    with pytest.raises(DomainError) as refused:
        services.reward_redeem(member=fresh(ana), reward=reward)
    assert refused.value.code == "insufficient_points"
    # The program's default decides when the caller does not.
    Program.objects.filter(pk=household_program.pk).update(household_pool_default=True)
    redemption = services.reward_redeem(member=fresh(ana), reward=reward)
    assert redemption.household_id is not None


def test_the_pool_refuses_what_it_does_not_cover_and_suspended_members_do_not_pool(household_program):
    ana, ion = (MemberFactory(program=household_program) for _ in range(2))
    household_of(ana, ion)
    give(ana, 100)
    give(ion, 300)
    Member.objects.filter(pk=ion.pk).update(status=Member.Status.SUSPENDED)
    reward = RewardFactory(program=household_program, points_cost=300)
    with pytest.raises(DomainError) as refused:
        services.reward_redeem(member=fresh(ana), reward=reward, from_household=True)
    assert refused.value.code == "insufficient_points"
    assert fresh(ion).points_available == 300


def test_cancelling_a_pooled_redemption_returns_each_member_their_share_even_after_leaving(household_program):
    ana, ion = (MemberFactory(program=household_program) for _ in range(2))
    household_of(ana, ion)
    give(ana, 100)
    give(ion, 300)
    reward = RewardFactory(program=household_program, points_cost=250)
    redemption = services.reward_redeem(member=fresh(ana), reward=reward, from_household=True)
    members_services.household_leave(member=fresh(ion))
    # What was spent from Ion stays spent when he leaves...
    assert fresh(ion).points_available == 150
    services.redemption_cancel(redemption=redemption)
    # ... and comes back to him if the redemption is cancelled.
    assert [assert_ledger_consistent(m).points_available for m in (ana, ion)] == [100, 300]
    assert ledger_mismatches() == []
