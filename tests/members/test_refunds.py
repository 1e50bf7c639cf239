"""Refunds and what a purchase set off: referral rewards are taken back where the program says so,
from the referrer too (debt when spent), and each reversal answers what it changed."""

from decimal import Decimal

import pytest

from members import services
from members.models import LedgerEntry, Program
from tests.conftest import MemberFactory

from .conftest import assert_ledger_consistent, buy

pytestmark = pytest.mark.django_db


@pytest.fixture
def referral(program):
    program.referral_mode = Program.Referral.SINGLE
    program.referral_referrer_points = 100
    program.referral_referee_points = 50
    program.save()
    referrer = MemberFactory(program=program)
    friend = MemberFactory(program=program, referral_code=referrer.referral_code)
    return referrer, friend


def test_by_default_a_refund_leaves_the_referral_rewards(referral):
    referrer, friend = referral
    purchase = buy(friend, 40)
    reversal = services.purchase_reverse(purchase=purchase)
    assert (reversal.points, reversal.debt) == (40, 0)
    assert assert_ledger_consistent(friend).points_available == 50
    assert assert_ledger_consistent(referrer).points_available == 100


def test_where_the_program_says_so_a_refund_takes_back_both_referral_rewards(program, referral):
    Program.objects.filter(pk=program.pk).update(refund_takes_referral=True)
    referrer, friend = referral
    purchase = buy(friend, 40)
    services.points_spend(member=referrer, points=80, reason="Spent already")

    half = services.purchase_reverse(purchase=purchase, amount=Decimal("20"))
    # The buyer's answer: half of 40 and half of 50; the referrer loses half of 100 (30 owed).
    assert (half.points, half.debt) == (20 + 25, 0)
    friend_now, referrer_now = assert_ledger_consistent(friend), assert_ledger_consistent(referrer)
    assert friend_now.points_available == 45
    assert (referrer_now.points_available, referrer_now.points_debt) == (0, 30)

    services.purchase_reverse(purchase=purchase)
    friend_now, referrer_now = assert_ledger_consistent(friend), assert_ledger_consistent(referrer)
    assert (friend_now.points_available, friend_now.points_debt) == (0, 0)
    assert (referrer_now.points_available, referrer_now.points_debt) == (0, 80)
    taken = LedgerEntry.objects.get(member=referrer, kind=LedgerEntry.Kind.REVERSE, points=-20)
    assert (taken.reason, taken.purchase) == ("Referral #1", purchase)
