"""Points, tier and loyalty-type metrics against small histories computed by hand."""

from decimal import Decimal

import pytest
from django.utils import timezone

from members import services
from members.metrics import (
    loyalty_distribution,
    loyalty_reassigned_monthly,
    monthly_points,
    points_metrics,
    tier_distribution_monthly,
    tier_movements_monthly,
)
from members.models import Member, Program
from tests.conftest import MemberFactory, TierFactory, at, buy, enroll, on

FEB, MAR = at(2026, 2, 1, 0), at(2026, 3, 1, 0)


@pytest.fixture
def ledger(program):
    """Points lots expire after one month. M1 earns, spends, gets points back, is adjusted and has a
    purchase refunded; M2's January grant expires unused in February."""
    Program.objects.filter(pk=program.pk).update(expiry_policy=Program.Expiry.FIXED, expiry_months=1)
    program.refresh_from_db()
    m1, m2 = enroll(program, at(2026, 1, 2)), enroll(program, at(2026, 1, 2))
    on(at(2026, 1, 15), services.points_grant, member=m1, points=100, reason="January gift")
    on(at(2026, 1, 15), services.points_grant, member=m2, points=80, reason="January gift")
    buy(m1, at(2026, 2, 3), "200")
    on(at(2026, 2, 5), services.points_spend, member=m1, points=150, reason="Voucher")
    on(at(2026, 2, 6), services.points_refund, member=m1, points=30, reason="Voucher cancelled")
    on(at(2026, 2, 7), services.points_adjust, member=m1, points=20, reason="Goodwill", created_by=None)
    on(at(2026, 2, 8), services.points_adjust, member=m1, points=-5, reason="Correction", created_by=None)
    on(at(2026, 2, 16), services.points_expire_due)
    refunded = buy(m1, at(2026, 2, 20), "50")
    on(at(2026, 2, 21), services.purchase_reverse, purchase=refunded)
    return m1, m2


def test_points_metrics_match_the_hand_computed_example(program, ledger, scope_of):
    p = points_metrics(scope=scope_of(program, FEB, MAR))

    assert p.issued == 250  # purchases 200 + 50; the January grants are outside the period
    assert p.redeemed == 120  # 150 spent - 30 handed back
    assert p.expired == 80  # M2's January grant
    assert p.adjusted == 15  # +20 - 5
    assert p.reversed == 50  # the refunded purchase
    assert p.redemption_rate == Decimal("48.00")  # 120 / 250
    assert p.breakage == Decimal("32.00")  # 80 / 250
    assert p.liability_points == 195  # M1: 100 + 200 - 150 + 30 + 20 - 5 + 50 - 50; M2: 0
    assert p.liability_value == Decimal("1.95")  # x burn rate 0.01
    assert p.liability_points == sum(m.points_balance for m in Member.objects.filter(program=program))


def test_liability_is_what_members_held_at_the_end_of_the_period(program, ledger, scope_of):
    january = points_metrics(scope=scope_of(program, at(2026, 1, 1, 0), FEB))

    assert (january.issued, january.redeemed, january.liability_points) == (180, 0, 180)
    assert (january.redemption_rate, january.breakage) == (Decimal("0.00"), Decimal("0.00"))


def test_points_of_an_empty_period_are_zero_without_rates(program, ledger, scope_of):
    p = points_metrics(scope=scope_of(program, at(2025, 12, 1, 0), at(2026, 1, 1, 0)))

    assert (p.issued, p.redeemed, p.expired, p.adjusted, p.reversed, p.liability_points) == (0, 0, 0, 0, 0, 0)
    assert p.redemption_rate is None and p.breakage is None
    assert p.liability_value == Decimal("0.00")


def test_monthly_points_split_the_period_by_month(program, ledger, scope_of):
    rows = monthly_points(scope=scope_of(program, at(2026, 1, 1, 0), MAR))

    assert [(r.month.month, r.issued, r.redeemed, r.expired, r.adjusted) for r in rows] == [
        (1, 180, 0, 0, 0),
        (2, 250, 120, 80, 15),
    ]


@pytest.fixture
def tiers(program):
    bronze = TierFactory(program=program, name="Bronze", level=0)
    silver = TierFactory(program=program, name="Silver", level=1, threshold=Decimal("1000"))
    gold = TierFactory(program=program, name="Gold", level=2, threshold=Decimal("5000"))
    x, y, z = (enroll(program, at(2026, 1, 3)) for _ in range(3))
    on(at(2026, 2, 10), services.tier_assign, member=x, tier=gold, until=None, created_by=None)
    on(at(2026, 2, 20), services.tier_assign, member=y, tier=silver, until=None, created_by=None)
    on(at(2026, 3, 5), services.tier_assign, member=x, tier=silver, until=None, created_by=None)
    return bronze, silver, gold, (x, y, z)


def test_tier_distribution_at_each_month_end_comes_from_the_tier_history(program, tiers, scope_of):
    bronze, silver, gold, _ = tiers

    rows = tier_distribution_monthly(scope=scope_of(program, at(2026, 1, 1, 0), at(2026, 4, 1, 0)))

    assert rows == [
        (rows[0][0], {bronze.pk: 3}),
        (rows[1][0], {bronze.pk: 1, silver.pk: 1, gold.pk: 1}),
        (rows[2][0], {bronze.pk: 1, silver.pk: 2}),
    ]
    assert [month.month for month, _ in rows] == [1, 2, 3]


def test_tier_movements_count_upgrades_and_downgrades_per_month(program, tiers, scope_of):
    rows = tier_movements_monthly(scope=scope_of(program, at(2026, 1, 1, 0), at(2026, 4, 1, 0)))

    assert [(r.month.month, r.up, r.down) for r in rows] == [(1, 0, 0), (2, 2, 0), (3, 0, 1)]


def test_tier_history_of_an_empty_period(program, tiers, scope_of):
    scope = scope_of(program, at(2025, 6, 1, 0), at(2025, 7, 1, 0))

    assert [dist for _, dist in tier_distribution_monthly(scope=scope)] == [{}]
    assert [(r.up, r.down) for r in tier_movements_monthly(scope=scope)] == [(0, 0)]


def test_loyalty_distribution_lists_every_type_and_ignores_its_own_filter(program, scope_of):
    members = [MemberFactory(program=program) for _ in range(4)]
    Member.objects.filter(pk__in=[m.pk for m in members[:2]]).update(
        loyalty_type=Member.LoyaltyType.ADVOCATE, loyalty_type_at=at(2026, 2, 3)
    )
    Member.objects.filter(pk=members[2].pk).update(
        loyalty_type=Member.LoyaltyType.PRICE, loyalty_type_at=at(2026, 3, 3)
    )

    scope = scope_of(program, at(2026, 1, 1, 0), timezone.now(), loyalty_type=Member.LoyaltyType.PRICE)

    assert loyalty_distribution(scope=scope) == {
        "": 1,
        "satisfied": 0,
        "price": 1,
        "program": 0,
        "convenience": 0,
        "freebie": 0,
        "advocate": 2,
    }
    moves = {m.month: types for m, types in loyalty_reassigned_monthly(scope=scope) if any(types.values())}
    assert {month: {t: n for t, n in types.items() if n} for month, types in moves.items()} == {
        2: {"advocate": 2},
        3: {"price": 1},
    }
