"""Loyalty types from behaviour, and `manage.py ledger_check`."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from members import services
from members.loyalty import LoyaltySignals, loyalty_type_for, loyalty_types_recompute
from members.models import Member, MembershipPlan
from tests.conftest import MemberFactory, TierFactory

from .conftest import buy, fresh

pytestmark = pytest.mark.django_db
Type = Member.LoyaltyType


@pytest.mark.parametrize(
    ("signals", "expected"),
    [
        (LoyaltySignals(purchases=2, nps=10, referrals=1), Type.ADVOCATE),
        (LoyaltySignals(purchases=2, nps=8, referrals=3), Type.SATISFIED),  # not a promoter
        (LoyaltySignals(purchases=1, points_earned=100, points_redeemed=60), Type.FREEBIE),
        (LoyaltySignals(purchases=4, discounted=2), Type.PRICE),
        (LoyaltySignals(purchases=3, tier_level=1), Type.PROGRAM),
        (LoyaltySignals(purchases=3, paid_plan=True), Type.PROGRAM),
        (LoyaltySignals(purchases=8, discounted=1, points_earned=100, points_redeemed=10), Type.CONVENIENCE),
        (LoyaltySignals(purchases=8, discounted=2), Type.SATISFIED),  # 25% discounted: no clear habit
        (LoyaltySignals(purchases=1, nps=3), Type.UNKNOWN),  # a detractor is not "satisfied"
        (LoyaltySignals(), Type.UNKNOWN),
    ],
)
def test_loyalty_rules(signals, expected):
    assert loyalty_type_for(signals) == expected


def test_recompute_reads_behaviour_from_the_database(program, clock):
    TierFactory(program=program, level=0)
    TierFactory(program=program, level=1, threshold=Decimal(100))
    bargain = MemberFactory(program=program)
    for _ in range(3):
        buy(bargain, 20, discount_amount=Decimal("5"))
    regular = MemberFactory(program=program)
    for _ in range(6):
        buy(regular, 10)
    hunter = MemberFactory(program=program)
    buy(hunter, 50)
    services.points_spend(member=hunter, points=40, reason="Gift")
    advocate = MemberFactory(program=program)
    buy(advocate, 10)
    buy(MemberFactory(program=program, referral_code=advocate.referral_code), 10)
    services.member_nps_set(member=advocate, score=10)
    vip = MemberFactory(program=program)
    buy(vip, 150)
    buy(vip, 10)
    plus = MembershipPlan.objects.create(program=program, name="Plus", fee=Decimal("9"))
    planned = MemberFactory(program=program)
    services.plan_subscribe(member=planned, plan=plus, paid_by="staff", payment_reference="PAY-1")
    buy(planned, 10)
    buy(planned, 10)
    idle = MemberFactory(program=program)

    counts = loyalty_types_recompute()
    assert counts[Type.PRICE] == 1 and counts[Type.ADVOCATE] == 1
    expected = {
        bargain: Type.PRICE,
        regular: Type.CONVENIENCE,
        hunter: Type.FREEBIE,
        advocate: Type.ADVOCATE,
        vip: Type.PROGRAM,
        planned: Type.PROGRAM,
        idle: Type.UNKNOWN,
    }
    assert {m: fresh(m).loyalty_type for m in expected} == expected
    assert fresh(bargain).loyalty_type_at is not None

    clock.shift(timedelta(days=400))  # a year without purchases: nothing recent to go by
    loyalty_types_recompute()
    assert fresh(regular).loyalty_type == Type.UNKNOWN


def test_ledger_check_passes_and_fails_with_a_non_zero_exit(member, capsys):
    services.points_grant(member=member, points=10, reason="Gift")
    call_command("ledger_check")
    assert "Ledger OK" in capsys.readouterr().out
    Member.objects.filter(pk=member.pk).update(points_available=11)  # corrupt the cache behind the ledger's back
    with pytest.raises(CommandError) as failed:
        call_command("ledger_check")
    assert failed.value.returncode == 1
    assert f"member {member.number}" in capsys.readouterr().err
    Member.objects.filter(pk=member.pk).update(points_available=10)
    call_command("ledger_check")
